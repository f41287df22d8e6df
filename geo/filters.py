"""What a view shows: the time window and the filters, applied in memory or by the store."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

_LISTS = ("parties", "zones", "verdicts", "categories", "verifications", "sources")


@dataclass(frozen=True)
class Filters:
    """
    A time window and value filters. Empty tuples mean "any".

    ``since`` is inclusive and ``until`` exclusive, both UTC. ``parties`` match the
    attributed party (``""`` selects unattributed incidents); ``zones`` match an
    incident in any of the zones; ``bbox`` is ``(west, south, east, north)`` degrees.
    """

    since: datetime | None = None
    until: datetime | None = None
    parties: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verifications: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    text: str = field(default="")

    def with_(self, **changes: Any) -> Filters:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def describe(self) -> str:
        """One line a reader can check: the window and every active filter."""

        def when(t: datetime | None, default: str) -> str:
            return pd.Timestamp(t).tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC") if t else default

        parts = [f"{when(self.since, 'start')} to {when(self.until, 'now')}"]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _LISTS and value:
                shown = ", ".join(v or "(unattributed)" for v in value)
                parts.append(f"{f.name}: {shown}")
        if self.bbox:
            parts.append("area: {:.3f}, {:.3f} to {:.3f}, {:.3f}".format(*self.bbox))
        if self.text:
            parts.append(f"text: {self.text!r}")
        return "; ".join(parts)

    def apply(self, view: pd.DataFrame) -> pd.DataFrame:
        """Return the rows of an incident view that pass the filters."""
        keep = np.ones(len(view), dtype=bool)
        occurred = pd.to_datetime(view["occurred_at"], utc=True)
        if self.since is not None:
            keep &= (occurred >= pd.Timestamp(self.since)).to_numpy()
        if self.until is not None:
            keep &= (occurred < pd.Timestamp(self.until)).to_numpy()
        columns = {"parties": "attributed_party", "verdicts": "verdict", "categories": "category",
                   "verifications": "verification", "sources": "source"}
        for name, column in columns.items():
            wanted = getattr(self, name)
            if wanted:
                keep &= view[column].astype(object).fillna("").isin(list(wanted)).to_numpy()
        if self.zones:
            zones = view["zones"].astype(object).fillna("")
            codes, uniques = pd.factorize(zones)
            hit = np.array([bool(set(str(u).split(";")) & set(self.zones)) for u in uniques], dtype=bool)
            keep &= hit[codes] if len(uniques) else np.zeros(len(view), dtype=bool)
        if self.bbox:
            w, s, e, n = self.bbox
            lon, lat = view["lon"].to_numpy(), view["lat"].to_numpy()
            keep &= (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        if self.text:
            needle = self.text.casefold()
            blob = (view["description"].astype(str) + " " + view["actor"].astype(str)).str.casefold()
            keep &= blob.str.contains(needle, regex=False).to_numpy()
        return view[keep]
