"""Key figures: breaches and possible breaches in the period and the previous one, per party or zone."""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo.core import trends
from geo.core.model import Scenario
from geo.i18n import N_, _, ngettext
from geo.localize import number, percent, signed
from geo.render.palette import UNATTRIBUTED_LABEL
from geo.render.pdf.period import Period

N_A = N_("n/a")
"""Shown for a figure the data supplied cannot give (the previous period, without history)."""


def _change(last: int, prev: int | None) -> str:
    if prev is None:
        return _(N_A)
    diff = last - prev
    if not diff:
        return number(0)
    if prev == 0:
        return _("{change} (new)").format(change=signed(diff))
    return f"{signed(diff)} ({percent(diff / prev, signed_=True)})"


def kpi_table(
    history: pd.DataFrame, scenario: Scenario, period: Period, *, by: str, covered: bool = True
) -> pd.DataFrame:
    """
    Breaches and possible breaches in the period and the previous one, per party or zone.

    Parameters
    ----------
    history
        An incident view covering the period and, when ``covered``, the previous period.
    scenario
        Gives every party or zone a row, with its display name.
    period
        The key-figures period.
    by
        ``party`` or ``zone``.
    covered
        Whether ``history`` covers the previous period; if not, its figures are missing.

    Returns
    -------
    pandas.DataFrame
        Indexed by party or zone id, with ``name``, and for ``breach`` and
        ``possible_breach``: ``{verdict}`` (the period), ``{verdict}_prev`` (nullable)
        and ``{verdict}_change`` (text).
    """
    names = (
        {p.id: p.name for p in scenario.parties} if by == "party" else {z.id: z.name for z in scenario.zones}
    )
    hours = int(period.length.total_seconds() // 3600)
    frames = {}
    occurred = pd.to_datetime(history["occurred_at"], utc=True)
    span = history[(occurred >= period.previous_start) & (occurred < period.end)]
    for verdict in ("breach", "possible_breach"):
        columns = [verdict, f"{verdict}_prev"]
        if not (span["verdict"].astype(object) == verdict).any():
            # geo.core.trends.explode_zones fails on an empty frame; nothing to count anyway.
            frames[verdict] = pd.DataFrame(columns=columns, dtype="int64")
            continue
        k = trends.kpis(
            span, as_of=period.end, by=by, verdicts=(verdict,), windows=(period.length.to_pytimedelta(),)
        )
        frames[verdict] = k[[f"last_{hours}h", f"prev_{hours}h"]].set_axis(columns, axis=1)
    extra = sorted(set(frames["breach"].index) | set(frames["possible_breach"].index) - set(names))
    index = [*names, *(e for e in extra if e not in names)]
    out = pd.DataFrame(index=pd.Index(index, name=by))
    fallback = {
        trends.UNATTRIBUTED: _(UNATTRIBUTED_LABEL),
        trends.NO_ZONE: _("Outside every zone (location uncertain)"),
    }
    out["name"] = [names.get(i, fallback.get(i, i)) for i in index]
    for verdict, found in frames.items():
        frame = found.reindex(index, fill_value=0)
        out[verdict] = frame[verdict].astype("int64")
        prev = frame[f"{verdict}_prev"].astype("Int64")
        out[f"{verdict}_prev"] = prev if covered else pd.array([pd.NA] * len(index), dtype="Int64")
        out[f"{verdict}_change"] = [
            _change(int(a), None if pd.isna(b) else int(b))
            for a, b in zip(out[verdict], out[f"{verdict}_prev"], strict=True)
        ]
    keep = (out["breach"] > 0) | (out["possible_breach"] > 0) | out.index.isin(list(names))
    return out[keep]


def kpi_cells(row: pd.Series, *, name: str | None = None) -> list[str]:
    """A row of a key-figures table as text: name, then the counts and changes."""

    def num(v: Any) -> str:
        return _(N_A) if pd.isna(v) else number(int(v))

    return [
        name or str(row["name"]),
        num(row["breach"]),
        num(row["breach_prev"]),
        row["breach_change"],
        num(row["possible_breach"]),
        num(row["possible_breach_prev"]),
        row["possible_breach_change"],
    ]


def total_row(table: pd.DataFrame, covered: bool) -> pd.Series:
    """The sum of a key-figures table, as a row (previous figures only when covered)."""
    out: dict[str, object] = {"name": _("All parties")}
    for verdict in ("breach", "possible_breach"):
        last = int(table[verdict].sum())
        prev = int(table[f"{verdict}_prev"].sum()) if covered else None
        out[verdict] = last
        out[f"{verdict}_prev"] = pd.NA if prev is None else prev
        out[f"{verdict}_change"] = _change(last, prev)
    return pd.Series(out)


def duration(delta: pd.Timedelta) -> str:
    """A period's length as text: ``7 days``, ``1.5 days``, ``12.0 hours`` (in the language of the run)."""
    days = delta.total_seconds() / 86400.0
    if days >= 1.0:
        if days % 1:
            return _("{days} days").format(days=number(days, decimals=1))
        return ngettext("{days} day", "{days} days", int(days)).format(days=number(int(days)))
    return _("{hours} hours").format(hours=number(delta.total_seconds() / 3600.0, decimals=1))
