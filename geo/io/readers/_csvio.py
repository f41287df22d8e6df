"""Bytes to records: encoding, delimiter, header row, and records with physical line numbers.

The common case runs on Arrow's CSV reader (UTF-8 with LF newlines: no Python object per
value) or pandas' C parser (other encodings and newlines, or a block Arrow refuses). A
numpy pass over each block of bytes first finds where records end (newlines outside
quotes), how many fields each record has (delimiters outside quotes), and the physical
line each record starts on; records with the wrong number of fields are set aside before
either parser sees the block. A block the C parser might read differently (a quote inside
an unquoted value, a lone carriage return, a NUL byte, a quote never closed) goes to
Python's ``csv`` module instead, which is slower but counts lines itself and hands back
to pandas at the first record boundary after the block.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import csv as pa_csv

from geo.io.readers._encoding import detect_encoding
from geo.io.readers._input import Input

BLOCK = 16 << 20
"""Bytes read at a time."""
SAMPLE = 256 << 10
"""Bytes sniffed for the encoding's first guess, the delimiter and the header."""
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
QUOTE = 0x22
NUL = 0x00
CR = 0x0D
LF = 0x0A

_SEP_LINE = re.compile(rb"\A[ \t]*sep=(.)[ \t]*(\r\n|\n|\r)")


@dataclass(frozen=True)
class Plan:
    """Everything sniffing decided: how to cut the bytes into records."""

    encoding: str
    codec: str
    delimiter: str
    newline: int
    first_record: list[str]
    """The first record's fields: the header, or data in a header-less file."""
    first_offset: int
    first_line: int
    after_offset: int
    """Byte offset and physical line of the record after the first one."""
    after_line: int
    warnings: list[str] = field(default_factory=list)
    has_header: bool = True
    usecols: tuple[int, ...] | None = None
    """The positions of the fields to keep (all when None): unused columns are never converted."""

    @property
    def data_offset(self) -> int:
        """Byte offset where data records start."""
        return self.after_offset if self.has_header else self.first_offset

    @property
    def data_line(self) -> int:
        """Physical line (1-based) where data records start."""
        return self.after_line if self.has_header else self.first_line


