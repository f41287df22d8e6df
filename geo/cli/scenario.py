"""``scenario validate|load|show``: check, load and show scenario manifests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geo.cli._common import (
    echo,
    one_line_errors,
    progress_bar,
    store_of,
)
from geo.cli._group import cli


@cli.group()
def scenario() -> None:
    """Check, load and show scenario manifests."""


@scenario.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def scenario_validate(path: str) -> None:
    """Check a manifest: one line per problem, naming file and key; exit 1 if any."""
    from geo.core.manifest import validate_manifest

    problems = validate_manifest(path)
    for line in problems:
        echo(line)
    if problems:
        sys.exit(1)
    echo(f"{path}: ok")


@scenario.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid, and report it.")
@click.pass_context
@one_line_errors
def scenario_load(ctx: click.Context, path: str, repair: bool) -> None:
    """Load or replace the scenario and reclassify every incident, in one transaction."""
    from geo.core.manifest import load_scenario
    from geo.services.ingest import load_scenario_into_store

    scen = load_scenario(path, repair=repair)
    for line in scen.repairs:
        echo(f"repaired: {line}", err=True)
    store = store_of(ctx)
    with progress_bar("reclassifying") as progress:
        result = load_scenario_into_store(store, scen, manifest=str(Path(path).resolve()), progress=progress)
    echo(
        f"loaded {scen.name!r}: {len(scen.zones)} zones, {len(scen.rules)} rules; "
        f"{result.total} incidents reclassified, {result.changed} verdicts changed"
    )


@scenario.command("show")
@click.pass_context
@one_line_errors
def scenario_show(ctx: click.Context) -> None:
    """Print the stored scenario."""
    scen = store_of(ctx).scenario()
    if scen is None:
        raise click.ClickException("no scenario loaded")
    echo(f"{scen.name}{' (synthetic data)' if scen.synthetic else ''}")
    for p in scen.parties:
        echo(f"  party {p.id}: {p.name}")
    for ln in scen.lines:
        echo(f"  line {ln.id}: {ln.name} (left: {ln.left_party}, right: {ln.right_party})")
    for z in scen.zones:
        how = f"{z.width_m:g} m {z.side} of {z.line}" if z.derived else f"drawn ({z.source})"
        echo(f"  zone {z.id}: {z.name} [{z.kind}] {how}")
    for r in scen.rules:
        echo(f"  rule {r.id} in {r.zone}: {', '.join(r.prohibits)} for {', '.join(r.parties)}")
