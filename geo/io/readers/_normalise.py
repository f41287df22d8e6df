"""Vectorised checks and conversions shared by every format.

A format module turns a chunk's raw text columns into the incident columns with these
helpers; each helper records what it finds in :class:`Rows`: one reject reason per row
(the first problem found wins) and any number of warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.core.categories import Vocabulary
from geo.core.model import INCIDENT_COLUMNS, LOCATION_PRECISIONS, VERIFICATION_STATUSES
from geo.io.readers._base import ReadChunk
from geo.io.readers._csvio import Records
from geo.io.readers._dates import DATE_HINT, Readings
from geo.io.readers._dates import read as read_dates
from geo.io.readers._party import map_party

Values = dict[str, Any]
"""Incident column name -> array of the chunk's length, or one value for every row."""
Message = str | Callable[[np.ndarray], Sequence[str]]
"""A message, or a function building one message per row position."""

FUTURE_SKEW = np.timedelta64(1, "h")
"""A timestamp this far past "now" is still accepted (clock skew between machines)."""
DATE_ONLY_SKEW = np.timedelta64(14, "h")
"""A calendar date is local: it can be up to 14 h ahead of UTC (UTC+14)."""
EARLIEST = np.datetime64("1900-01-01T00:00:00", "ns")
NAT = np.datetime64("NaT", "ns")

LOCATION_SYNONYMS: dict[str, str] = {
    "gps": "exact", "precise": "exact", "point": "exact", "approximate": "near", "approx": "near",
    "village": "near", "landmark": "near", "town": "area", "city": "area", "district": "area",
    "province": "region", "regional": "region", "country": "region",
}
VERIFICATION_SYNONYMS: dict[str, str] = {
    "confirmed": "verified", "unverified": "reported", "contested": "disputed", "false": "rejected",
}


@dataclass
class Context:
    """What every format's ``normalise`` needs besides the raw columns."""

    vocab: Vocabulary
    now: np.datetime64
    """Now, naive UTC, in nanoseconds."""
    source_name: str | None
    party_mapping: tuple[tuple[str, str, str], ...]
    parties: frozenset[str] | None
    bbox: tuple[float, float, float, float] | None
    options: Any = None
    """The :class:`~geo.io.readers.mapped.ColumnMapping` for mapped files, else None."""
    rows: Rows | None = None
    """The current chunk's bookkeeping."""
    absent: frozenset[str] = frozenset()
    """Optional columns the file does not have at all (no per-row warning for them)."""
    dayfirst: bool | None = None
    """The file's day/month order for dates like ``09/05/2014`` (None: no date depends on it)."""
    now_year: int = 0
    """The year of :attr:`now`: two-digit years are not after it."""

    def dates(self, values: pd.Series, year: pd.Series | None = None, *, offsets: bool = False) -> Readings:
        """Every reading of a column of dates (see :func:`geo.io.readers._dates.read`)."""
        return read_dates(values, now_year=self.now_year, year=year, offsets=offsets)


class Rows:
    """Per-chunk bookkeeping: the first reject reason of each row, and warnings."""

    def __init__(self, line_no: np.ndarray) -> None:
        self.line_no = line_no
        self.n = len(line_no)
        self.reason = np.full(self.n, "", dtype=object)
        self._warn_at: list[np.ndarray] = []
        self._warn_msg: list[np.ndarray] = []

    @property
    def ok(self) -> np.ndarray:
        """Rows not rejected so far."""
        return np.asarray(self.reason == "")

    def reject(self, mask: np.ndarray | pd.Series, message: Message) -> None:
        """Reject rows in ``mask`` not rejected yet; ``message`` may be built from their positions."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool) & self.ok)
        if len(idx):
            self.reason[idx] = message if isinstance(message, str) else np.asarray(message(idx), dtype=object)

    def warn(self, mask: np.ndarray | pd.Series, message: Message) -> None:
        """Warn about rows in ``mask``; ``message`` is ``column: problem``."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(idx):
            msgs = np.full(len(idx), message, dtype=object) if isinstance(message, str) \
                else np.asarray(message(idx), dtype=object)
            self._warn_at.append(idx)
            self._warn_msg.append(msgs)

    def warnings(self) -> tuple[list[str], list[int]]:
        """Warnings on rows still accepted, as ``line N: column: problem``, in line order."""
        if not self._warn_at:
            return [], []
        at = np.concatenate(self._warn_at)
        msg = np.concatenate(self._warn_msg)
        keep = self.ok[at]
        at, msg = at[keep], msg[keep]
        order = np.argsort(at, kind="stable")
        lines = self.line_no[at[order]]
        return [f"line {ln}: {m}" for ln, m in zip(lines.tolist(), msg[order].tolist(), strict=True)], \
            lines.tolist()


