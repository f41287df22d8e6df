"""Time: ``compare`` (before and after a date) and ``playback`` (an animation of the view)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from geo.cli._common import (
    OPERATOR,
    UTC_DATE,
    filters_from,
    one_line_errors,
    store_of,
    value_filter_options,
)
from geo.cli._group import cli


@cli.command("compare")
@click.option("--at", type=UTC_DATE, help="The date to compare around (default: the agreement date).")
@click.option(
    "--weeks", default=8, show_default=True, type=click.IntRange(1, 104), help="Weeks on each side."
)
@click.option("--scenario", "scenario_id", metavar="ID", help="The scenario (default: the store's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per zone × party (JSON lines).")
@click.option(
    "--all-rows", is_flag=True, help="Also list zone × party pairs with no incident on either side."
)
@value_filter_options
@click.pass_context
@one_line_errors
def compare_cmd(
    ctx: click.Context,
    at: datetime | None,
    weeks: int,
    scenario_id: str | None,
    as_json: bool,
    all_rows: bool,
    **kw: Any,
) -> None:
    """Incidents per week before and after a date, per zone × party, with the rate ratio and an exact test.

    DATE defaults to the scenario's agreement date (the earliest valid_from of its rules).
    Each row gives the incidents of the weeks before and after, the rate ratio after/before
    with its exact 95% confidence interval, and the p-value of the exact test of no change.
    --zone chooses the rows; the other filters choose the incidents that count.
    """
    from geo.i18n import _
    from geo.render.compare_table import METHOD, display_rows, heading
    from geo.services.comparison import compare_store

    result = compare_store(
        store_of(ctx), actor=OPERATOR, at=at, weeks=weeks, filters=filters_from(**kw), scenario=scenario_id
    )
    comparison = result.comparison
    if as_json:
        for record in comparison.records():
            click.echo(json.dumps({"at": f"{comparison.at:%Y-%m-%d}", **record}, ensure_ascii=False))
        for note in result.notes:
            click.echo(note, err=True)
        return
    rows = display_rows(comparison, result.scenario, nonempty=not all_rows).drop(columns=["zone", "party"])
    click.echo(heading(comparison))
    if rows.empty:
        click.echo(_("No incident in these weeks."))
    else:
        widths = {c: max(len(str(c)), *(len(str(v)) for v in rows[c])) for c in rows.columns}
        click.echo("  ".join(str(c).ljust(widths[c]) for c in rows.columns).rstrip())
        for row in rows.itertuples(index=False):
            click.echo(
                "  ".join(str(v).ljust(widths[c]) for c, v in zip(rows.columns, row, strict=True)).rstrip()
            )
    empty = int(((comparison.table["before"] + comparison.table["after"]) == 0).sum())
    if empty and not all_rows:
        click.echo(
            _("{count} zone × party pairs with no incident on either side are not listed.").format(
                count=empty
            )
        )
    for note in result.notes:
        click.echo(_("Note: {note}").format(note=note))
    click.echo(_(METHOD))
