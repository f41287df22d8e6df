"""The trend chart: breaches and possible breaches per day or week, by party, periods shaded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
from matplotlib import dates as mdates
from matplotlib.ticker import FuncFormatter

from geo.core import trends
from geo.core.model import Scenario
from geo.i18n import _, is_rtl, language
from geo.localize import month_day, month_year, number
from geo.render.figure import new_figure, png_bytes
from geo.render.fonts import font, font_families
from geo.render.palette import UNATTRIBUTED_COLOUR, UNATTRIBUTED_LABEL, VERDICT_PLURALS, party_colours
from geo.render.pdf.period import SPIKE_LOOKBACK, Period

MOST_TICKS = 9
"""Dates labelled on the chart's time axis, at most."""
DAYS_LABELLED = 200
"""Up to this many days, the time axis is labelled with days; beyond, with months and years."""
CHART_IN = (10.6, 2.2)
"""The chart's size in inches (it is printed across the page's width)."""


def trend_png(history: pd.DataFrame, scenario: Scenario, period: Period, dpi: int) -> bytes:
    """The trend chart as PNG: breaches (solid) and possible breaches (dashed) by party."""
    start = min(period.previous_start, period.end - SPIKE_LOOKBACK)
    occurred = pd.to_datetime(history["occurred_at"], utc=True)
    span = history[(occurred >= start) & (occurred < period.end)]
    freq = "day" if period.end - start <= pd.Timedelta(days=92) else "week"
    fig = new_figure(*CHART_IN, dpi)
    ax = fig.add_axes((0.06, 0.17, 0.74, 0.70))
    ax.axvspan(period.previous_start, period.start, color="#eef1f4", zorder=0, label=_("Previous period"))
    ax.axvspan(period.start, period.end, color="#fdf2d0", zorder=0, label=_("Period"))
    colours = party_colours(scenario)
    names = {p.id: p.short_name or p.name for p in scenario.parties}
    for verdict, style in (("breach", "-"), ("possible_breach", "--")):
        counts = trends.counts(span, by=("party",), freq=freq, verdicts=(verdict,))
        grid = counts.pivot_table(
            index="period", columns="party", values="count", aggfunc="sum", fill_value=0
        )
        step = "D" if freq == "day" else "W-MON"
        full = pd.date_range(_floor(start, freq), period.end, freq=step, tz="UTC")
        grid = grid.reindex(full.union(grid.index), fill_value=0)
        for party in grid.columns:
            pid = "" if party == trends.UNATTRIBUTED else party
            ax.plot(
                grid.index,
                grid[party],
                linestyle=style,
                linewidth=1.6 if style == "-" else 1.1,
                color=colours.get(pid, UNATTRIBUTED_COLOUR),
                drawstyle="steps-post",
                label=f"{names.get(pid, _(UNATTRIBUTED_LABEL))}: {_(VERDICT_PLURALS[verdict]).lower()}",
            )
    ax.set_xlim(start, period.end)
    locator, tick_label = date_ticks(start, period.end)
    ax.xaxis.set_major_locator(locator)
    ax.set_ylim(bottom=0)
    per = _("incidents per day") if freq == "day" else _("incidents per week")
    ax.set_ylabel(per, fontproperties=font(8), parse_math=False)
    if language() == "en":
        dates = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
            ax.xaxis.get_major_locator(), show_offset=False
        )
        ax.xaxis.set_major_formatter(dates)
    else:  # the month named in the language of the run (Babel)
        day_of = mdates.num2date  # untyped in matplotlib
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: tick_label(day_of(x))))  # type: ignore[no-untyped-call]
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: number(y) if y == int(y) else ""))
    ax.tick_params(labelsize=7.5, labelfontfamily=list(font_families()))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    title = (
        _("Breaches (solid) and possible breaches (dashed) per day, by attributed party")
        if freq == "day"
        else _("Breaches (solid) and possible breaches (dashed) per week, by attributed party")
    )
    ax.set_title(
        title,
        loc="right" if is_rtl() else "left",
        fontproperties=font(9, weight="bold"),
        parse_math=False,
    )
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, prop=font(7.5))
    for label in legend.get_texts():
        label.set_parse_math(False)  # party names are text, never mathtext
    return png_bytes(fig)


def date_ticks(
    start: pd.Timestamp, end: pd.Timestamp, *, most: int = MOST_TICKS
) -> tuple[mdates.DateLocator, Callable[[datetime], str]]:
    """
    Evenly spaced ticks of the time axis, at most ``most`` of them, and how to label one.

    Every so many days (labelled with the day) up to :data:`DAYS_LABELLED` days, else every
    so many months (labelled with the month and year). Matplotlib's own choice starts again
    on each month's first day (29 Nov, then 1 Dec): two labels two days apart collide once
    the month is named.
    """
    days = max(1, (end - start).days)
    if days <= DAYS_LABELLED:
        return mdates.DayLocator(interval=-(-days // most)), month_day  # type: ignore[no-untyped-call]
    months = -(-days // (31 * most))
    return mdates.MonthLocator(interval=months), month_year  # type: ignore[no-untyped-call]


def _floor(ts: pd.Timestamp, freq: str) -> pd.Timestamp:
    day = ts.floor("D")
    return day - pd.Timedelta(days=day.day_of_week) if freq == "week" else day
