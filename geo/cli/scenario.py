"""``scenario validate|load|show``: check, load and show scenario manifests."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geo.cli._common import (
    echo,
    one_line_errors,
    progress_bar,
    scenario_option,
    store_of,
)
from geo.cli._group import cli


@cli.group()
def scenario() -> None:
    """Check, load and show scenario manifests."""


@scenario.command("validate")
@click.argument("path")
def scenario_validate(path: str) -> None:
    """
    Check a manifest, or a scenario pack (an id such as lebanon-2024, or a pack folder).

    One line per problem, naming file and key; exit 1 if any.
    """
    from geo.core.manifest import validate_manifest
    from geo.services.packs import PACKS_DIR, validate_pack

    target = Path(path)
    is_pack = (target / "pack.toml").is_file() or (
        not target.suffix and (PACKS_DIR / path / "pack.toml").is_file()
    )
    problems = validate_pack(target if target.is_dir() else path) if is_pack else validate_manifest(path)
    for line in problems:
        echo(line)
    if problems:
        sys.exit(1)
    echo(f"{path}: ok")


@scenario.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid, and report it.")
@scenario_option
@click.pass_context
@one_line_errors
def scenario_load(ctx: click.Context, path: str, repair: bool) -> None:
    """Load or replace the scenario and reclassify every incident, in one transaction."""
    from geo.core.manifest import load_scenario
    from geo.services.ingest import load_scenario_into_store

    scen = load_scenario(path, repair=repair)
    for line in scen.repairs:
        echo(f"repaired: {line}", err=True)
    store = store_of(ctx, create=True)
    if not ctx.find_root().obj.get("scenario") and not store.scenario_ids():
        store = store.using(_id_from(Path(path)))  # the first scenario of a store: named after its file
    with progress_bar("reclassifying") as progress:
        result = load_scenario_into_store(store, scen, manifest=str(Path(path).resolve()), progress=progress)
    echo(
        f"loaded {scen.name!r} as scenario {store.scenario_id!r}: {len(scen.zones)} zones, "
        f"{len(scen.rules)} rules; "
        f"{result.total} incidents reclassified, {result.changed} verdicts changed"
    )


def _id_from(path: Path) -> str:
    """A scenario id from a manifest's file name: letters, digits, ``_``, ``.`` and ``-``."""
    text = "".join(c if c.isalnum() or c in "_.-" else "-" for c in path.stem).strip("-.")[:64]
    return text or "default"


@scenario.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of a table.")
@click.pass_context
@one_line_errors
def scenario_list(ctx: click.Context, as_json: bool) -> None:
    """List the scenarios in the store: id, incidents, what the data is, name (* the default)."""
    import json

    store = store_of(ctx)
    default = store.using(None).scenario_id
    rows = []
    for sid in store.scenario_ids():
        scoped = store.using(sid)
        meta = scoped.scenario_meta()
        kind = meta.get("data") or ("synthetic" if meta.get("synthetic") else "real")
        rows.append({"id": sid, "default": sid == default, "incidents": scoped.count(), "data": kind,
                     "name": meta.get("name", "")})
    if as_json:
        echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        echo("no scenario loaded (python -m geo demo, or python -m geo scenario load PATH)")
    for r in rows:
        mark = "*" if r["default"] else " "
        echo(f"{mark} {r['id']:<16} {r['incidents']:>9,} incidents  {r['data']:<9}  {r['name']}")


@scenario.command("show")
@scenario_option
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
