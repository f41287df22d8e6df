"""Dates in every form files carry them, and the day/month order each file settles for itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo import DateOrderError, ReaderError
from geo.io.readers import _read, detect, read_incidents
from geo.io.readers._dates import serial_days
from tests.readers.readers_support import NOW, read_all, template_csv

HEADER = "event_id,occurred_at,lat,lon,category"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def dates_file(*values: str) -> bytes:
    """A template file with one row per date, event ids 1, 2, ... (a date with a comma is quoted)."""
    quoted = (f'"{v}"' if "," in v else v for v in values)
    return template_csv(*(f"{i},{v},38.1,127.1,other" for i, v in enumerate(quoted, 1)), header=HEADER)


def read_dates(*values: str, **kwargs: object) -> pd.DataFrame:
    return read_all(dates_file(*values), **kwargs).frame.set_index("source_event_id")


# (text, what it is, date precision); "day first" forms are read with the order given to the file.
FORMS = [
    ("2014-08-29", "2014-08-29T00:00Z", "day"),
    ("2014-08-29T14:30:00Z", "2014-08-29T14:30Z", "exact"),
    ("2014-08-29T23:30:00+09:00", "2014-08-29T14:30Z", "exact"),
    ("2014-08-29 14:30", "2014-08-29T14:30Z", "exact"),
    ("20140829", "2014-08-29T00:00Z", "day"),
    ("2014/08/29", "2014-08-29T00:00Z", "day"),
    ("2014.8.29.", "2014-08-29T00:00Z", "day"),
    ("2014-08-29 2:30:00 PM", "2014-08-29T14:30Z", "exact"),
    ("29/08/2014", "2014-08-29T00:00Z", "day"),
    ("29/08/2014 14:30", "2014-08-29T14:30Z", "exact"),
    ("29/08/2014 14:30:15", "2014-08-29T14:30:15Z", "exact"),
    ("29.08.2014 14:30", "2014-08-29T14:30Z", "exact"),
    ("29-08-2014", "2014-08-29T00:00Z", "day"),
    ("29/08/14 2:30 PM", "2014-08-29T14:30Z", "exact"),
    ("29/08/2014 12:00:00 AM", "2014-08-29T00:00Z", "day"),
    ("29/08/2014 12:30 am", "2014-08-29T00:30Z", "exact"),
    ("29/08/2014 12:00 p.m.", "2014-08-29T12:00Z", "exact"),
    ("29-Aug-14", "2014-08-29T00:00Z", "day"),
    ("29-Aug-2014", "2014-08-29T00:00Z", "day"),
    ("29-aug-14 06:15", "2014-08-29T06:15Z", "exact"),
    ("29 August 2014", "2014-08-29T00:00Z", "day"),
    ("29 Sept. 2014", "2014-09-29T00:00Z", "day"),
    ("August 29, 2014", "2014-08-29T00:00Z", "day"),
    ("41880", "2014-08-29T00:00Z", "day"),
    ("41880.75", "2014-08-29T18:00Z", "exact"),
    ("41880,604166667", "2014-08-29T14:30Z", "exact"),
]


@pytest.mark.parametrize(("text", "expected", "precision"), FORMS)
def test_every_form(text, expected, precision):
    row = read_dates(text, dayfirst=True).loc["1"]
    assert (row["occurred_at"], row["date_precision"]) == (ts(expected), precision)


@pytest.mark.parametrize(("text", "expected"), [
    ("8/29/2014 12:00:00 AM", "2014-08-29T00:00Z"),
    ("08/29/2014 2:30 PM", "2014-08-29T14:30Z"),
    ("8/29/14", "2014-08-29T00:00Z"),
    ("09/05/2014 00:00", "2014-09-05T00:00Z"),
])
def test_month_first_forms(text, expected):
    assert read_dates(text, dayfirst=False).loc["1", "occurred_at"] == ts(expected)


def test_a_spreadsheets_midnight_is_a_day_but_a_timestamps_is_an_instant():
    frame = read_dates("8/29/2014 12:00:00 AM", "08/29/2014 00:00", "2014-08-29 00:00:00", "41880.0",
                       "2014-08-29T00:00:00", "2014-08-29 00:00+02:00", dayfirst=False).reset_index()
    assert frame["date_precision"].tolist() == ["day", "day", "day", "day", "exact", "exact"]
    assert frame["occurred_to"].iloc[0] == ts("2014-08-29T23:59:59Z")


def test_excel_serial_numbers_and_the_lotus_leap_day():
    serials = np.array([1, 59, 60, 61, 25569, 41880, 0])
    assert serial_days(serials).astype(str).tolist() == [
        "1900-01-01", "1900-02-28", "NaT", "1900-03-01", "1970-01-01", "2014-08-29", "NaT"]
    result = read_all(dates_file("2014", "123", "123456", "41880"))
    assert result.frame["source_event_id"].tolist() == ["4"]
    number = "is a number, not a date (a spreadsheet date number has five digits: 10000 is 18 May 1927)"
    assert [result.reason(line) for line in (2, 3, 4)] == [
        f"occurred_at: '2014' {number}", f"occurred_at: '123' {number}", f"occurred_at: '123456' {number}"]


def test_a_year_or_a_month_alone_is_not_a_date():
    result = read_all(dates_file("2014-08", "2014-8", "2014-08-29"))
    assert result.frame["source_event_id"].tolist() == ["3"]
    assert result.reason(2).startswith("occurred_at: '2014-08' is not a date (expected a date such as")


def test_a_two_digit_year_is_the_latest_that_is_not_after_this_year():
    # Now is 2025-01-01.
    result = read_all(dates_file("29-Aug-24", "1-Jan-25", "29-Aug-25", "29-Aug-26", "29-Aug-69"))
    assert result.frame["occurred_at"].tolist() == [ts("2024-08-29"), ts("2025-01-01"), ts("1926-08-29"),
                                                    ts("1969-08-29")]
    assert result.reason(4) == "occurred_at: '29-Aug-25' is in the future (now is 2025-01-01 00:00 UTC)"


# --------------------------------------------------------------------------- the file's order


def test_09_05_2014_is_9_may_or_5_september_as_the_rest_of_the_file_says():
    day_first = read_dates("09/05/2014 00:00", "29/08/2014 10:00")
    month_first = read_dates("09/05/2014 00:00", "08/29/2014 10:00")
    assert day_first.loc["1", "occurred_at"] == ts("2014-05-09")
    assert month_first.loc["1", "occurred_at"] == ts("2014-09-05")
    assert detect(dates_file("09/05/2014 00:00", "29/08/2014 10:00")).dayfirst is True
    found = detect(dates_file("09/05/2014 00:00", "08/29/2014 10:00"))
    assert found.dayfirst is False
    assert found.dates == (
        "month first (m/d/y): '08/29/2014 10:00' (occurred_at, line 3) is only a date read month first")


AMBIGUOUS = ("upload.csv: occurred_at: dates such as '09/05/2014' (9 May 2014 or 5 September 2014) and "
             "'10/06/2014 14:00' (10 June 2014 or 6 October 2014) read either day first or month first, and "
             "no date in the file tells which; choose the order (--dayfirst or --monthfirst)")


def test_a_file_that_does_not_settle_its_order_is_refused_in_one_line():
    data = dates_file("09/05/2014", "10/06/2014 14:00", "05/05/2014", "2014-07-01")
    for call in (detect, read_incidents):
        with pytest.raises(DateOrderError) as err:
            call(data, name="upload.csv")
        assert str(err.value) == AMBIGUOUS
    assert isinstance(err.value, ReaderError)
    day_first = read_dates("09/05/2014", "10/06/2014 14:00", "05/05/2014", dayfirst=True)
    month_first = read_dates("09/05/2014", "10/06/2014 14:00", "05/05/2014", dayfirst=False)
    assert day_first["occurred_at"].tolist() == [ts("2014-05-09"), ts("2014-06-10T14:00"), ts("2014-05-05")]
    assert month_first["occurred_at"].tolist() == [ts("2014-09-05"), ts("2014-10-06T14:00"), ts("2014-05-05")]


def test_dates_that_read_the_same_either_way_need_no_order():
    found = detect(dates_file("05/05/2014", "2014-07-01", "12/12/2013 10:00"))
    assert (found.dayfirst, found.dates) == (None, "")
    assert read_dates("05/05/2014", "12/12/2013 10:00")["occurred_at"].tolist() == [
        ts("2014-05-05"), ts("2013-12-12T10:00")]


def test_contradicting_dates_are_refused_and_a_chosen_order_rejects_the_rows_that_do_not_fit():
    data = dates_file("29/08/2014", "09/05/2014", "08/30/2014")
    with pytest.raises(DateOrderError) as err:
        read_incidents(data, name="upload.csv")
    assert str(err.value) == (
        "upload.csv: occurred_at: the dates contradict each other: 1 row(s) read only day first, such as "
        "'29/08/2014' (occurred_at, line 2), but 1 only month first, such as '08/30/2014' (occurred_at, "
        "line 4); correct the file, or choose the order (--dayfirst or --monthfirst): the rows that do not "
        "fit it are then rejected")
    chosen = read_all(data, dayfirst=True)
    assert chosen.frame["occurred_at"].tolist() == [ts("2014-08-29"), ts("2014-05-09")]
    assert chosen.reason(4) == "occurred_at: '08/30/2014' is not a date when read day first (d/m/y)"
    assert read_all(data, dayfirst=False).reason(2) == (
        "occurred_at: '29/08/2014' is not a date when read month first (m/d/y)")


def test_an_end_that_would_come_before_its_start_settles_the_order():
    header = "event_id,occurred_at,occurred_to,lat,lon,category"
    data = template_csv("1,12/05/2014,01/06/2014,38.1,127.1,other",
                        "2,03/04/2014,03/04/2014,38.1,127.1,other", header=header)
    found = detect(data)
    assert found.dayfirst is True  # month first, 5 December would end on 6 January
    assert found.dates == ("day first (d/m/y): occurred_at '12/05/2014' to occurred_to '01/06/2014' (line 2) "
                           "only runs forward read day first")
    row = read_all(data).frame.iloc[0]
    assert (row["occurred_at"], row["occurred_to"], row["date_precision"]) == (
        ts("2014-05-12"), ts("2014-06-01T23:59:59"), "range")


def test_the_year_column_gives_the_century_and_must_agree():
    from tests.readers.test_readers_acled import acled_rows

    data = acled_rows({"event_id_cnty": "A1", "event_date": "29/08/14", "year": "1914"},
                      {"event_id_cnty": "A2", "event_date": "29/08/2014", "year": "2015"},
                      {"event_id_cnty": "A3", "event_date": "41880", "year": "2015"},
                      {"event_id_cnty": "A4", "event_date": "2014-08-29", "year": "2015"})
    result = read_all(data)
    assert result.frame["source_event_id"].tolist() == ["A1", "A4"]  # ISO 8601 dates are taken as written
    assert result.frame["occurred_at"].tolist() == [ts("1914-08-29"), ts("2014-08-29")]
    assert result.reason(3) == "event_date: '29/08/2014' is in 2014, but year is 2015"
    assert result.reason(4) == "event_date: '41880' is in 2014, but year is 2015"


def test_a_mapping_can_say_the_order_and_a_date_format_needs_none():
    from geo.io.readers import mapping_from_pairs

    data = b"when,y,x\n09/05/2014,38.1,127.1\n"
    base = ["occurred_at=when", "lat=y", "lon=x"]
    with pytest.raises(DateOrderError):
        detect(data, mapping=mapping_from_pairs(base))
    month = read_all(data, mapping=mapping_from_pairs([*base, "dayfirst=false"]))
    assert month.frame["occurred_at"].tolist() == [ts("2014-09-05")]
    # The reader's own choice wins over the mapping's.
    assert read_all(data, mapping=mapping_from_pairs([*base, "dayfirst=false"]), dayfirst=True).frame[
        "occurred_at"].tolist() == [ts("2014-05-09")]
    formatted = read_all(data, mapping=mapping_from_pairs([*base, "date_format=%m/%d/%Y"]))
    assert formatted.frame["occurred_at"].tolist() == [ts("2014-09-05")]


def test_evidence_after_the_first_records_still_decides(monkeypatch):
    monkeypatch.setattr(_read, "SAMPLE_ROWS", 5)
    monkeypatch.setattr(_read, "SCAN_ROWS", 7)
    ambiguous = [f"0{1 + i % 9}/05/2014" for i in range(20)]
    frame = read_dates(*ambiguous, "31/05/2014").reset_index()
    assert frame["occurred_at"].iloc[0] == ts("2014-05-01")  # day first, as line 22 says


def test_a_file_whose_first_records_are_iso_is_decided_when_the_numeric_dates_come(monkeypatch):
    monkeypatch.setattr(_read, "SAMPLE_ROWS", 3)
    iso = [f"2014-05-{i + 1:02d}" for i in range(6)]
    frame = read_all(dates_file(*iso, "09/05/2014", "08/29/2014"), chunk_rows=4).frame
    assert frame["occurred_at"].tolist()[-2:] == [ts("2014-09-05"), ts("2014-08-29")]
    assert detect(dates_file(*iso, "09/05/2014")).dayfirst is None  # its first records need no order
    chunks = read_incidents(dates_file(*iso, "09/05/2014"), now=NOW, chunk_rows=4)
    with pytest.raises(DateOrderError, match=r"'09/05/2014' .* read either day first or month first"):
        list(chunks)


def test_many_dates_are_read_in_bulk():
    days = pd.date_range("2010-01-01", periods=4000, freq="D")
    texts = [f"{d.month}/{d.day}/{d.year} {h % 12 or 12}:15:00 {'AM' if h < 12 else 'PM'}"
             for d, h in zip(days, np.arange(4000) % 24, strict=True)]
    frame = read_dates(*texts)
    expected = [ts(f"{d.date()}T{h:02d}:15") for d, h in zip(days, np.arange(4000) % 24, strict=True)]
    assert frame["occurred_at"].tolist() == expected
