"""Briefing files: ``snapshot`` (PNG) and ``brief`` (PDF)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from geo.cli._common import (
    UTC_DATE,
    filter_options,
    filters_from,
    one_line_errors,
    scenario_option,
    write_export,
)
from geo.cli._group import cli


@cli.command("snapshot")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PNG to write.")
@click.option("--size", default="a4", type=click.Choice(["a4", "16:9"]), show_default=True)
@click.option("--dpi", default=200, type=click.IntRange(150, 300), show_default=True)
@click.option("--bbox", type=(float, float, float, float), help="West south east north, in degrees.")
@click.option("--title", help="Title (default: the scenario's name).")
@filter_options
@scenario_option
@click.pass_context
@one_line_errors
def snapshot_cmd(
    ctx: click.Context,
    /,
    out: str,
    size: str,
    dpi: int,
    bbox: tuple[float, ...] | None,
    title: str | None,
    **kw: Any,
) -> None:
    """Write a map snapshot (PNG) of the filtered incidents."""
    write_export(ctx, "png", out, filters_from(**kw), size=size, dpi=dpi, bbox=bbox, title=title)


@cli.command("brief")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PDF to write.")
@click.option("--title", help="Title (default: the scenario's name).")
@click.option(
    "--compare-at",
    type=UTC_DATE,
    help="Date of the before/after table (default: the agreement date; see compare).",
)
@click.option(
    "--evidence",
    "evidence",
    multiple=True,
    metavar="SHA256",
    help="An evidence image to print with its SHA-256, without EXIF (repeatable; see evidence list).",
)
@filter_options
@scenario_option
@click.pass_context
@one_line_errors
def brief_cmd(
    ctx: click.Context,
    /,
    out: str,
    title: str | None,
    compare_at: datetime | None,
    evidence: tuple[str, ...],
    **kw: Any,
) -> None:
    """Write a PDF briefing: map, KPIs, trend, spike alerts, before/after the agreement, table of breaches."""
    write_export(ctx, "pdf", out, filters_from(**kw), title=title, compare_at=compare_at, evidence=evidence)
