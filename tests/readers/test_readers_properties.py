"""Property and fuzz tests: every record is accounted for, and nothing but ReaderError escapes."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geo._errors import ReaderError
from geo.io.readers import FORMATS, detect, mapping_from_pairs, read_incidents
from geo.io.readers.acled import COLUMNS_2023
from geo.io.readers.template import COLUMNS, EXTRA_COLUMNS
from geo.io.readers.ucdp import COLUMNS as UCDP_COLUMNS
from tests.readers.readers_support import NOW, TEMPLATE_HEADER, collect

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text but carriage returns and NULs (covered by targeted tests); quotes, delimiters, line feeds
# and every script are in.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=40)
KINDS = ("good", "good", "good", "lat", "date", "future", "negative", "null", "extra", "short", "stray",
         "blank")


def fields(i: int, kind: str, text: str) -> list[str]:
    out = [f"E{i}", "2024-05-01T10:00:00Z", "38.1", "127.1", "artillery_fire", "KPA", "", "exact", "", "0",
           "verified", "team", text]
    if kind == "lat":
        out[2] = "95.5"
    elif kind == "date":
        out[1] = "not a date"
    elif kind == "future":
        out[1] = "2031-01-01"
    elif kind == "negative":
        out[9] = "-1"
    elif kind == "null":
        out[2] = out[3] = "0"
    elif kind == "extra":
        out.append("surplus")
    elif kind == "short":
        out = out[:5]
    return out


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, str, str]], int]:
    """A template CSV mixing good and bad records, each record's (line, kind, text), and a chunk size."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    kinds = draw(st.lists(st.sampled_from(KINDS), max_size=25))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(TEMPLATE_HEADER.split(","))
    records, line = [], 2
    for i, kind in enumerate(kinds):
        if kind == "blank":
            out.write(newline)
            line += 1
            continue
        text = f'{i} a 5" gun' if kind == "stray" else draw(TEXT)
        start = out.tell()
        if kind == "stray":
            out.write(delimiter.join(fields(i, kind, text)) + newline)
        else:
            writer.writerow(fields(i, kind, text))
        records.append((line, kind, text))
        line += out.getvalue()[start:].count("\n")
    return out.getvalue().encode(encoding), records, draw(st.integers(1, 30))


# What a UTF-8 no-break space becomes once decoded as cp1252: one such value is text, not a mojibake file.
GARBLED = (f"{TEMPLATE_HEADER}\n"
           "E0,2024-05-01T10:00:00Z,38.1,127.1,artillery_fire,KPA,,exact,,0,verified,team,Â\xa0\n")


@SETTINGS
@given(csv_files())
@example(case=(GARBLED.encode(), [(2, "good", "Â\xa0")], 1))
def test_every_record_is_accepted_or_rejected_exactly_once(case):
    data, records, chunk_rows = case
    result = collect(list(read_incidents(data, now=NOW, chunk_rows=chunk_rows)))
    assert result.rows_read == len(records)
    assert all(c.rows_read <= chunk_rows for c in result.chunks)
    seen = sorted([*result.frame["line_no"].tolist(), *result.rejected["line_no"].tolist()])
    assert seen == [line for line, _, _ in records]
    good = [(line, text) for line, kind, text in records if kind in ("good", "stray")]
    assert list(zip(result.frame["line_no"], result.frame["description"], strict=True)) == good
    assert result.rejected["raw"].str.len().gt(0).all()


def _consume(data: bytes, **kwargs: object) -> None:
    try:
        detect(data, **{k: v for k, v in kwargs.items() if k in ("format", "mapping")})  # type: ignore[arg-type]
        chunks = list(read_incidents(data, now=NOW, chunk_rows=7, **kwargs))  # type: ignore[arg-type]
    except ReaderError as err:
        assert "\n" not in str(err)
        return
    collect(chunks)  # checks len(frame) + len(rejected) == rows_read for every chunk


MAPPING = mapping_from_pairs(["occurred_at=a", "lat=b", "lon=c", "category=d", "description=e"])


@SETTINGS
@given(st.binary(max_size=2000), st.sampled_from(["auto", *FORMATS]))
def test_arbitrary_bytes_raise_nothing_but_reader_error(data, fmt):
    _consume(data, format=fmt, mapping=MAPPING if fmt == "mapped" else None)


HEADERS = st.sampled_from([
    list(COLUMNS + EXTRA_COLUMNS), list(COLUMNS_2023), list(UCDP_COLUMNS), ["a", "b", "c", "d", "e"],
])
CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "38.1", "127.1", "1e400", "nan", "2024-05-01", "16 May 2024",
                     "2024-05-01T10:00:00+09:00", "31/02/2024", "1", "2", "3", "7", '"', '""', 'a"b', "\n",
                     "\r", ";", ","]),
)


@SETTINGS
@given(HEADERS, st.lists(st.lists(CELL, max_size=60), max_size=12), st.sampled_from([",", ";", "\t"]),
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans(), st.sampled_from(["auto", *FORMATS]))
def test_arbitrary_text_csvs_raise_nothing_but_reader_error(header, rows, delimiter, newline, quoted, fmt):
    if quoted:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
        text = out.getvalue()
    else:
        text = newline.join(delimiter.join(r) for r in [header, *rows])
    _consume(text.encode("utf-8"), format=fmt, mapping=MAPPING if fmt == "mapped" else None)
