"""Stored values: how frame columns are encoded for the database and decoded from it.

Times are UTC: integer microseconds in SQLite, ``timestamptz`` in PostGIS (each dialect
supplies its own time codec). Integers and floats are Python numbers with ``None`` for
missing; text is ``str`` with ``""`` for missing (text columns are ``NOT NULL``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

TIME_COLUMNS = frozenset(
    {
        "occurred_at",
        "occurred_from",
        "occurred_to",
        "ingested_at",
        "started_at",
        "finished_at",
        "at",
        "created_at",
        "reviewed_at",
        "last_seen",
        "expires_at",
        "ended_at",
        "used_at",
        "stored_at",
        "added_at",
        "exif_time",
        "revoked_at",
        "updated_at",
        "seen_at",
    }
)
"""Columns, in any table, that hold a time."""
INT_COLUMNS = frozenset(
    {
        "incident_id",
        "batch_id",
        "other_id",
        "group_id",
        "unit_id",
        "duplicate_group",
        "fatalities",
        "rows_read",
        "accepted",
        "rejected",
        "duplicate",
        "near_duplicates",
        "lookalikes",
        "new_breaches",
        "line_no",
        "entry_id",
        "pos",
        "size",
    }
)
"""Columns, in any table, that hold an integer (read back as nullable ``Int64``)."""
FLOAT_COLUMNS = frozenset(
    {"lon", "lat", "location_uncertainty_m", "distance_m", "gap_s", "exif_lon", "exif_lat"}
)
"""Columns, in any table, that hold a float."""

TimeCodec = Callable[[pd.Series], Any]
"""A dialect's conversion of a time column (to or from its stored form)."""


def micros(values: pd.Series) -> np.ndarray:
    """UTC times as integer microseconds (``None`` where missing): SQLite's stored form."""
    ts = pd.to_datetime(pd.Series(values), utc=True)
    out = ts.to_numpy(dtype="datetime64[us]").view(np.int64).astype(object)
    missing = ts.isna().to_numpy()
    if missing.any():
        out[missing] = None
    return np.asarray(out)


def _numeric(values: pd.Series, kinds: str) -> bool:
    return values.dtype.kind in kinds and not isinstance(values.dtype, pd.CategoricalDtype)


def _encode_ints(values: pd.Series, missing: Any) -> list[Any]:
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
        return cast("list[Any]", values.to_numpy().astype(np.int64).tolist())
    return cast("list[Any]", values.astype("Int64").to_numpy(dtype=object, na_value=missing).tolist())


def _encode_floats(values: pd.Series, missing: Any) -> list[Any]:
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    absent = np.isnan(arr)
    if not absent.any() or (isinstance(missing, float) and np.isnan(missing)):
        return cast("list[Any]", arr.tolist())
    out = arr.astype(object)
    out[absent] = missing
    return cast("list[Any]", out.tolist())


def _encode_text(values: pd.Series) -> list[Any]:
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.dtype.kind in "OTU":
        labels = np.append(values.cat.categories.to_numpy(dtype=object), "")
        # code -1 (missing) picks the ""
        return cast("list[Any]", labels[values.cat.codes.to_numpy()].tolist())
    if isinstance(values.dtype, pd.StringDtype):
        return cast("list[Any]", values.to_numpy(dtype=object, na_value="").tolist())
    return cast("list[Any]", values.astype(object).where(values.notna(), "").astype(str).tolist())


def encode(frame: pd.DataFrame, encode_times: TimeCodec, *, missing: Any = None) -> dict[str, list[Any]]:
    """
    Turn a frame into stored values, column by column.

    Parameters
    ----------
    frame
        Columns named as stored; a column's kind comes from its name, else its dtype.
    encode_times
        The dialect's stored form of a time column.
    missing
        What a missing number is bound as: ``None``, or NaN where the database stores NaN
        as NULL (SQLite), which binds five times faster.
    """
    out: dict[str, list[Any]] = {}
    for col in frame.columns:
        values = frame[col]
        if col in TIME_COLUMNS:
            out[col] = encode_times(values).tolist()
        elif col in INT_COLUMNS or (col not in FLOAT_COLUMNS and _numeric(values, "iub")):
            out[col] = _encode_ints(values, missing)
        elif col in FLOAT_COLUMNS or _numeric(values, "f"):
            out[col] = _encode_floats(values, missing)
        else:
            out[col] = _encode_text(values)
    return out


def decode(cursor: Any, decode_times: TimeCodec) -> pd.DataFrame:
    """
    Read a cursor's rows into a frame with proper dtypes.

    Parameters
    ----------
    cursor
        A DB-API cursor that has run a query.
    decode_times
        The dialect's conversion of a stored time column to UTC timestamps.
    """
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
    for col in names:
        if col in TIME_COLUMNS:
            frame[col] = decode_times(frame[col])
        elif col in INT_COLUMNS:
            frame[col] = pd.array(frame[col], dtype="Int64")
        elif col in FLOAT_COLUMNS:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def text_or_none(value: Any) -> str | None:
    """A stored optional text: ``None`` for missing or empty."""
    return (
        None if value is None or (isinstance(value, float) and np.isnan(value)) or value == "" else str(value)
    )


def redact(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
