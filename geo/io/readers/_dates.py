"""Dates as incident files write them, read in bulk, and the day/month order of a file.

Accepted forms: ISO 8601 (``2024-05-01``, ``2024-05-01T14:30:00Z``); day/month/year or
month/day/year with ``/``, ``.`` or ``-`` (``29/08/2014``, ``8/29/2014 12:00:00 AM``,
``09/05/14 14:30``); year first (``2014/08/29``); month names (``29-Aug-14``,
``16 February 2023``, ``September 16, 2024``); and spreadsheet serial day numbers
(``41880``, ``41880.75``), in the 1900 date system.

Which number of ``09/05/2014`` is the day is not in the value. It is decided once per file
from the file's own evidence (:class:`Evidence`), and every value is then read that way
(:meth:`Readings.pick`). ISO 8601 is parsed by pandas; the other forms once per distinct
text, with Arrow's regular expressions; the per-row work is numpy arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo._errors import DateOrderError

DATE_HINT = ("expected a date such as 2024-05-01, 2024-05-01T14:30:00Z, 29/08/2014, 8/29/2014 2:30 PM, "
             "29-Aug-14, or a spreadsheet date number")
"""What a date may look like, for the messages of rows whose date is not one."""
SERIAL_MIN, SERIAL_MAX = 10_000, 99_999
"""Bare numbers read as spreadsheet dates: five digits, 1927-05-18 to 2173-10-14 (a shorter one is a year)."""
SERIAL_EPOCH = np.datetime64("1899-12-30", "D")
"""Day 0 of spreadsheet serial numbers from 61 on (1 March 1900)."""
LOTUS_LEAP_DAY = 60
"""Serial 60 is 29 February 1900, a day that never was (Lotus 1-2-3's leap-year bug, kept by Excel)."""
MONTHS: dict[str, int] = {
    name: i + 1 for i, names in enumerate((
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
        ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
        ("oct", "october"), ("nov", "november"), ("dec", "december"),
    )) for name in names
}
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")

_TIME = (r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
         r"(?:\s*(?P<p>[AaPp])\.?[Mm]\.?)?)?$")
_ORDERED = r"^(?P<a>\d{1,2})(?P<s1>[/.-])(?P<b>\d{1,2})(?P<s2>[/.-])(?P<y>\d{4}|\d{2})" + _TIME
_YEAR_FIRST = r"^(?P<y>\d{4})(?P<s1>[/.-])\s?(?P<m>\d{1,2})(?P<s2>[/.-])\s?(?P<d>\d{1,2})\.?" + _TIME
_DAY_MONTH = r"^(?P<d>\d{1,2})(?:\.?[ -]|\. ?)(?P<mon>[A-Za-z]{3,9})\.?[ ,-]+(?P<y>\d{4}|\d{2})" + _TIME
_MONTH_DAY = r"^(?P<mon>[A-Za-z]{3,9})\.? (?P<d>\d{1,2}),? (?P<y>\d{4})" + _TIME
_NUMBER = r"^(?P<n>\d{1,9})(?:[.,](?P<frac>\d+))?$"
_CLOCK_PART = r"\s+\d{1,2}:\d\d.*$"
"""The time of day after a date (``12:00:00 AM``)."""
_OFFSET = r"[Tt ]\d{1,2}(?::?\d\d){0,2}(?:[.,]\d+)?\s*(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
_LOOKS_LIKE = re.compile("|".join(p.replace("?P<", "?P<x" + str(i)) for i, p in enumerate(
    (r"^\d{4}-\d{1,2}-\d{1,2}(?:[T ].*)?$", _ORDERED, _YEAR_FIRST, _DAY_MONTH, _MONTH_DAY))))
_ORDERED_PREFIX = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}"

# What each distinct text is.
EMPTY, UNKNOWN, ISO, ORDERED, CALENDAR, SERIAL, NUMBER = range(7)


def looks_like_date(text: str) -> bool:
    """Whether one value is written as a calendar date (used to recognise a header-less file)."""
    return bool(_LOOKS_LIKE.match(text.strip()))


