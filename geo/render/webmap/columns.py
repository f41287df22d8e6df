"""Columns of an incident view turned into what the browser gets: codes, text, flags (no per-row loop)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd


def codes(series: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Index of each value in ``values`` (-1 when absent), without a per-row loop."""
    lookup = {v: i for i, v in enumerate(values)}
    if isinstance(series.dtype, pd.CategoricalDtype):
        lut = np.array([lookup.get(str(c), -1) for c in series.cat.categories] + [-1], dtype=np.int64)
        return np.asarray(lut[series.cat.codes.to_numpy(dtype=np.int64)])
    found, uniques = pd.factorize(series)
    lut = np.array([lookup.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return np.asarray(lut[found])


def _ns(series: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a datetime column (naive values are taken as UTC)."""
    values = pd.to_datetime(series, utc=True)
    return np.asarray(values.dt.as_unit("ns").array.asi8)


def _timestamp_ns(when: datetime | pd.Timestamp | str) -> int:
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def new_mask(view: pd.DataFrame, new_since: datetime | pd.Timestamp | str | None) -> np.ndarray:
    """Which incidents came in after ``new_since`` (``ingested_at``, else ``occurred_at``)."""
    if new_since is None or len(view) == 0:
        return np.zeros(len(view), dtype=bool)
    column = "ingested_at" if "ingested_at" in view else "occurred_at"
    return _ns(view[column]) > _timestamp_ns(new_since)


def text_col(view: pd.DataFrame, name: str) -> pd.Series:
    """A column as text, missing values (and a missing column) as empty strings."""
    if name not in view:
        return pd.Series("", index=view.index, dtype="str")
    values = view[name]
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("").astype("str")
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pd.Index([str(c) for c in values.cat.categories] + [""], dtype="str")
        return pd.Series(categories.take(values.cat.codes.to_numpy()), index=view.index, dtype="str")
    return values.astype(object).where(values.notna(), "").astype("str")


def encode(values: pd.Series) -> list[Any] | dict[str, Any]:
    """A column for the browser: a plain list, or a dictionary and codes when values repeat."""
    found, uniques = pd.factorize(values)
    if len(uniques) * 2 <= len(values):
        return {"d": [str(u) for u in uniques], "c": found.tolist()}
    return [str(v) for v in values]


def map_values(values: pd.Series, fn: Callable[[Any], str]) -> pd.Series:
    """Apply ``fn`` once per distinct value (the columns repeat a lot)."""
    found, uniques = pd.factorize(values)
    mapped = np.array([fn(u) for u in uniques] + [""], dtype=object)
    return pd.Series(mapped[found], index=values.index, dtype="str")


def floats(view: pd.DataFrame, name: str) -> np.ndarray:
    """A column as floats, NaN where missing or not a number (and for a missing column)."""
    if name not in view:
        return np.full(len(view), np.nan)
    return np.asarray(pd.to_numeric(view[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))


def series(values: np.ndarray | pd.Series, view: pd.DataFrame) -> pd.Series:
    """Values as a text column on the view's index."""
    return pd.Series(np.asarray(values, dtype=object), index=view.index, dtype="str")
