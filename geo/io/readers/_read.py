"""Detect a file's format and read it in normalised chunks."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geo import clock
from geo._errors import ReaderError
from geo.core.categories import vocabulary
from geo.io.readers import _dates, acled, mapped, template, ucdp
from geo.io.readers._base import FORMATS, Detected, FormatReader, ReadChunk
from geo.io.readers._csvio import SAMPLE, Plan, iter_records, sniff
from geo.io.readers._input import Input
from geo.io.readers._normalise import Context, Rows, assemble
from geo.io.readers._party import compile_mapping
from geo.io.readers.mapped import ColumnMapping

READERS: dict[str, FormatReader] = {"acled": acled, "ucdp": ucdp, "template": template}
"""Format name -> module, in the order detection tries them."""
_LABELS = {"template": "house template", "acled": "ACLED", "ucdp": "UCDP GED", "mapped": "mapped CSV"}
CHUNK_ROWS = 100_000
"""The records a reader yields at once, unless asked otherwise."""
SAMPLE_ROWS = 2000
"""Records looked at (in the first :data:`SAMPLE` bytes), when a file is opened, for dates whose
day/month order matters."""
SCAN_ROWS = 250_000
"""Records per chunk when the whole file's dates are read for their order."""


@dataclass(frozen=True)
class _Resolved:
    detected: Detected
    plan: Plan
    reader: FormatReader
    keys: list[str]
    columns: dict[str, str] | None
    absent: frozenset[str]
    dates: tuple[str, ...] = ()
    """Keys of the date columns whose order the file decides: a start, then its end if any."""
    year: str | None = None
    """Key of the ``year`` column the start date must agree with."""


@dataclass(frozen=True)
class _Order:
    """The file's day/month order: decided (``settled``) or not looked for in the whole file yet."""

    dayfirst: bool | None
    settled: bool
    note: str = ""


def _key(name: str) -> str:
    cleaned = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")  # BOMs, zero-width spaces
    return cleaned.strip().lower()


def _keys(header: Sequence[str]) -> tuple[list[str], list[str]]:
    """Lower-cased, unique column keys, and a warning per duplicate."""
    keys, notes, seen = [], [], set()
    for i, name in enumerate(header):
        key = _key(name) or f"column_{i + 1}"
        if key in seen:
            notes.append(f"column {i + 1} {name!r}: duplicate column name; the first one is used")
            key = f"{key}__{i + 1}"
        seen.add(key)
        keys.append(key)
    return keys, notes


def _missing(inp: Input, fmt: str, keys: Sequence[str], required: Sequence[str],
             header: Sequence[str]) -> None:
    missing = [c for c in required if c not in keys]
    if missing:
        shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        raise inp.fail(f"{_LABELS[fmt]} file: missing column(s) {', '.join(missing)} (found: {shown})")


def _guess(inp: Input, plan: Plan, keys: Sequence[str], header: Sequence[str]) -> tuple[str, str]:
    """The format and layout named by a header row (or a header-less UCDP GED file)."""
    for name, module in READERS.items():
        found = module.layout(keys)
        if found:
            return name, found
    if ucdp.headerless(plan.first_record):
        return "ucdp", ""
    shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
    raise inp.fail(f"unknown layout: the header ({shown}) is not the house template, ACLED or UCDP GED; "
                   "give a column mapping, or the format")