def serial_days(serial: np.ndarray) -> np.ndarray:
    """
    The calendar day of whole spreadsheet serial numbers (1900 date system).

    Serial 1 is 1 January 1900. Serial 60 is the 29 February 1900 that Lotus 1-2-3 (and
    Excel after it) counts although 1900 was not a leap year: it is no day (NaT), and
    from 61 (1 March 1900) on every serial is one day later than a plain count from
    1 January 1900 would make it. Serials below 1 are no day either.
    """
    serial = np.asarray(serial, dtype=np.int64)
    day = np.where(serial < LOTUS_LEAP_DAY, SERIAL_EPOCH + 1 + serial, SERIAL_EPOCH + serial)
    return np.where((serial < 1) | (serial == LOTUS_LEAP_DAY), np.datetime64("NaT", "D"), day)


def has_ordered(values: pd.Series) -> bool:
    """Whether any value is a numeric date whose day/month order may matter (``09/05/2014``)."""
    if not len(values):
        return False
    return bool(pc.any(pc.match_substring_regex(_arrow(values), _ORDERED_PREFIX)).as_py())


# --------------------------------------------------------------------------- distinct texts


def _arrow(values: pd.Series) -> pa.Array:
    array = pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.fill_null(pc.cast(array, pa.string()), "")


def _ints(array: pa.Array, default: int = -1) -> np.ndarray:
    """Digits as int64; ``default`` where empty (an optional group that did not match)."""
    empty = pc.equal(array, "")
    cleaned = pc.if_else(empty, pa.scalar(None, array.type), array)
    return np.asarray(pc.cast(cleaned, pa.int64()).fill_null(default).to_numpy(zero_copy_only=False))


@dataclass
class _Forms:
    """What each distinct text not in ISO 8601 says, before the file's order and years are known."""

    kind: np.ndarray
    fixed: np.ndarray
    """Serial numbers' values (datetime64[us])."""
    year: np.ndarray
    """The year as written: four digits, or two (``short``); the year of a serial number."""
    short: np.ndarray
    month1: np.ndarray
    day1: np.ndarray
    """The reading day first (or the only reading)."""
    month2: np.ndarray
    day2: np.ndarray
    """The reading month first (the same as day first when the form has one reading)."""
    clock: np.ndarray
    """Time of day in microseconds (-1: not a time of day)."""
    timed: np.ndarray
    """A time of day that means an instant; a spreadsheet's midnight is a date, not a time."""

    @classmethod
    def empty(cls, n: int) -> _Forms:
        def ints() -> np.ndarray:
            return np.full(n, -1, dtype=np.int64)
        return cls(kind=np.full(n, UNKNOWN, dtype=np.int8), fixed=np.full(n, np.datetime64("NaT", "us")),
                   year=ints(), short=np.zeros(n, bool), month1=ints(), day1=ints(), month2=ints(),
                   day2=ints(), clock=np.zeros(n, dtype=np.int64), timed=np.zeros(n, bool))


def _forms(texts: pa.Array) -> _Forms:
    """Parse distinct texts that are not ISO 8601: each form is tried on what the ones before left."""
    out = _Forms.empty(len(texts))
    todo = np.arange(len(texts))
    for parse in (_ordered, _year_first, _day_month, _month_day, _number):
        if not len(todo):
            break
        hit = parse(texts.take(pa.array(todo)), todo, out)
        todo = todo[~hit]
    return out


