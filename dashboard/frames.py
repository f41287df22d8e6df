"""Data frames shaped for the pages' charts and tables: zero-filled series, translated headings."""

from __future__ import annotations

import pandas as pd

from geo.i18n import N_, _

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
}
"""Column headings of the tables the pages show straight from the store, by column name."""


def headed(frame: pd.DataFrame, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """``frame`` with its column names as headings in the page's language (others kept as they are)."""
    names = HEADINGS | (extra or {})
    return frame.rename(columns={c: _(names[c]) for c in frame.columns if c in names})


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