@dataclass
class Records:
    """Well-formed records of one chunk as text columns, and the records set aside."""

    frame: pd.DataFrame
    """Columns ``0 .. n-1``, every value text (empty string when empty)."""
    line_no: np.ndarray
    """Physical line (1-based) where each row of :attr:`frame` starts."""
    raw: Callable[[np.ndarray], list[str]]
    """The original text of rows of :attr:`frame`, by position."""
    bad_line_no: list[int] = field(default_factory=list)
    bad_reason: list[str] = field(default_factory=list)
    bad_raw: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Records consumed: well-formed and set aside."""
        return len(self.frame) + len(self.bad_line_no)


# --------------------------------------------------------------------------- dialect


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter that gives the most consistent multi-column rows."""
    best, best_score = ",", (-1.0, 0)
    for delim in DELIMITERS:
        counts: list[int] = []
        try:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False):
                if row:
                    counts.append(len(row))
                if len(counts) >= 30:
                    break
        except csv.Error:
            pass
        if not counts or counts[0] < 2:
            continue
        score = (sum(c == counts[0] for c in counts) / len(counts), counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def _record_ends(buf: bytes, newline: int, final: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Where records end in ``buf`` (which starts at a record boundary).

    Returns the end offsets (the newline's offset, or ``len(buf)`` for a last record
    without one), the index of each end among all newlines (-1 for ``len(buf)``), and
    the offsets of every quote.
    """
    a = np.frombuffer(buf, np.uint8)
    quotes = np.flatnonzero(a == QUOTE)
    nl = np.flatnonzero(a == newline)
    nl_index = np.flatnonzero((np.searchsorted(quotes, nl) & 1) == 0)
    ends = nl[nl_index]
    last = int(ends[-1]) + 1 if len(ends) else 0
    if final and last < len(buf) and (len(quotes) - np.searchsorted(quotes, last)) % 2 == 0:
        ends = np.append(ends, len(buf))
        nl_index = np.append(nl_index, -1)
    return ends, nl_index, quotes


def sniff(inp: Input, *, encoding: str | None = None) -> Plan:
    """
    Find the encoding, delimiter, newline and first record of a CSV file.

    Parameters
    ----------
    inp
        The file.
    encoding
        A known encoding, instead of the guess; the file must decode with it.

    Returns
    -------
    Plan
        With ``header`` unset: whether the first record is a header is the caller's call.
    """
    with inp.open() as handle:
        start = handle.read(SAMPLE)
    enc_name, codec, skip, notes = detect_encoding(inp, encoding, start)
    with inp.open() as handle:
        handle.seek(skip)
        head = handle.read(SAMPLE)
        whole = not handle.read(1)
    if not head.strip(b" \t\r\n\x0c\x0b"):
        raise inp.fail("the file is empty")
    newline = LF if b"\n" in head else CR if b"\r" in head else LF
    offset, line, delimiter = skip, 1, None
    sep = _SEP_LINE.match(head)
    if sep and sep.group(1) in b",;\t|":
        delimiter = sep.group(1).decode("ascii")
        head = head[sep.end():]
        offset += sep.end()
        line += 1
    # Blank lines before the first record are skipped (and counted).
    stripped = head.lstrip(b"\r\n")
    blank = head[: len(head) - len(stripped)]
    line += blank.count(bytes([newline]))
    offset += len(blank)
    head = stripped
    if not head.strip():
        raise inp.fail("the file is empty")
    ends, nl_index, _ = _record_ends(head, newline, final=whole)
    if not len(ends):
        raise inp.fail(f"the first row is longer than {SAMPLE // 1024} KB or never ends: not a CSV file")
    first_end = int(ends[0])
    text = head[:first_end].decode(codec, errors="replace")
    if text.endswith("\r"):
        text = text[:-1]
    if delimiter is None:
        cut = head[: int(ends[min(len(ends), 30) - 1])].decode(codec, errors="replace")
        delimiter = _sniff_delimiter(cut)
    try:
        first = next(csv.reader([text], delimiter=delimiter, strict=False), [])
    except csv.Error as err:
        raise inp.fail(f"line {line}: the first row is not valid CSV ({err})") from err
    lines_in_first = int(nl_index[0]) + 1 if nl_index[0] >= 0 else 1
    return Plan(
        encoding=enc_name, codec=codec, delimiter=delimiter, newline=newline, first_record=first,
        first_offset=offset, first_line=line, after_offset=offset + first_end + 1,
        after_line=line + lines_in_first, warnings=notes,
    )


# --------------------------------------------------------------------------- records


def _decode_raw(data: bytes, codec: str) -> str:
    text = data.decode(codec, errors="replace")
    return text[:-1] if text.endswith("\r") else text


def _field_reason(count: int, expected: int) -> str:
    what = "a stray delimiter or an unquoted value containing one?" if count > expected else \
        "a missing value or a line break inside an unquoted value?"
    return f"row: has {count} fields where the header has {expected} ({what})"


def _kept(plan: Plan, n: int) -> list[int]:
    return list(plan.usecols) if plan.usecols is not None else list(range(n))


def _parse_arrow(data: bytes, plan: Plan, n: int) -> pd.DataFrame:
    """A UTF-8 block of well-formed records, parsed by Arrow's CSV reader (no Python object per value)."""
    names = [str(i) for i in range(n)]
    kept = _kept(plan, n)
    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pa_csv.ParseOptions(
            delimiter=plan.delimiter, quote_char='"', double_quote=True, newlines_in_values=True,
            ignore_empty_lines=False,
        ),
        convert_options=pa_csv.ConvertOptions(
            include_columns=[names[i] for i in kept], column_types={names[i]: pa.string() for i in kept},
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ),
    )
    frame = table.to_pandas()
    frame.columns = kept
    return frame


def _parse_block(data: bytes, plan: Plan, n: int) -> pd.DataFrame:
    if not data:
        return pd.DataFrame({i: pd.Series([], dtype="str") for i in _kept(plan, n)})
    if plan.codec == "utf-8" and plan.newline == LF:
        try:
            return _parse_arrow(data, plan, n)
        except (pa.ArrowException, ValueError):
            pass  # the C parser decides, as for any other block
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = pd.read_csv(
            io.BytesIO(data), sep=plan.delimiter, header=None, names=list(range(n)), dtype=str,
            usecols=_kept(plan, n), na_filter=False, skip_blank_lines=False, quotechar='"',
            doublequote=True, encoding=plan.codec, engine="c", index_col=False,
            lineterminator="\r" if plan.newline == CR else None,
        )
    return frame[_kept(plan, n)]


def _suspicious(a: np.ndarray, quotes: np.ndarray, cut: int, delim: int, newline: int) -> bool:
    """Whether the C parser could cut ``a[:cut]`` differently from the quote-parity scan."""
    body = a[:cut]
    if (body == NUL).any():
        return True
    q = quotes[quotes < cut]
    ok = np.array([delim, LF, CR, QUOTE], dtype=np.uint8)
    openers, closers = q[0::2], q[1::2]
    prev = openers[openers > 0] - 1
    if len(prev) and not np.isin(a[prev], ok).all():
        return True
    nxt = closers + 1
    nxt = nxt[nxt < len(a)]
    if len(nxt) and not np.isin(a[nxt], ok).all():
        return True
    if newline == LF:
        cr = np.flatnonzero(body == CR)
        cr = cr[cr + 1 < len(a)]
        lone = cr[a[cr + 1] != LF]
        if len(lone) and ((np.searchsorted(quotes, lone) & 1) == 0).any():
            return True
    return False


def iter_records(inp: Input, plan: Plan, n_fields: int, chunk_rows: int, *, block: int = 0,
                 ) -> Iterator[Records]:
    """
    Yield the data records in chunks of at most ``chunk_rows``.

    Parameters
    ----------
    inp
        The file.
    plan
        From :func:`sniff`, with ``has_header`` decided.
    n_fields
        How many fields a well-formed record has.
    chunk_rows
        The most records per chunk.
    block
        Bytes read at a time (default :data:`BLOCK`); a small block for a look at the
        first records only.
    """
    with inp.open() as handle:
        yield from _records(handle, plan, n_fields, chunk_rows, block or BLOCK)


def _records(handle: BinaryIO, plan: Plan, n: int, chunk_rows: int, block: int) -> Iterator[Records]:
    """
    Read block after block from ``pos``, a record boundary on physical line ``line``.

    A clean block goes to pandas; a block the C parser might misread goes to the csv
    module, which hands back at the first record boundary past the block's end.
    """
    delim = ord(plan.delimiter)
    pos, line = plan.data_offset, plan.data_line
    while True:
        handle.seek(pos)
        buf = handle.read(block)
        if not buf:
            return
        eof = not handle.read(1)
        ends, nl_index, quotes = _record_ends(buf, plan.newline, final=eof)
        a = np.frombuffer(buf, np.uint8)
        if not len(ends) or _suspicious(a, quotes, int(ends[-1]), delim, plan.newline):
            # No record ends in a whole block (a quote never closed), or odd quoting.
            stop = pos + (int(ends[-1]) if len(ends) else len(buf))
            pos, line, done = yield from _slow(handle, plan, n, chunk_rows, pos, line, stop)
            if done:
                return
            continue
        cut = int(ends[-1])
        starts = np.concatenate(([0], ends[:-1] + 1))
        lines = line + np.concatenate(([0], nl_index[:-1] + 1))
        fields = _field_counts(a, quotes, ends, delim)
        blank = (ends - starts == 0) | ((ends - starts == 1) & (a[np.minimum(starts, len(a) - 1)] == CR))
        resumed = False
        for lo in range(0, len(ends), chunk_rows):
            hi = min(lo + chunk_rows, len(ends))
            part = slice(lo, hi)
            chunk = _chunk(buf, plan, n, starts[part], ends[part], lines[part], fields[part], blank[part])
            if chunk is None:
                # The C parser disagreed with the scan: the csv module reads the rest of the block.
                pos, line, done = yield from _slow(handle, plan, n, chunk_rows, pos + int(starts[lo]),
                                                   int(lines[lo]), pos + cut)
                if done:
                    return
                resumed = True
                break
            yield chunk
        if resumed:
            continue
        if nl_index[-1] < 0:  # the last record ended at the end of the file
            return
        pos += cut + 1
        line += int(nl_index[-1]) + 1


def _field_counts(a: np.ndarray, quotes: np.ndarray, ends: np.ndarray, delim: int) -> np.ndarray:
    cut = int(ends[-1])
    d = np.flatnonzero(a[:cut] == delim)
    counts = np.diff(np.searchsorted(d, ends), prepend=0)
    q = quotes[quotes < cut]
    pairs = len(q) // 2
    if pairs:
        opened, closed = q[0:2 * pairs:2], q[1:2 * pairs:2]
        inside = np.searchsorted(d, closed) - np.searchsorted(d, opened)
        owner = np.searchsorted(ends, opened)
        counts = counts - np.bincount(owner, weights=inside, minlength=len(ends)).astype(np.int64)
    return counts + 1


def _chunk(buf: bytes, plan: Plan, n: int, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray,
           fields: np.ndarray, blank: np.ndarray) -> Records | None:
    good = (fields == n) & ~blank
    bad = np.flatnonzero(~good & ~blank)
    if good.all():
        data = buf[int(starts[0]):int(ends[-1])]
    else:
        idx = np.flatnonzero(good)
        if len(idx):
            # Runs of consecutive good records are sliced out whole.
            breaks = np.flatnonzero(np.diff(idx) != 1)
            run_lo = idx[np.concatenate(([0], breaks + 1))]
            run_hi = idx[np.concatenate((breaks, [len(idx) - 1]))]
            sep = bytes([plan.newline])
            data = sep.join(buf[int(starts[i]):int(ends[j])] for i, j in zip(run_lo, run_hi, strict=True))
        else:
            data = b""
    try:
        frame = _parse_block(data, plan, n)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, Warning):
        return None
    good_starts, good_ends = starts[good], ends[good]
    if len(frame) != len(good_starts):
        return None

    def raw(pos: np.ndarray) -> list[str]:
        return [_decode_raw(buf[int(good_starts[p]):int(good_ends[p])], plan.codec) for p in pos]

    return Records(
        frame=frame, line_no=lines[good].astype(np.int64), raw=raw,
        bad_line_no=[int(lines[i]) for i in bad],
        bad_reason=[_field_reason(int(fields[i]), n) for i in bad],
        bad_raw=[_decode_raw(buf[int(starts[i]):int(ends[i])], plan.codec) for i in bad],
    )