def _match(texts: pa.Array, pattern: str) -> tuple[np.ndarray, pa.StructArray]:
    found = pc.extract_regex(texts, pattern)
    hit = np.array(found.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return hit, found.filter(pa.array(hit))


def _clock(found: pa.StructArray, idx: np.ndarray, out: _Forms) -> None:
    """Time of day from the ``H M S f p`` groups; -1 where it is not one. Midnight is no time."""
    hour, minute, second = (_ints(found.field(k), 0) for k in ("H", "M", "S"))
    frac = found.field("f")
    micro = _ints(pc.utf8_slice_codeunits(pc.utf8_rpad(frac, 6, "0"), 0, 6), 0)
    half = pc.utf8_lower(found.field("p")).to_numpy(zero_copy_only=False)
    twelve = half != ""
    bad = (minute > 59) | (second > 59) | np.where(twelve, hour > 12, hour > 23)
    hour = np.where(twelve, hour % 12 + np.where(half == "p", 12, 0), hour)
    clock = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micro
    out.clock[idx] = np.where(bad, -1, clock)
    out.timed[idx] = ~bad & (clock != 0)


def _ordered(texts: pa.Array, idx: np.ndarray, out: _Forms) -> np.ndarray:
    """``29/08/2014``, ``8/29/14 2:30 PM``: two readings, day first and month first."""
    hit, found = _match(texts, _ORDERED)
    same = pc.equal(found.field("s1"), found.field("s2")).to_numpy(zero_copy_only=False)
    hit[hit] = same
    found = found.filter(pa.array(same))
    at = idx[hit]
    a, b, year = _ints(found.field("a")), _ints(found.field("b")), found.field("y")
    out.kind[at] = ORDERED
    out.day1[at], out.month1[at], out.month2[at], out.day2[at] = a, b, a, b
    out.year[at] = _ints(year)
    out.short[at] = pc.utf8_length(year).to_numpy(zero_copy_only=False) == 2
    _clock(found, at, out)
    return hit


def _year_first(texts: pa.Array, idx: np.ndarray, out: _Forms) -> np.ndarray:
    """``2014/08/29``, ``2014.8.29.``, ``2014-08-29 12:00:00 AM``."""
    hit, found = _match(texts, _YEAR_FIRST)
    same = pc.equal(found.field("s1"), found.field("s2")).to_numpy(zero_copy_only=False)
    hit[hit] = same
    found = found.filter(pa.array(same))
    at = idx[hit]
    out.kind[at] = CALENDAR
    out.year[at] = _ints(found.field("y"))
    out.month1[at] = out.month2[at] = _ints(found.field("m"))
    out.day1[at] = out.day2[at] = _ints(found.field("d"))
    _clock(found, at, out)
    return hit


def _named(texts: pa.Array, idx: np.ndarray, out: _Forms, pattern: str) -> np.ndarray:
    hit, found = _match(texts, pattern)
    lower = pc.utf8_lower(found.field("mon"))
    number = np.array([0, *MONTHS.values()], dtype=np.int64)
    month = number[pc.index_in(lower, value_set=pa.array(list(MONTHS), type=lower.type)).fill_null(-1)
                   .to_numpy(zero_copy_only=False) + 1]
    known = month > 0
    hit[hit] = known
    found = found.filter(pa.array(known))
    at = idx[hit]
    year = found.field("y")
    out.kind[at] = CALENDAR
    out.year[at] = _ints(year)
    out.short[at] = pc.utf8_length(year).to_numpy(zero_copy_only=False) == 2
    out.month1[at] = out.month2[at] = month[known]
    out.day1[at] = out.day2[at] = _ints(found.field("d"))
    _clock(found, at, out)
    return hit


def _day_month(texts: pa.Array, idx: np.ndarray, out: _Forms) -> np.ndarray:
    """``29-Aug-14``, ``29-Aug-2014``, ``16 February 2023``."""
    return _named(texts, idx, out, _DAY_MONTH)


def _month_day(texts: pa.Array, idx: np.ndarray, out: _Forms) -> np.ndarray:
    """``September 16, 2024``, ``Aug 29 2014``."""
    return _named(texts, idx, out, _MONTH_DAY)


def _number(texts: pa.Array, idx: np.ndarray, out: _Forms) -> np.ndarray:
    """Spreadsheet serial day numbers; the fraction of a day is the time, to the second."""
    hit, found = _match(texts, _NUMBER)
    at = idx[hit]
    whole = _ints(found.field("n"))
    frac = pc.binary_join_element_wise("0.", pc.if_else(pc.equal(found.field("frac"), ""), "0",
                                                        found.field("frac")), "")
    seconds = np.rint(pc.cast(frac, pa.float64()).to_numpy(zero_copy_only=False) * 86_400).astype(np.int64)
    plausible = (whole >= SERIAL_MIN) & (whole <= SERIAL_MAX)
    days = serial_days(np.where(plausible, whole, 1) + seconds // 86_400)
    value = days.astype("datetime64[us]") + (seconds % 86_400) * np.timedelta64(1_000_000, "us")
    out.kind[at] = np.where(plausible, SERIAL, NUMBER)
    out.fixed[at] = np.where(plausible, value, np.datetime64("NaT", "us"))
    out.year[at] = np.where(plausible, days.astype("datetime64[Y]").astype(np.int64) + 1970, -1)
    out.timed[at] = plausible & (seconds % 86_400 != 0)
    return hit


# --------------------------------------------------------------------------- rows


def _civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Calendar dates (datetime64[D]); NaT where there is no such day."""
    ok = (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1)
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0)
    first = months.astype("datetime64[M]").astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(np.int64)
    ok &= day <= length
    return np.where(ok, first + (day - 1), np.datetime64("NaT", "D"))


@dataclass
class Readings:
    """Each row's date read day first and month first (the same unless the form is ``09/05/2014``)."""

    text: pd.Series
    day_first: np.ndarray
    """datetime64[us]: naive wall-clock time, or UTC where :attr:`explicit`; NaT where no date."""
    month_first: np.ndarray
    timed: np.ndarray
    """The value has a time of day (else it is a whole day)."""
    explicit: np.ndarray
    """The value carries its UTC offset (found only when asked for: see :func:`read`)."""
    kind: np.ndarray
    year: np.ndarray
    """The year as written, two-digit years resolved; -1 where none."""
    expected_year: np.ndarray | None
    """The row's ``year`` column, where it holds a year; -1 elsewhere. Dates not in ISO 8601 must agree."""

    @property
    def ordered(self) -> np.ndarray:
        """Rows whose reading depends on the day/month order."""
        return np.asarray((self.kind == ORDERED) & (self.day_first != self.month_first))

    def pick(self, dayfirst: bool | None) -> np.ndarray:
        """The rows read in the file's order (``None``: no row depends on it)."""
        return self.month_first if dayfirst is False else self.day_first

    def why(self, idx: np.ndarray, dayfirst: bool | None) -> list[str]:
        """Why each row at ``idx`` has no date when read in that order (after its quoted value)."""
        kind, year = self.kind[idx], self.year[idx]
        expected = self.expected_year[idx] if self.expected_year is not None else np.full(len(idx), -1)
        other = (self.day_first if dayfirst is False else self.month_first)[idx]
        order = order_name(dayfirst is not False)
        out = []
        for k, y, e, alt in zip(kind.tolist(), year.tolist(), expected.tolist(), other, strict=True):
            if k != ISO and e > 0 and y > 0 and y != e:
                out.append(f"is in {y}, but year is {e}")
            elif k == NUMBER:
                out.append("is a number, not a date (a spreadsheet date number has five digits: "
                           f"{SERIAL_MIN} is 18 May 1927)")
            elif k == ORDERED and dayfirst is not None and not np.isnat(alt):
                out.append(f"is not a date when read {order}")
            else:
                out.append(f"is not a date ({DATE_HINT})")
        return out


def _expected_years(year: pd.Series | None) -> np.ndarray | None:
    if year is None:
        return None
    numbers = pd.to_numeric(year, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(numbers) & (np.floor(numbers) == numbers) & (numbers >= 1000) & (numbers <= 9999)
    return np.where(whole, numbers, -1).astype(np.int64)


def read(values: pd.Series, *, now_year: int, year: pd.Series | None = None, offsets: bool = False,
         days: bool = False) -> Readings:
    """
    Every reading of a column of dates.

    ISO 8601 is parsed by pandas (which caches repeated values); the other forms once
    per distinct text, with Arrow's regular expressions.

    Parameters
    ----------
    values
        Stripped text; empty is no date.
    now_year
        This year: a two-digit year is the latest year ending in those digits that is not
        after it (unless ``year`` says otherwise).
    year
        The file's ``year`` column, if it has one: it gives two-digit years their century,
        and a date not written in ISO 8601 that falls in another year is no date.
    offsets
        Also find which values carry a UTC offset (:attr:`Readings.explicit`), for times
        read in a local time zone.
    days
        Only the calendar day matters (times not in ISO 8601 are not read): enough to
        weigh the day/month order, and far fewer distinct texts to parse.
    """
    n = len(values)
    array = _arrow(values)
    lengths = pc.utf8_length(array).to_numpy(zero_copy_only=False)
    kind = np.where(lengths == 0, EMPTY, UNKNOWN).astype(np.int8)
    day_first = np.full(n, np.datetime64("NaT", "us"))
    timed, explicit = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    # Only a text that starts with a year can be ISO 8601: pandas is not asked about the others.
    at = np.flatnonzero(pc.match_substring_regex(array, r"^\d{4}-?\d").to_numpy(zero_copy_only=False))
    if len(at):
        parsed = pd.to_datetime(values if len(at) == n else values.iloc[at], format="ISO8601", utc=True,
                                errors="coerce")
        # A year alone, or a year and a month, is no date.
        iso = parsed.notna().to_numpy() & (lengths[at] >= 8)
        at = at[iso]
        day_first[at] = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")[iso]
        kind[at] = ISO
        timed[at] = lengths[at] > 10
        # A written midnight is an instant only with a T or an offset (a tool's, not a spreadsheet's).
        midnight = timed & (day_first - day_first.astype("datetime64[D]") == np.timedelta64(0))
        look = np.flatnonzero((timed & offsets) | midnight)
        if len(look):
            sub = array.take(pa.array(look))
            explicit[look] = pc.match_substring_regex(sub, _OFFSET).to_numpy(zero_copy_only=False)
            tee = pc.match_substring_regex(sub, r"^[^Tt]*\d[Tt]\d").to_numpy(zero_copy_only=False)
            timed[look] &= ~midnight[look] | explicit[look] | tee
    month_first, written = day_first.copy(), np.full(n, -1, dtype=np.int64)
    expected = _expected_years(year)
    rest = np.flatnonzero(kind == UNKNOWN)
    if len(rest):
        texts = array.take(pa.array(rest))
        if days:
            texts = pc.replace_substring_regex(texts, _CLOCK_PART, "")
        got = _calendar(texts, now_year, expected[rest] if expected is not None else None)
        kind[rest], day_first[rest], month_first[rest], timed[rest], written[rest] = got
    return Readings(text=values, day_first=day_first, month_first=month_first, timed=timed, explicit=explicit,
                    kind=kind, year=written, expected_year=expected)


def _calendar(texts: pa.Array, now_year: int, expected: np.ndarray | None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kind, readings day first and month first, time of day and year of texts not in ISO 8601."""
    encoded = pc.dictionary_encode(texts)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    forms = _forms(encoded.dictionary)
    kind, written, clock = forms.kind[codes], forms.year[codes], forms.clock[codes]
    full = 2000 + written
    full = np.where(full > now_year, full - 100, full)
    if expected is not None:
        full = np.where((expected > 0) & (expected % 100 == written), expected, full)
    written = np.where(forms.short[codes], full, written)
    tod = np.where(clock < 0, 0, clock) * np.timedelta64(1, "us")
    calendar = ((kind == ORDERED) | (kind == CALENDAR)) & (clock >= 0)
    fixed = forms.fixed[codes]
    other_year = (expected > 0) & (written > 0) & (written != expected) if expected is not None else None

    def reading(month: np.ndarray, day: np.ndarray) -> np.ndarray:
        day_value = _civil(written, month[codes], day[codes]).astype("datetime64[us]") + tod
        value = np.where(calendar, day_value, fixed)
        return value if other_year is None else np.where(other_year, np.datetime64("NaT"), value)

    return (kind, reading(forms.month1, forms.day1), reading(forms.month2, forms.day2), forms.timed[codes],
            written)


# --------------------------------------------------------------------------- the file's order


@dataclass
class _Example:
    line: int
    column: str
    value: str
    other: str = ""
    """For a start/end pair: the other column and value."""

    def __str__(self) -> str:
        if self.other:
            return f"{self.column} '{self.value}' to {self.other} (line {self.line})"
        return f"'{self.value}' ({self.column}, line {self.line})"

    def only(self, order: str) -> str:
        """Why this row can only be read in one order."""
        what = "only runs forward" if self.other else "is only a date"
        return f"{self} {what} read {order} first"


def _spelled(value: np.datetime64) -> str:
    day = pd.Timestamp(value)
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


@dataclass
class Evidence:
    """What a file's rows say about its day/month order, gathered chunk after chunk."""

    name: str
    """The file name, for messages."""
    day_only: _Example | None = None
    month_only: _Example | None = None
    ambiguous: list[tuple[_Example, str, str]] = field(default_factory=list)
    """Up to two distinct values that read both ways, with both readings spelled out."""
    counts: dict[str, int] = field(default_factory=lambda: {"day": 0, "month": 0})
    """Rows read only day first, and only month first."""

    def tally(self, columns: Sequence[tuple[str, Readings]], line_no: np.ndarray) -> None:
        """
        Count the rows of one chunk that only one order reads (or that both read differently).

        ``columns`` are the file's date columns, a start first and, if the format has
        one, its end second: a row read so that its end comes before its start is not
        read that way.
        """
        if not columns:
            return
        n = len(line_no)
        day_ok, month_ok = np.ones(n, bool), np.ones(n, bool)
        differs, ordered = np.zeros(n, bool), np.zeros(n, bool)
        for _, r in columns:
            # Only values whose reading depends on the order weigh for or against one.
            numeric = r.kind == ORDERED
            day_ok &= ~numeric | ~np.isnat(r.day_first)
            month_ok &= ~numeric | ~np.isnat(r.month_first)
            ordered |= numeric
            differs |= r.ordered
        if len(columns) > 1:
            (_, start), (_, end) = columns[0], columns[1]
            day_ok &= _forward(start.day_first, end.day_first)
            month_ok &= _forward(start.month_first, end.month_first)
        day_only = ordered & day_ok & ~month_ok
        month_only = ordered & month_ok & ~day_ok
        both = day_ok & month_ok & differs
        self.counts["day"] += int(day_only.sum())
        self.counts["month"] += int(month_only.sum())
        if self.day_only is None and day_only.any():
            self.day_only = self._example(columns, line_no, int(np.argmax(day_only)), dayfirst=True)
        if self.month_only is None and month_only.any():
            self.month_only = self._example(columns, line_no, int(np.argmax(month_only)), dayfirst=False)
        for i in np.flatnonzero(both)[:50].tolist():
            if len(self.ambiguous) >= 2:
                break
            col, r = next((c, r) for c, r in columns if r.ordered[i])
            value = str(r.text.iloc[i])
            if all(value != seen.value for seen, _, _ in self.ambiguous):
                self.ambiguous.append((_Example(int(line_no[i]), col, value), _spelled(r.day_first[i]),
                                       _spelled(r.month_first[i])))

    @staticmethod
    def _example(columns: Sequence[tuple[str, Readings]], line_no: np.ndarray, i: int, *,
                 dayfirst: bool) -> _Example:
        """The row's ordered value that the other order does not read (or the start/end pair)."""
        for col, r in columns:
            other = r.month_first if dayfirst else r.day_first
            if r.kind[i] == ORDERED and np.isnat(other[i]):
                return _Example(int(line_no[i]), col, str(r.text.iloc[i]))
        (start_col, start), (end_col, end) = columns[0], columns[1]
        return _Example(int(line_no[i]), start_col, str(start.text.iloc[i]),
                        other=f"{end_col} '{end.text.iloc[i]}'")

    def decide(self) -> tuple[bool | None, str]:
        """
        The file's order, and a sentence saying why.

        Returns ``None`` when no date depends on the order.

        Raises
        ------
        DateOrderError
            When the dates contradict each other, or when some depend on the order and
            none tells which it is.
        """
        choose = "choose the order (--dayfirst or --monthfirst)"
        day, month = self.day_only, self.month_only
        if day is not None and month is not None:
            days, months = self.counts["day"], self.counts["month"]
            msg = (f"{self.name}: {day.column}: the dates contradict each other: {days} row(s) read only day "
                   f"first, such as {day}, but {months} only month first, such as {month}; correct the file, "
                   f"or {choose}: the rows that do not fit it are then rejected")
            raise DateOrderError(msg)
        if day is not None:
            return True, f"{order_name(True)}: {day.only('day')}"
        if month is not None:
            return False, f"{order_name(False)}: {month.only('month')}"
        if self.ambiguous:
            first = self.ambiguous[0][0]
            shown = " and ".join(f"'{ex.value}' ({dm} or {md})" for ex, dm, md in self.ambiguous)
            msg = (f"{self.name}: {first.column}: dates such as {shown} read either day first or month "
                   f"first, and no date in the file tells which; {choose}")
            raise DateOrderError(msg)
        return None, ""


def order_name(dayfirst: bool) -> str:
    """``day first (d/m/y)`` or ``month first (m/d/y)``."""
    return "day first (d/m/y)" if dayfirst else "month first (m/d/y)"


def _forward(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether each end is not on a day before its start (True where either is missing)."""
    both = ~np.isnat(start) & ~np.isnat(end)
    return np.asarray(~both | (end.astype("datetime64[D]") >= start.astype("datetime64[D]")))


