"""Data shaped for the pages' charts and tables: zero-filled series, period axes, translated headings."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from geo.i18n import N_, _, is_rtl
from geo.localize import day, month_day, month_year, table_times

HEADINGS: dict[str, str] = {
    "name": N_("Name"),
    "role": N_("Role"),
    "created_at": N_("Created"),
    "disabled": N_("Disabled"),
    "user_name": N_("User"),
    "kind": N_("Kind"),
    "client": N_("Client"),
    "last_seen": N_("Last seen"),
    "expires_at": N_("Expires"),
    "scenario_id": N_("Ceasefire"),
    "entry_id": N_("Entry"),
    "at": N_("When"),
    "action": N_("Action"),
    "target": N_("Target"),
    "before": N_("Before"),
    "after": N_("After"),
    "old": N_("From"),
    "new": N_("To"),
    "note": N_("Note"),
    "line_no": N_("Line"),
    "reason": N_("Reason"),
    "raw": N_("Row as written"),
}
"""Column headings of the tables the pages show straight from the store, by column name."""


def headed(frame: pd.DataFrame, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """
    ``frame`` with its column names as headings in the page's language (others kept as they are).

    Its time columns are written as :func:`geo.localize.table_times` writes them (the table
    would show ``+00:00`` offsets), which sorts as the times do.
    """
    names = HEADINGS | (extra or {})
    is_time = pd.api.types.is_datetime64_any_dtype
    times = {c: table_times(frame[c]) for c in frame.columns if is_time(frame[c])}
    return frame.assign(**times).rename(columns={c: _(names[c]) for c in frame.columns if c in names})


def zero_filled(series: pd.DataFrame, freq: str) -> pd.DataFrame:
    """
    Counts per ``period`` and ``series`` with the empty periods in between as 0.

    ``geo.core.trends.counts`` leaves zero counts out; drawn as lines, the gaps would read
    as a steady rate.
    """
    if series.empty:
        return series[["period", "series", "count"]]
    step = {"day": "D", "week": "7D", "month": "MS"}[freq]
    periods = pd.date_range(series["period"].min(), series["period"].max(), freq=step)
    wide = series.pivot_table(index="period", columns="series", values="count", aggfunc="sum")
    wide = wide.reindex(wide.index.union(periods)).fillna(0).astype("int64")
    wide = wide.rename_axis(index="period", columns="series").reset_index()
    return wide.melt(id_vars="period", var_name="series", value_name="count")


def period_label(start: pd.Timestamp, freq: str, *, year: bool = False) -> str:
    """A period's start as the language writes it: a day (with its year if ``year``), or a month."""
    if freq == "month":
        return month_year(start)
    return day(start) if year else month_day(start)


def period_labels(periods: pd.Series, freq: str) -> pd.Series:
    """Each period start's :func:`period_label` with its year (each distinct start formatted once)."""
    starts = periods.drop_duplicates()
    return periods.map(dict(zip(starts, (period_label(t, freq, year=True) for t in starts), strict=True)))


def period_axis(periods: pd.Series, freq: str, *, most: int = 10) -> alt.Axis:
    """
    An x axis of period starts (UTC), each labelled by :func:`period_label`.

    Vega-Lite would label a time axis in the browser's time zone (a day that starts at
    00:00 UTC reads as the day before anywhere west of Greenwich), in English, and with
    ticks between the periods. Here the ticks are the period starts, at most ``most`` of
    them evenly spaced, and each label is written here; the labels are dates, never user text.
    """
    starts = pd.DatetimeIndex(periods.drop_duplicates().sort_values())
    ticks = starts[:: max(1, -(-len(starts) // most))]
    rtl = "\u2067{}\u2069" if is_rtl() else "{}"  # a right-to-left label isolated in the left-to-right chart
    labels = [json.dumps(rtl.format(period_label(t, freq)), ensure_ascii=False) for t in ticks]
    expr = "".join(
        f"time(datum.value) === {t.value // 1_000_000} ? {label} : "
        for t, label in zip(ticks.as_unit("ns"), labels, strict=True)
    )
    values = [  # Vega-Lite draws no tick for plain numbers on a time axis: DateTime objects
        alt.DateTime(year=t.year, month=t.month, date=t.day, hours=t.hour, minutes=t.minute, utc=True)
        for t in ticks
    ]
    return alt.Axis(values=values, labelExpr=expr + "''", labelOverlap=False, grid=False)