_CSV_ERRORS: tuple[tuple[str, str], ...] = (
    ("unexpected end of data", "row: a quoted value opened on this line is never closed (unbalanced quotes)"),
    ("field larger than field limit",
     f"row: a value runs past {csv.field_size_limit()} characters (a quote opened on this line and "
     "never closed?)"),
    ("expected after", 'row: text follows the closing quote of a value (a quote inside a quoted value '
                       'must be doubled: "")'),
    ("new-line character", "row: a carriage return inside an unquoted value"),
)
_RECOVER = ("unexpected end of data", "field larger than field limit", "expected after")


def _split_lines(handle: BinaryIO, sep: bytes) -> Iterator[bytes]:
    rest = b""
    while block := handle.read(1 << 20):
        parts = (rest + block).split(sep)
        rest = parts.pop()
        for part in parts:
            yield part + sep
    if rest:
        yield rest


class _Lines:
    """Physical lines for the csv module: counted, kept for the raw text, and re-readable."""

    def __init__(self, source: Iterator[bytes], codec: str, offset: int, line: int) -> None:
        self._source = source
        self._codec = codec
        self._replay: deque[bytes] = deque()
        self.pending: list[bytes] = []
        self.offset = offset
        """Byte offset just past the last line handed out."""
        self.line = line
        """Number of the last line handed out."""

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        physical = self._replay.popleft() if self._replay else next(self._source)
        self.offset += len(physical)
        self.line += 1
        self.pending.append(physical)
        return physical.decode(self._codec, errors="replace")

    def raw(self) -> str:
        """The pending lines as text, without the final line break."""
        return _decode_raw(_strip_newline(b"".join(self.pending)), self._codec)

    def unread(self, keep: int) -> None:
        """Hand out again every pending line after the first ``keep``."""
        again = self.pending[keep:]
        self._replay.extendleft(reversed(again))
        self.offset -= sum(len(p) for p in again)
        self.line -= len(again)
        del self.pending[keep:]