# --------------------------------------------------------------------------- text


def column(raw: pd.DataFrame, name: str, *, strip: bool = True) -> pd.Series:
    """A raw text column, stripped, or empty strings when the file has none."""
    if name not in raw:
        return pd.Series("", index=raw.index, dtype="str")
    values = raw[name]
    return values.str.strip() if strip else values


def show(values: pd.Series, idx: np.ndarray, limit: int = 60) -> pd.Series:
    """Values at ``idx`` quoted for a message, cut at ``limit`` characters."""
    part = values.iloc[idx].astype("str").reset_index(drop=True)
    cut = part.str.slice(0, limit)
    return "'" + cut + pd.Series(np.where(part.str.len() > limit, "…'", "'"), dtype="str")


def lookup(values: pd.Series, table: Callable[[str], str | None]) -> np.ndarray:
    """Apply ``table`` once per distinct value; ``None`` where it has no answer."""
    codes, uniques = pd.factorize(values)
    mapped = np.array([*(table(str(u)) for u in uniques), None], dtype=object)
    return np.asarray(mapped[codes])


def joined(parts: Sequence[tuple[str, pd.Series]], sep: str = "\n") -> pd.Series:
    """``label + value`` for the non-empty values, joined with ``sep`` per row."""
    out: pd.Series | None = None
    for label, values in parts:
        has = values != ""
        line = (label + values).where(has, "")
        out = line if out is None else (out + sep + line).where((out != "") & has, out + line)
    assert out is not None  # noqa: S101 - callers always pass parts
    return out


# --------------------------------------------------------------------------- numbers


def numbers(values: pd.Series) -> np.ndarray:
    """Parse numbers, accepting a decimal comma (``37,95``); NaN where not a number."""
    out = np.array(pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan))
    retry = np.isnan(out) & (values != "").to_numpy()
    if retry.any():
        sub = values[retry]
        comma = sub.str.fullmatch(r"[-+]?\d+,\d+")
        fixed = pd.to_numeric(sub.str.replace(",", ".", regex=False), errors="coerce")
        fixed_values = fixed.to_numpy(np.float64, na_value=np.nan)
        out[np.flatnonzero(retry)] = np.where(comma.to_numpy(dtype=bool), fixed_values, np.nan)
    return out


def floats(values: pd.Series, col: str, rows: Rows, *, required: bool) -> np.ndarray:
    """A float column; rejects text that is not a number, and missing values if required."""
    out = numbers(values)
    empty = (values == "").to_numpy()
    if required:
        rows.reject(empty, f"{col}: missing value")
    bad = np.isnan(out) & ~empty
    rows.reject(bad, lambda idx: f"{col}: " + show(values, idx) + " is not a number")
    return out


def optional_float(values: pd.Series, col: str, rows: Rows, *, minimum: float = 0.0) -> np.ndarray:
    """An optional float column: a value not a number, or below ``minimum``, is dropped with a warning."""
    out = numbers(values)
    empty = (values == "").to_numpy()
    bad = (np.isnan(out) & ~empty) | ~(np.isfinite(out) | np.isnan(out)) | (out < minimum)
    rows.warn(bad, lambda idx: f"{col}: " + show(values, idx) + " is not a valid value; ignored")
    out[bad] = np.nan
    return out


def counts(values: pd.Series, col: str, rows: Rows) -> pd.array:
    """A count (fatalities): empty is unknown; rejects negative, fractional and non-numbers."""
    v = numbers(values)
    empty = (values == "").to_numpy()
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(v) & (np.floor(v) == v)
    rows.reject(~empty & ~whole, lambda idx: f"{col}: " + show(values, idx) + " is not a whole number")
    rows.reject(whole & (v < 0), lambda idx: f"{col}: " + show(values, idx) + " is negative")
    rows.reject(whole & (v > 1e9), lambda idx: f"{col}: " + show(values, idx) + " is implausibly large")
    v[~whole | (v < 0) | (v > 1e9)] = np.nan
    return pd.array(v, dtype="Float64").astype("Int64")


