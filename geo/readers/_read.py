"""Detect a file's format and read it in normalised chunks."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from geo import clock
from geo._errors import ReaderError
from geo.categories import vocabulary
from geo.readers import acled, mapped, template, ucdp
from geo.readers._base import FORMATS, Detected, FormatReader, ReadChunk
from geo.readers._csvio import Input, Plan, iter_records, sniff
from geo.readers._normalise import Context, Rows, assemble
from geo.readers._party import compile_mapping
from geo.readers.mapped import ColumnMapping

READERS: dict[str, FormatReader] = {"acled": acled, "ucdp": ucdp, "template": template}
"""Format name -> module, in the order detection tries them."""
_LABELS = {"template": "house template", "acled": "ACLED", "ucdp": "UCDP GED", "mapped": "mapped CSV"}


@dataclass(frozen=True)
class _Resolved:
    detected: Detected
    plan: Plan
    reader: FormatReader
    keys: list[str]
    columns: dict[str, str] | None
    absent: frozenset[str]


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
    return _Resolved(detected, plan, reader, keys, columns, absent)


def detect(source: str | Path | bytes, *, format: str = "auto", mapping: ColumnMapping | None = None,
           name: str | None = None, encoding: str | None = None) -> Detected:
    """
    Sniff a file's format, encoding, delimiter and header without reading its rows.

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
        The encoding, when it is known and not UTF-8 or cp1252 (``cp949``, ``cp1251``, ...).

    Returns
    -------
    Detected

    Raises
    ------
    ReaderError
        When the file cannot be read as incidents at all.
    """
    return _resolve(Input(source, name), format, mapping, encoding).detected


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
        The encoding, when it is known and not UTF-8 or cp1252.

    Raises
    ------
    ReaderError
        When the file is empty or not text.
    """
    return [h.strip() for h in sniff(Input(source, name), encoding=encoding).first_record]


def _now(now: datetime | None) -> np.datetime64:
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
    chunk_rows: int = 100_000,
    name: str | None = None,
    encoding: str | None = None,
    parties: Collection[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
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
        The encoding, when it is known and not UTF-8 or cp1252.
    parties
        The scenario's party ids: a template ``party`` outside them is ignored with a warning.
    bbox
        The scenario's (west, south, east, north): a pair that only falls inside when
        swapped is read swapped, with a warning.

    Returns
    -------
    Iterator[ReadChunk]
        Chunks whose ``len(frame) + len(rejected) == rows_read``.

    Raises
    ------
    ReaderError
        When the file cannot be read at all: not a CSV, empty, an unknown layout, or
        missing required columns.
    """
    if chunk_rows < 1:
        msg = f"chunk_rows: must be at least 1, got {chunk_rows}"
        raise ReaderError(msg)
    triples = tuple(tuple(str(x) for x in t) for t in party_mapping)
    compile_mapping(triples)
    inp = Input(source, name)
    resolved = _resolve(inp, format, mapping, encoding)
    ctx = Context(
        vocab=vocabulary(), now=_now(now), source_name=source_name, party_mapping=triples,  # type: ignore[arg-type]
        parties=frozenset(parties) if parties is not None else None, bbox=bbox,
        options=mapping if resolved.columns is not None else None, absent=resolved.absent,
    )
    return _chunks(inp, resolved, ctx, chunk_rows, mapping)


def _chunks(inp: Input, resolved: _Resolved, ctx: Context, chunk_rows: int,
            mapping: ColumnMapping | None) -> Iterator[ReadChunk]:
    keys = resolved.keys
    for records in iter_records(inp, resolved.plan, len(keys), chunk_rows):
        raw = records.frame
        raw.columns = [keys[i] for i in raw.columns]
        if resolved.columns is not None and mapping is not None:
            raw = mapped.prepare(raw, resolved.columns, mapping)
        rows = Rows(records.line_no)
        ctx.rows = rows
        values = resolved.reader.normalise(raw, ctx)
        yield assemble(values, rows, records)