def _slow(handle: BinaryIO, plan: Plan, n: int, chunk_rows: int, pos: int, line: int,
          stop: int) -> Generator[Records, None, tuple[int, int, bool]]:
    """
    Read records with the csv module from ``pos`` until the first record boundary at or past ``stop``.

    A quote opened and never closed costs the line it is on, not the rest of the file.
    Returns the byte offset and line of that boundary, and whether the file ended.
    """
    handle.seek(pos)
    source = _split_lines(handle, b"\r" if plan.newline == CR else b"\n")
    lines = _Lines(source, plan.codec, pos, line - 1)
    reader = csv.reader(lines, delimiter=plan.delimiter, quotechar='"', doublequote=True, strict=True)
    out = _Collected(plan, n)
    consumed = 0
    while True:
        if consumed and lines.offset >= stop:
            if out.count:
                yield out.flush()
            return lines.offset, lines.line + 1, False
        lines.pending.clear()
        start = lines.line + 1
        try:
            fields = next(reader)
        except StopIteration:
            if out.count:
                yield out.flush()
            return lines.offset, lines.line + 1, True
        except csv.Error as err:
            problem = str(err)
            reason = next((r for key, r in _CSV_ERRORS if key in problem), f"row: not valid CSV ({problem})")
            if any(key in problem for key in _RECOVER) and len(lines.pending) > 1:
                # A quote opened and never closed on the first line swallowed the next ones: only
                # that line is lost, and the lines after it are read again.
                reason = _CSV_ERRORS[0][1]
                lines.unread(1)
            out.bad(start, reason, lines.raw())
        else:
            if not fields:
                continue
            if len(fields) == n:
                out.good(start, fields, lines.raw())
            else:
                out.bad(start, _field_reason(len(fields), n), lines.raw())
        consumed += 1
        if out.count >= chunk_rows:
            yield out.flush()