# --------------------------------------------------------------------------- places


def _in_bbox(lon: np.ndarray, lat: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
    west, south, east, north = bbox
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def coordinates(lat_raw: pd.Series, lon_raw: pd.Series, rows: Rows, *, lat_col: str = "lat",
                lon_col: str = "lon", bbox: tuple[float, float, float, float] | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    """
    Latitude and longitude, checked; likely swaps are corrected with a warning.

    A pair is read as swapped when the latitude is beyond ±90 but would be a valid
    longitude and the longitude a valid latitude; or, when ``bbox`` (west, south, east,
    north) is given, when only the swapped pair falls inside it.
    """
    lat = floats(lat_raw, lat_col, rows, required=True)
    lon = floats(lon_raw, lon_col, rows, required=True)
    both = f"{lat_col}/{lon_col}"

    def swapped(why: str) -> Callable[[np.ndarray], pd.Series]:
        def message(idx: np.ndarray) -> pd.Series:
            lat_text, lon_text = show(lat_raw, idx), show(lon_raw, idx)
            return (f"{both}: " + lat_text + " and " + lon_text + f" look swapped ({why}); read as lat "
                    + lon_text + ", lon " + lat_text)
        return message

    with np.errstate(invalid="ignore"):
        beyond = (np.abs(lat) > 90) & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
        rows.warn(beyond & rows.ok, swapped("a latitude cannot exceed 90"))
        swap = beyond
        if bbox is not None:
            outside = ~_in_bbox(lon, lat, bbox) & _in_bbox(lat, lon, bbox) & ~beyond
            rows.warn(outside & rows.ok, swapped("only the swapped pair falls in the scenario's area"))
            swap = swap | outside
        lat, lon = np.where(swap, lon, lat), np.where(swap, lat, lon)
        rows.reject(~np.isfinite(lat) | (np.abs(lat) > 90), lambda idx: f"{lat_col}: " + show(lat_raw, idx)
                    + " is out of range (a latitude is between -90 and 90)")
        rows.reject(~np.isfinite(lon) | (np.abs(lon) > 180), lambda idx: f"{lon_col}: " + show(lon_raw, idx)
                    + " is out of range (a longitude is between -180 and 180)")
    rows.reject((lat == 0) & (lon == 0), f"{both}: (0, 0) is a placeholder for a missing position, "
                "not a real location")
    return lat, lon


def enum(values: pd.Series, col: str, rows: Rows, *, allowed: Sequence[str], synonyms: Mapping[str, str],
         empty: str, unknown: str, warn_empty: bool = False, value_map: Mapping[str, str] | None = None,
         ) -> np.ndarray:
    """
    Map free text to one of ``allowed`` (case-insensitive, with synonyms).

    Empty values become ``empty`` (with a warning if ``warn_empty``); anything else that
    does not match becomes ``unknown`` with a warning.
    """
    allowed_set = set(allowed)
    folded = {k.casefold(): v for k, v in (value_map or {}).items()}

    def one(text: str) -> str | None:
        if value_map and text in value_map:
            return value_map[text]
        key = text.strip().casefold()
        if key in folded:
            return folded[key]
        key = key.replace(" ", "_").replace("-", "_")
        if key in allowed_set:
            return key
        return synonyms.get(key)

    out = lookup(values, one)
    is_empty = (values == "").to_numpy()
    missing = pd.isna(out)
    if warn_empty:
        rows.warn(is_empty & missing, f"{col}: missing; stored as '{empty}'")
    rows.warn(~is_empty & missing, lambda idx: f"{col}: unknown value " + show(values, idx)
              + f"; stored as '{unknown}'")
    out[missing & is_empty] = empty
    out[missing & ~is_empty] = unknown
    return out


def location_precision(values: pd.Series, rows: Rows, *, col: str = "location_precision",
                       value_map: Mapping[str, str] | None = None) -> np.ndarray:
    """Truceline location precision from text: empty is ``near``, unknown is ``area`` (coarse)."""
    return enum(values, col, rows, allowed=LOCATION_PRECISIONS, synonyms=LOCATION_SYNONYMS,
                empty="near", unknown="area", value_map=value_map)


def verification(values: pd.Series, rows: Rows, *, value_map: Mapping[str, str] | None = None) -> np.ndarray:
    """Verification status from text: empty and unknown are ``reported``."""
    return enum(values, "verification", rows, allowed=VERIFICATION_STATUSES, synonyms=VERIFICATION_SYNONYMS,
                empty="reported", unknown="reported", value_map=value_map)


def grade(values: pd.Series, col: str, rows: Rows, *, allowed: Sequence[str], synonyms: Mapping[str, str],
          value_map: Mapping[str, str] | None = None) -> np.ndarray:
    """An optional Admiralty grade: empty is ungraded (""); a value that is not a grade rejects the row."""
    def one(text: str) -> str | None:
        if value_map and text in value_map:
            return value_map[text]
        key = text.strip()
        if key in allowed:
            return key
        return synonyms.get(" ".join(key.split()).casefold())

    out = lookup(values, one)
    is_empty = (values == "").to_numpy()
    bad = ~is_empty & (pd.isna(out) | ~pd.Series(out, dtype=object).isin(list(allowed)).to_numpy())
    expected = ", ".join(allowed)
    rows.reject(bad, lambda idx: f"{col}: " + show(values, idx) + f" is not a grade (one of {expected})")
    out[is_empty | bad] = ""
    return out


def coded(values: pd.Series, col: str, rows: Rows, table: Mapping[int, str], unknown: str) -> np.ndarray:
    """Map integer codes (``1``, ``2.0``) through ``table``; others become ``unknown``, with a warning."""
    def one(text: str) -> str | None:
        try:
            number = float(text)
        except ValueError:
            return None
        return table.get(int(number)) if number.is_integer() else None

    out = lookup(values, one)
    missing = pd.isna(out)
    known = ", ".join(str(k) for k in sorted(table))
    rows.warn(missing, lambda idx: f"{col}: unknown code " + show(values, idx) + f" (expected {known}); "
              f"treated as '{unknown}'")
    out[missing] = unknown
    return out


def categories(values: pd.Series, rows: Rows, vocab: Vocabulary, *, col: str = "category",
               value_map: Mapping[str, str] | None = None) -> np.ndarray:
    """Category ids from ids or labels (case-insensitive); unknown and empty become ``other``."""
    # enum() looks synonyms up with spaces and hyphens turned into underscores.
    by_label = {label.casefold().replace(" ", "_").replace("-", "_"): cid
                for cid, label in vocab.labels.items()}
    return enum(values, col, rows, allowed=sorted(vocab.ids), synonyms=by_label, empty="other",
                unknown="other", warn_empty=True, value_map=value_map)


# --------------------------------------------------------------------------- time


def checked_times(parsed: np.ndarray, raw: pd.Series, col: str, rows: Rows, now: np.datetime64,
                  date_only: np.ndarray, *, why: Callable[[np.ndarray], Sequence[str]] | None = None,
                  required: bool = True) -> np.ndarray:
    """
    Reject missing, unparseable, pre-1900 and future times; return naive UTC nanoseconds.

    ``parsed`` is naive UTC (NaT where the text is no date); ``why(idx)`` says why those
    rows are not dates (default: the forms a date may take). A value with a time of day
    may be at most 1 h ahead of ``now``; a bare date may be up to 14 h ahead, since it is
    a local calendar date.
    """
    empty = (raw == "").to_numpy()
    if required:
        rows.reject(empty, f"{col}: missing value")
    values = np.asarray(parsed).astype("datetime64[us]")
    known = ~np.isnat(values)
    because = why or (lambda idx: [f"is not a date ({DATE_HINT})"] * len(idx))
    rows.reject(~known & ~empty, lambda idx: f"{col}: " + show(raw, idx) + " " + pd.Series(because(idx),
                                                                                          dtype="str"))
    early = known & (values < EARLIEST.astype("datetime64[us]"))
    rows.reject(early, lambda idx: f"{col}: " + show(raw, idx) + " is before 1900")
    limit = np.where(date_only, now + DATE_ONLY_SKEW, now + FUTURE_SKEW).astype("datetime64[us]")
    future = known & ~early & (values > limit)
    stamp = np.datetime_as_string(now, unit="m").replace("T", " ")
    rows.reject(future, lambda idx: f"{col}: " + show(raw, idx) + f" is in the future (now is {stamp} UTC)")
    out = np.full(len(values), NAT)
    good = known & ~early & ~future
    out[good] = values[good].astype("datetime64[ns]")
    return out


def dated(readings: Readings, raw: pd.Series, col: str, ctx: Context, *, required: bool = True,
          days: bool = False) -> np.ndarray:
    """
    A date column read in the file's day/month order, checked (naive UTC nanoseconds).

    With ``days``, every value is a calendar day for the "in the future" check, even
    with a time written.
    """
    assert ctx.rows is not None  # noqa: S101 - set by the reader for every chunk
    date_only = np.ones(len(raw), dtype=bool) if days else ~readings.timed
    return checked_times(readings.pick(ctx.dayfirst), raw, col, ctx.rows, ctx.now, date_only,
                         why=lambda idx: readings.why(idx, ctx.dayfirst), required=required)


# --------------------------------------------------------------------------- parties


def attribute(actors: Sequence[tuple[str, pd.Series]], ctx: Context, rows: Rows,
              ) -> tuple[np.ndarray, np.ndarray]:
    """
    The party involved, from the scenario's party mapping applied to each actor.

    One distinct mapped party gives that party (basis ``actor_mapping``). Actors mapping
    to different parties give no party and a warning: the source does not say which
    one acted.
    """
    n = rows.n
    party = np.full(n, "", dtype=object)
    conflict = np.zeros(n, dtype=bool)
    mapped = []
    for _, names in actors:
        m = map_party(names, ctx.party_mapping).astype(object)
        mapped.append(m)
        conflict |= (party != "") & (m != "") & (m != party)
        party = np.where(party == "", m, party)

    def message(idx: np.ndarray) -> list[str]:
        out = []
        for i in idx.tolist():
            said = [f"{col} '{names.iloc[i]}' -> {m[i]}"
                    for (col, names), m in zip(actors, mapped, strict=True) if m[i]]
            out.append(f"party: actors map to different parties ({', '.join(said)}); party left empty")
        return out

    rows.warn(conflict, message)
    party[conflict] = ""
    basis = np.where(party != "", "actor_mapping", "").astype(object)
    return party, basis


# --------------------------------------------------------------------------- assembly


def assemble(values: Values, rows: Rows, records: Records) -> ReadChunk:
    """Build the chunk: accepted rows in the incident schema, rejected rows with their reasons."""
    ok = rows.ok
    n_ok = int(ok.sum())
    data: dict[str, Any] = {}
    for col, dtype in INCIDENT_COLUMNS.items():
        value = values[col]
        if np.ndim(value) == 0:
            data[col] = np.full(n_ok, value, dtype=object)
        elif dtype.startswith("datetime"):
            data[col] = pd.DatetimeIndex(np.asarray(value)[ok]).tz_localize("UTC")
        else:
            array = value.array if isinstance(value, pd.Series) else value
            data[col] = array[ok] if isinstance(array, pd.api.extensions.ExtensionArray) \
                else np.asarray(array)[ok]
    frame = pd.DataFrame(data, index=pd.RangeIndex(n_ok))
    for col, dtype in INCIDENT_COLUMNS.items():
        if dtype == "str":
            frame[col] = frame[col].fillna("").astype("str")
    frame = frame.astype(INCIDENT_COLUMNS)
    frame["line_no"] = np.asarray(records.line_no, dtype=np.int64)[ok]
    bad = np.flatnonzero(~ok)
    line_no = np.concatenate([np.asarray(records.bad_line_no, dtype=np.int64), records.line_no[bad]])
    reason = [*records.bad_reason, *rows.reason[bad].tolist()]
    raw = [*records.bad_raw, *records.raw(bad)]
    order = np.argsort(line_no, kind="stable")
    rejected = pd.DataFrame({
        "line_no": line_no[order].astype(np.int64),
        "reason": pd.Series(np.asarray(reason, dtype=object)[order], dtype="str"),
        "raw": pd.Series(np.asarray(raw, dtype=object)[order], dtype="str"),
    })
    warnings, lines = rows.warnings()
    return ReadChunk(frame=frame, rejected=rejected, warnings=warnings, rows_read=records.rows_read,
                     warning_lines=lines)