def _resolve(inp: Input, format: str, mapping: ColumnMapping | None, encoding: str | None) -> _Resolved:
    if format not in ("auto", *FORMATS):
        raise inp.fail(f"unknown format {format!r} (expected auto, {', '.join(FORMATS)})")
    if mapping is not None and format not in ("auto", "mapped"):
        raise inp.fail(f"a column mapping applies to the mapped format only, not to {format!r}")
    if format == "mapped" and mapping is None:
        raise inp.fail("the mapped format needs a column mapping (a mapping file or field=column pairs)")
    plan = sniff(inp, encoding=encoding or (mapping.encoding if mapping else None))
    header = [h.strip() for h in plan.first_record]
    keys, notes = _keys(header)
    fmt, layout = format, ""
    if format == "auto":
        fmt, layout = ("mapped", "") if mapping is not None else _guess(inp, plan, keys, header)
    has_header = not (fmt == "ucdp" and ucdp.layout(keys) is None and ucdp.headerless(plan.first_record))
    if fmt in READERS and not layout:
        layout = READERS[fmt].layout(keys) or fmt
    if not has_header:
        header, keys, notes, layout = list(ucdp.COLUMNS), list(ucdp.COLUMNS), [], "ucdp-ged-headerless"
        notes.append("no header row: read as UCDP GED's 49 columns")
    columns, absent = None, frozenset[str]()
    reader: FormatReader
    if fmt == "mapped":
        assert mapping is not None  # noqa: S101 - checked above
        columns = mapped.resolve(mapping, header, keys, inp.name)
        absent = mapped.absent(columns, mapping)
        unmapped = [f for f in mapped.REQUIRED if f in absent]
        if unmapped:
            raise inp.fail(f"mapping: {', '.join(unmapped)} not mapped to a column (and no default)")
        if "category" in absent:
            notes.append("category: not mapped; every incident is stored as 'other'")
        reader = template
        layout = "mapped"
    else:
        reader = READERS[fmt]
        _missing(inp, fmt, keys, reader.REQUIRED, header)
        if fmt == "template":
            absent = frozenset(template.EXTRA_COLUMNS + template.COLUMNS) - set(keys)
    wanted = set(columns.values()) if columns is not None else set(reader.USED or keys)
    plan = replace(plan, has_header=has_header, usecols=tuple(i for i, k in enumerate(keys) if k in wanted))
    detected = Detected(format=fmt, encoding=plan.encoding, delimiter=plan.delimiter, has_header=has_header,
                        columns=header, warnings=[*plan.warnings, *notes], layout=layout)
    dates, year = _date_keys(reader, keys, columns, mapping)
    return _Resolved(detected, plan, reader, keys, columns, absent, dates, year)


def _date_keys(reader: FormatReader, keys: Sequence[str], columns: dict[str, str] | None,
               mapping: ColumnMapping | None) -> tuple[tuple[str, ...], str | None]:
    """The keys of the date columns whose day/month order matters, and of the ``year`` column."""
    if columns is None:
        year = reader.YEAR_COLUMN if reader.YEAR_COLUMN in keys else None
        return tuple(k for k in reader.DATE_COLUMNS if k in keys), year
    if mapping is not None and mapping.date_format:
        return (), None
    return tuple(columns[t] for t in template.DATE_COLUMNS if t in columns), None


def _this_year(now: np.datetime64) -> int:
    return int(now.astype("datetime64[Y]").astype(np.int64)) + 1970


def _date_chunks(inp: Input, resolved: _Resolved, rows: int, block: int = 0,
                 ) -> Generator[tuple[np.ndarray, list[pd.Series], pd.Series | None], None, None]:
    """Line numbers, date columns and year column of the file's records, ``rows`` at a time."""
    keys = resolved.keys
    wanted = [*resolved.dates, *([resolved.year] if resolved.year else [])]
    at = {k: keys.index(k) for k in wanted}
    plan = replace(resolved.plan, usecols=tuple(sorted(at.values())))
    for records in iter_records(inp, plan, len(keys), rows, block=block):
        frame = records.frame
        year = frame[at[resolved.year]].str.strip() if resolved.year else None
        yield records.line_no, [frame[at[k]].str.strip() for k in resolved.dates], year


