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
    from geo.i18n import _

    echo(_("{path}: ok").format(path=path))


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
    from geo.i18n import _
    from geo.localize import number
    from geo.render.text import localized

    echo(
        _(
            "loaded {name} as scenario {id}: {zones} zones, {rules} rules; "
            "{total} incidents reclassified, {changed} verdicts changed"
        ).format(
            name=repr(localized(scen).name),
            id=repr(store.scenario_id),
            zones=number(len(scen.zones)),
            rules=number(len(scen.rules)),
            total=number(result.total),
            changed=number(result.changed),
        )
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
        rows.append(
            {
                "id": sid,
                "default": sid == default,
                "incidents": scoped.count(),
                "data": kind,
                "name": meta.get("name", ""),
            }
        )
    if as_json:
        echo(json.dumps(rows, ensure_ascii=False))
        return
    from geo.i18n import N_, _, ngettext
    from geo.localize import number

    kinds = {"real": N_("real"), "synthetic": N_("synthetic"), "mixed": N_("mixed")}
    if not rows:
        echo(_("no scenario loaded (python -m geo demo, or python -m geo scenario load PATH)"))
    for r in rows:
        mark = "*" if r["default"] else " "
        count = ngettext("{count} incident", "{count} incidents", r["incidents"]).format(
            count=number(r["incidents"])
        )
        name = store.using(r["id"]).scenario()
        shown = _localized_name(name, r["name"])
        kind = _(kinds[r["data"]]) if r["data"] in kinds else r["data"]
        echo(f"{mark} {r['id']:<16} {count:>18}  {kind:<9}  {shown}")


@scenario.command("show")
@scenario_option
@click.pass_context
@one_line_errors
def scenario_show(ctx: click.Context) -> None:
    """Print the stored scenario."""
    from geo.i18n import _
    from geo.localize import number
    from geo.render.text import localized

    stored = store_of(ctx).scenario()
    if stored is None:
        raise click.ClickException(_("no scenario loaded"))
    scen = localized(stored)
    echo(scen.name + (" " + _("(synthetic data)") if scen.synthetic else ""))
    for p in scen.parties:
        echo("  " + _("party {id}: {name}").format(id=p.id, name=p.name))
    for ln in scen.lines:
        echo(
            "  "
            + _("line {id}: {name} (left: {left}, right: {right})").format(
                id=ln.id, name=ln.name, left=ln.left_party or "—", right=ln.right_party or "—"
            )
        )
    for z in scen.zones:
        how = (
            _("{width} m {side} of {line}").format(width=number(z.width_m or 0), side=z.side, line=z.line)
            if z.derived
            else _("drawn ({source})").format(source=z.source)
        )
        echo("  " + _("zone {id}: {name} [{kind}] {how}").format(id=z.id, name=z.name, kind=z.kind, how=how))
    for r in scen.rules:
        echo(
            "  "
            + _("rule {id} in {zone}: {prohibits} for {parties}").format(
                id=r.id, zone=r.zone, prohibits=", ".join(r.prohibits), parties=", ".join(r.parties)
            )
        )
        echo("    " + _("“{text}”").format(text=r.text))


def _localized_name(scenario: object, plain: str) -> str:
    """A stored scenario's name in the language of the run (its manifest's translation), else ``plain``."""
    from geo.core.model import Scenario
    from geo.i18n import language

    if isinstance(scenario, Scenario):
        return scenario.text("scenario.name", language(), plain)
    return plain
