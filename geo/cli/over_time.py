"""Time: ``compare`` (before and after a date) and ``playback`` (an animation of the view)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from geo.cli._common import (
    OPERATOR,
    UTC_DATE,
    echo,
    filter_options,
    filters_from,
    one_line_errors,
    progress_bar,
    scenario_option,
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
    /,
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
    from geo.render.compare_table import HEADERS, METHOD, display_rows, headers, heading
    from geo.render.text import localized
    from geo.services.comparison import compare_store

    result = compare_store(
        store_of(ctx), actor=OPERATOR, at=at, weeks=weeks, filters=filters_from(**kw), scenario=scenario_id
    )
    comparison = result.comparison
    if as_json:
        for record in comparison.records():
            echo(json.dumps({"at": f"{comparison.at:%Y-%m-%d}", **record}, ensure_ascii=False))
        for note in result.notes:
            echo(note, err=True)
        return
    rows = display_rows(comparison, localized(result.scenario), nonempty=not all_rows)[list(HEADERS)]
    rows.columns = headers()
    echo(heading(comparison))
    if rows.empty:
        echo(_("No incident in these weeks."))
    else:
        widths = {c: max(len(str(c)), *(len(str(v)) for v in rows[c])) for c in rows.columns}
        echo("  ".join(str(c).ljust(widths[c]) for c in rows.columns).rstrip())
        for row in rows.itertuples(index=False):
            echo("  ".join(str(v).ljust(widths[c]) for c, v in zip(rows.columns, row, strict=True)).rstrip())
    empty = int(((comparison.table["before"] + comparison.table["after"]) == 0).sum())
    if empty and not all_rows:
        echo(
            _("{count} zone × party pairs with no incident on either side are not listed.").format(
                count=empty
            )
        )
    for note in result.notes:
        echo(_("Note: {note}").format(note=note))
    echo(_(METHOD))


@cli.command("playback")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The .gif or .mp4 to write (its suffix decides).",
)
@click.option(
    "--step", default="week", show_default=True, type=click.Choice(["day", "week"]), help="One frame per."
)
@click.option(
    "--window",
    "window_days",
    type=click.IntRange(1, 366),
    help="Days each frame shows, ending with its step (default: the step).",
)
@click.option("--cumulative", is_flag=True, help="Each frame shows everything since the first.")
@click.option("--last", type=click.IntRange(1, 1000), help="Only the last N steps (to --until, else now).")
@click.option("--seconds", default=1.0, show_default=True, type=click.FloatRange(0.1, 60), help="Per frame.")
@click.option("--size", default="16:9", show_default=True, type=click.Choice(["16:9", "a4"]))
@click.option("--dpi", default=120, show_default=True, type=click.IntRange(72, 200))
@click.option("--title", help="Title (default: the scenario's name).")
@filter_options
@scenario_option
@click.pass_context
@one_line_errors
def playback_cmd(
    ctx: click.Context,
    /,
    out: str,
    step: str,
    window_days: int | None,
    cumulative: bool,
    last: int | None,
    seconds: float,
    size: str,
    dpi: int,
    title: str | None,
    **kw: Any,
) -> None:
    """Write an animation (GIF or MP4) of the filtered incidents over time, one frame per day or week.

    Frames step from the start of the window (--since, --last N, else the first incident)
    to its end (--until, else now). Each frame is the map image of its days, with the
    date, the legend, the scale bar and, for synthetic data, the banner.
    """
    from pathlib import Path

    from geo.i18n import _, language
    from geo.render.animation import read_info
    from geo.services.exports import ANIMATION_TYPES, export_animation

    fmt = Path(out).suffix.lower().lstrip(".")
    if fmt not in ANIMATION_TYPES:
        raise click.BadParameter(f"{out}: the suffix must be .gif or .mp4", param_hint="--out")
    filters = filters_from(**kw)
    with progress_bar("frames", unit=" frames") as update:
        result = export_animation(
            store_of(ctx),
            fmt,
            filters,
            actor=OPERATOR,
            step=step,
            window_days=window_days,
            cumulative=cumulative,
            last=last,
            size=size,
            dpi=dpi,
            title=title,
            seconds=seconds,
            progress=lambda done, total: update(done, total, ""),
            lang=language(),
        )
    Path(out).write_bytes(result.data)
    dates = read_info(result.data).dates
    echo(
        _("{out}: {frames} frames, {first} to {last}, {rows} incidents, {size} bytes").format(
            out=out,
            frames=len(dates),
            first=dates[0],
            last=dates[-1],
            rows=f"{result.rows:,}",
            size=f"{len(result.data):,}",
        )
    )