def _scan_order(inp: Input, resolved: _Resolved, now_year: int) -> _Order:
    """Decide the day/month order from every date of the file."""
    header = resolved.detected.columns
    labels = [header[resolved.keys.index(k)] for k in resolved.dates]
    evidence = _dates.Evidence(inp.name)
    for line_no, columns, year in _date_chunks(inp, resolved, SCAN_ROWS):
        readings = [(label, _dates.read(values, now_year=now_year, year=year if i == 0 else None, days=True))
                    for i, (label, values) in enumerate(zip(labels, columns, strict=True))]
        evidence.tally(readings, line_no)
    dayfirst, note = evidence.decide()
    return _Order(dayfirst, True, note)


def _order(inp: Input, resolved: _Resolved, dayfirst: bool | None, now_year: int) -> _Order:
    """
    The day/month order: as chosen, else decided from the whole file if its first records need one.

    A file whose first records hold no date like ``09/05/2014`` is left unsettled: it is
    decided when (if ever) a later chunk holds one.
    """
    if dayfirst is not None:
        return _Order(dayfirst, True, f"{_dates.order_name(dayfirst)}, as chosen")
    if not resolved.dates:
        return _Order(None, True)
    first = _date_chunks(inp, resolved, SAMPLE_ROWS, SAMPLE)
    try:
        sample = next(first, None)
    finally:
        first.close()
    if sample is None or not any(_dates.has_ordered(values) for values in sample[1]):
        return _Order(None, False)
    return _scan_order(inp, resolved, now_year)


def detect(source: str | Path | bytes, *, format: str = "auto", mapping: ColumnMapping | None = None,
           name: str | None = None, encoding: str | None = None, dayfirst: bool | None = None) -> Detected:
    """
    Sniff a file's format, encoding, delimiter, header and the day/month order of its dates.

    Rows are not normalised; only the date columns are read, and only when the first
    records hold a date like ``09/05/2014``.

    Parameters
    ----------
    source
        A path, or the file's bytes.
    format
        ``auto`` (from the header row), or one of :data:`FORMATS` to force it.
    mapping
        A column mapping; with ``auto`` it makes the file ``mapped``.
    name
        The file name used in messages (default: the path's name, or ``<bytes>``).
    encoding
        The encoding, instead of detecting it (``cp949``, ``cp1251``, ...).
    dayfirst
        The day/month order of dates like ``09/05/2014`` (True: 9 May), instead of
        deciding it from the file (a mapping's ``dayfirst`` option is the default).

    Returns
    -------
    Detected
        With the day/month order the file's dates are read in, when it matters.

    Raises
    ------
    ReaderError
        When the file cannot be read as incidents at all; :class:`~geo.DateOrderError`
        when the day/month order of its dates must be chosen.
    """
    inp = Input(source, name)
    resolved = _resolve(inp, format, mapping, encoding)
    chosen = dayfirst if dayfirst is not None else mapping.dayfirst if mapping is not None else None
    order = _order(inp, resolved, chosen, _this_year(_now(None)))
    return replace(resolved.detected, dayfirst=order.dayfirst, dates=order.note)


def header(source: str | Path | bytes, *, name: str | None = None, encoding: str | None = None) -> list[str]:
    """
    The first row of a CSV file, as written: the columns to offer when mapping by hand.

    Parameters
    ----------
    source
        A path, or the file's bytes.
    name
        The file name used in messages.
    encoding
        The encoding, instead of detecting it.

    Raises
    ------
    ReaderError
        When the file is empty or not text.
    """
    return [h.strip() for h in sniff(Input(source, name), encoding=encoding).first_record]


def _now(now: datetime | None) -> np.datetime64:
    """Now (default: the clock) as naive UTC nanoseconds; a naive ``now`` is UTC."""
    moment = clock.now() if now is None else now if now.tzinfo else now.replace(tzinfo=UTC)
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "ns")