class _Collected:
    """Records read by the csv module, until they are handed out as a chunk."""

    def __init__(self, plan: Plan, n: int) -> None:
        self._plan, self._n = plan, n
        self._rows: list[list[str]] = []
        self._lines: list[int] = []
        self._raw: list[str] = []
        self._bad_lines: list[int] = []
        self._bad_reasons: list[str] = []
        self._bad_raw: list[str] = []

    @property
    def count(self) -> int:
        """Records collected so far."""
        return len(self._rows) + len(self._bad_lines)

    def good(self, line: int, fields: list[str], raw: str) -> None:
        self._rows.append(fields)
        self._lines.append(line)
        self._raw.append(raw)

    def bad(self, line: int, reason: str, raw: str) -> None:
        self._bad_lines.append(line)
        self._bad_reasons.append(reason)
        self._bad_raw.append(raw)

    def flush(self) -> Records:
        kept = _kept(self._plan, self._n)
        frame = (pd.DataFrame(self._rows, columns=list(range(self._n)), dtype="str")[kept] if self._rows
                 else _parse_block(b"", self._plan, self._n))
        saved = self._raw
        done = Records(frame=frame, line_no=np.array(self._lines, dtype=np.int64),
                       raw=lambda at: [saved[p] for p in at], bad_line_no=self._bad_lines,
                       bad_reason=self._bad_reasons, bad_raw=self._bad_raw)
        self._rows, self._lines, self._raw = [], [], []
        self._bad_lines, self._bad_reasons, self._bad_raw = [], [], []
        return done


def _strip_newline(data: bytes) -> bytes:
    if data.endswith(b"\n"):
        data = data[:-1]
    return data[:-1] if data.endswith(b"\r") else data
