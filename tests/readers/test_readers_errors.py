"""Files that cannot be read at all raise ReaderError with one clear line."""

from __future__ import annotations

import pytest

from geo._errors import ReaderError, TrucelineError
from geo.io.readers import detect, read_incidents
from tests.readers.readers_support import DATA, read_all


@pytest.mark.parametrize(("data", "problem"), [
    (b"", "the file is empty"),
    (b" \r\n\n\t\n", "the file is empty"),
    (b"\xef\xbb\xbf", "the file is empty"),
    (b"PK\x03\x04\x14\x00\x06\x00",
     "not a CSV text file: it looks like a ZIP archive (an .xlsx or .ods workbook?); save or export it as "
     "CSV (UTF-8)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "not a CSV text file: it looks like an Excel 97-2003 workbook (.xls)"),
    (b"%PDF-1.7\n", "not a CSV text file: it looks like a PDF document"),
    (b"id,lat\x00,lon\n", "not a CSV text file: it holds binary data (NUL bytes)"),
    (b"name,age\nalice,3\n", "unknown layout: the header (name, age) is not the house template, ACLED or "
                             "UCDP GED; give a column mapping, or the format"),
    (b"just one line of prose without delimiters\n", "unknown layout"),
])
def test_unreadable_bytes(data, problem):
    with pytest.raises(ReaderError) as err:
        detect(data)
    message = str(err.value)
    assert message.startswith("<bytes>: " + problem)
    assert "\n" not in message
    with pytest.raises(ReaderError):
        read_incidents(data)  # raises when called, before any chunk is asked for


def test_error_names_the_file(tmp_path):
    path = tmp_path / "upload.csv"
    path.write_bytes(b"")
    with pytest.raises(ReaderError, match=r"^upload\.csv: the file is empty$"):
        detect(path)
    with pytest.raises(ReaderError, match=r"^report\.csv: the file is empty$"):
        detect(b"", name="report.csv")


def test_missing_and_unopenable_paths(tmp_path):
    with pytest.raises(ReaderError, match=r"^nope\.csv: cannot open the file: No such file or directory$"):
        detect(tmp_path / "nope.csv")
    with pytest.raises(ReaderError, match=r"cannot open the file"):
        detect(tmp_path)


TEMPLATE = b"event_id,occurred_at,lat,lon,category\n"


@pytest.mark.parametrize(("data", "fmt", "problem"), [
    (b"occurred_at,lat,lon\n2024-01-01,38,127\n", "auto", "house template file: missing column(s) category"),
    (TEMPLATE, "acled", "ACLED file: missing column(s) event_id_cnty, event_date, event_type, latitude, "
                        "longitude"),
    (TEMPLATE, "ucdp", "UCDP GED file: missing column(s) id, type_of_violence"),
    (TEMPLATE, "csv", "unknown format 'csv' (expected auto, template, acled, ucdp, mapped)"),
])
def test_layout_problems(data, fmt, problem):
    with pytest.raises(ReaderError, match="^<bytes>: " + problem.replace("(", r"\(").replace(")", r"\)")):
        detect(data, format=fmt)


def test_forcing_a_format_reads_a_file_the_guess_would_refuse(read_all):
    data = (DATA / "acled_2023.csv").read_bytes()
    assert detect(data, format="acled").format == "acled"
    assert read_all(data, format="acled").rows_read == 10


def test_errors_are_truceline_and_value_errors():
    with pytest.raises(TrucelineError):
        detect(b"")
    with pytest.raises(ValueError, match="empty"):
        detect(b"")


def test_bad_arguments():
    with pytest.raises(ReaderError, match="chunk_rows: must be at least 1"):
        read_incidents(b"a,b\n", chunk_rows=0)
    with pytest.raises(ReaderError, match=r"party_mapping\[0\]: unknown match 'regex'"):
        read_incidents(b"a,b\n", party_mapping=[("x", "regex", "north")])
    with pytest.raises(ReaderError, match="source: expected a path or bytes, got int"):
        detect(42)  # type: ignore[arg-type]
    with pytest.raises(ReaderError, match="unknown encoding 'klingon'"):
        detect(b"a,b\n", encoding="klingon")


def test_a_header_only_file_is_not_an_error(read_all):
    result = read_all(b"event_id,occurred_at,lat,lon,category\n")
    assert (result.rows_read, result.chunks) == (0, [])


def test_undecodable_with_an_explicit_encoding():
    with pytest.raises(ReaderError, match="cannot decode the file as utf-16"):
        detect(b"\xff\xfea\x00b", encoding="utf-16")


def test_duplicate_columns_are_reported():
    data = b"occurred_at,lat,lon,category,lat\n2024-01-01,38,127,other,1\n"
    assert detect(data).warnings == ["column 5 'lat': duplicate column name; the first one is used"]
    assert read_all(data).frame["lat"].tolist() == [38.0]
