"""What a view shows: the time window and the filters, applied in memory or by the store.

The text filter is the same everywhere: the needle, case-folded (``str.casefold``), must
occur as it is (no wildcards: ``%`` and ``_`` are plain characters) in the case-folded
description or the case-folded actor. The store keeps both folded at ingest
(:func:`fold`), so SQLite, PostGIS and the in-memory filter agree on any script.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from geo.core.grading import meets, parse_threshold

_LISTS = ("parties", "zones", "verdicts", "categories", "verifications", "sources")
SEARCHED = ("description", "actor")
"""The columns the text filter searches; the store keeps each folded as ``<column>_folded``."""


def fold(values: pd.Series) -> pd.Series:
    """
    Text as the text filter compares it: ``str.casefold`` of each value, missing values empty.

    ASCII text (most of it) is lowered by Arrow, which is the same thing for ASCII; only
    the other values go through Python's full Unicode case folding.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype(object).where(values.notna(), "").astype(str)
    text = pa.array(values.fillna("").array, type=pa.string())
    if isinstance(text, pa.ChunkedArray):  # Arrow-backed text is often in chunks
        text = text.combine_chunks()
    # A slice of a large_string column cast to string keeps offsets that do not start at 0, which
    # Arrow's string kernels misread (pyarrow 26): lay the values out afresh.
    text = pa.concat_arrays([text])
    folded = pc.ascii_lower(text)
    other = pc.invert(pc.string_is_ascii(text))
    if pc.any(other).as_py():
        at = np.flatnonzero(other.to_numpy(zero_copy_only=False))
        unicode = [t.casefold() for t in pc.take(text, pa.array(at)).to_pylist()]
        folded = pc.replace_with_mask(folded, other, pa.array(unicode, type=pa.string()))
    return pd.Series(folded, dtype=values.dtype, index=values.index)


@dataclass(frozen=True)
class Filters:
    """
    A time window and value filters. Empty tuples mean "any".

    ``since`` is inclusive and ``until`` exclusive, both UTC. ``parties`` match the
    attributed party (``""`` selects unattributed incidents); ``zones`` match an
    incident in any of the zones; ``bbox`` is ``(west, south, east, north)`` degrees;
    ``grade`` (such as ``B2``) keeps the reports graded at least that on the Admiralty
    scale (:func:`geo.core.grading.meets`).
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
    grade: str = ""

    def __post_init__(self) -> None:
        if self.grade:
            reliability, credibility = parse_threshold(self.grade)
            object.__setattr__(self, "grade", reliability + credibility)

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
        if self.grade:
            parts.append(f"graded at least {self.grade}")
        return "; ".join(parts)

    def to_query(self) -> dict[str, str]:
        """The filters as URL query parameters (lists ``,``-joined, times ISO 8601 UTC)."""
        out: dict[str, str] = {}
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        for name in _LISTS:
            values = getattr(self, name)
            if values:
                out[name] = ",".join(v if v else "-" for v in values)
        if self.bbox:
            out["bbox"] = ",".join(f"{v:.5f}" for v in self.bbox)
        if self.text:
            out["text"] = self.text
        if self.grade:
            out["grade"] = self.grade
        return out

    @classmethod
    def from_query(cls, params: dict[str, str]) -> Filters:
        """Filters from URL query parameters; unknown or malformed values are ignored."""
        values: dict[str, Any] = {}
        for name in ("since", "until"):
            raw = params.get(name)
            if raw:
                try:
                    ts = pd.Timestamp(raw)
                except ValueError:
                    continue
                values[name] = (
                    ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
                ).to_pydatetime()
        for name in _LISTS:
            raw = params.get(name)
            if raw:
                values[name] = tuple("" if v == "-" else v for v in str(raw).split(",") if v)
        if params.get("bbox"):
            try:
                w, s, e, n = (float(v) for v in str(params["bbox"]).split(","))
                values["bbox"] = (w, s, e, n)
            except ValueError:
                pass
        if params.get("text"):
            values["text"] = str(params["text"])[:200]
        if params.get("grade"):
            with contextlib.suppress(ValueError):  # a malformed grade is ignored, as other values are
                values["grade"] = "".join(parse_threshold(str(params["grade"])))
        return cls(**values)

    def apply(self, view: pd.DataFrame) -> pd.DataFrame:
        """Return the rows of an incident view that pass the filters."""
        keep = np.ones(len(view), dtype=bool)
        occurred = pd.to_datetime(view["occurred_at"], utc=True)
        if self.since is not None:
            keep &= (occurred >= pd.Timestamp(self.since)).to_numpy()
        if self.until is not None:
            keep &= (occurred < pd.Timestamp(self.until)).to_numpy()
        columns = {
            "parties": "attributed_party",
            "verdicts": "verdict",
            "categories": "category",
            "verifications": "verification",
            "sources": "source",
        }
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
            found = np.zeros(len(view), dtype=bool)
            for column in SEARCHED:
                folded = view[f"{column}_folded"] if f"{column}_folded" in view else fold(view[column])
                found |= folded.str.contains(needle, regex=False).to_numpy(dtype=bool)
            keep &= found
        if self.grade:
            keep &= meets(view["source_reliability"], view["info_credibility"], self.grade)
        return view[keep]