def read_incidents(
    source: str | Path | bytes,
    *,
    format: str = "auto",
    mapping: ColumnMapping | None = None,
    source_name: str | None = None,
    party_mapping: Sequence[tuple[str, str, str]] = (),
    now: datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    name: str | None = None,
    encoding: str | None = None,
    parties: Collection[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    dayfirst: bool | None = None,
) -> Iterator[ReadChunk]:
    """
    Read an incident CSV in normalised chunks; bad rows are rejected, never raised.

    The file is sniffed when this is called (so an unreadable file raises here), then
    read lazily, ``chunk_rows`` records at a time.

    Parameters
    ----------
    source
        A path, or the file's bytes.
    format
        ``auto`` (from the header row), or one of :data:`FORMATS` to force it.
    mapping
        The column mapping for a ``mapped`` file.
    source_name
        The incidents' source for template and mapped rows that do not name one
        (ACLED and UCDP rows are always ``acled`` and ``ucdp``).
    party_mapping
        The scenario's ``(pattern, match, party)`` triples, applied to actor names.
    now
        The time after which incidents are "in the future" (default: now; naive is UTC).
    chunk_rows
        The most records per chunk.
    name
        The file name used in messages (default: the path's name, or ``<bytes>``).
    encoding
        The encoding, instead of detecting it (it must decode the whole file).
    parties
        The scenario's party ids: a template ``party`` outside them is ignored with a warning.
    bbox
        The scenario's (west, south, east, north): a pair that only falls inside when
        swapped is read swapped, with a warning.
    dayfirst
        The day/month order of dates like ``09/05/2014`` (True: 9 May), instead of
        deciding it from the file's own dates; rows whose date is not a date that way
        are rejected.

    Returns
    -------
    Iterator[ReadChunk]
        Chunks whose ``len(frame) + len(rejected) == rows_read``.

    Raises
    ------
    ReaderError
        When the file cannot be read at all: not a CSV, empty, an unknown layout,
        missing required columns, or an encoding that does not decode it;
        :class:`~geo.DateOrderError` when its dates do not settle their day/month order
        (or contradict each other), which must then be chosen.
    """
    if chunk_rows < 1:
        msg = f"chunk_rows: must be at least 1, got {chunk_rows}"
        raise ReaderError(msg)
    triples = tuple(tuple(str(x) for x in t) for t in party_mapping)
    compile_mapping(triples)
    inp = Input(source, name)
    resolved = _resolve(inp, format, mapping, encoding)
    moment = _now(now)
    chosen = dayfirst if dayfirst is not None else mapping.dayfirst if mapping is not None else None
    order = _order(inp, resolved, chosen, _this_year(moment))
    ctx = Context(
        vocab=vocabulary(), now=moment, source_name=source_name, party_mapping=triples,  # type: ignore[arg-type]
        parties=frozenset(parties) if parties is not None else None, bbox=bbox,
        options=mapping if resolved.columns is not None else None, absent=resolved.absent,
        dayfirst=order.dayfirst, now_year=_this_year(moment),
    )
    return _chunks(inp, resolved, ctx, chunk_rows, mapping, order)


def _chunks(inp: Input, resolved: _Resolved, ctx: Context, chunk_rows: int,
            mapping: ColumnMapping | None, order: _Order) -> Iterator[ReadChunk]:
    keys = resolved.keys
    for records in iter_records(inp, resolved.plan, len(keys), chunk_rows):
        raw = records.frame
        raw.columns = [keys[i] for i in raw.columns]
        if not order.settled and any(_dates.has_ordered(raw[k]) for k in resolved.dates):
            # The first records held no date like 09/05/2014, but this chunk does.
            order = _scan_order(inp, resolved, ctx.now_year)
            ctx.dayfirst = order.dayfirst
        if resolved.columns is not None and mapping is not None:
            raw = mapped.prepare(raw, resolved.columns, mapping)
        rows = Rows(records.line_no)
        ctx.rows = rows
        values = resolved.reader.normalise(raw, ctx)
        yield assemble(values, rows, records)
