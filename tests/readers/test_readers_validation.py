"""Every reject reason, and every warning, with the exact text the analyst sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.readers.readers_support import NOW, TEMPLATE_HEADER, read_all, template_csv


def row(event_id: str = "A1", occurred_at: str = "2024-05-01T10:00:00Z", lat: str = "38.1",
        lon: str = "127.1", category: str = "artillery_fire", actor: str = "", party: str = "",
        precision: str = "", uncertainty: str = "", fatalities: str = "", verification: str = "",
        source: str = "", description: str = "") -> str:
    return ",".join([event_id, occurred_at, lat, lon, category, actor, party, precision, uncertainty,
                     fatalities, verification, source, description])


NULL_ISLAND = "lat/lon: (0, 0) is a placeholder for a missing position, not a real location"
NOT_A_DATE = ("is not a date (expected a date such as 2024-05-01, 2024-05-01T14:30:00Z, 29/08/2014, "
              "8/29/2014 2:30 PM, 29-Aug-14, or a spreadsheet date number)")
FUTURE = "is in the future (now is 2025-01-01 00:00 UTC)"
REJECTS = [
    (row(lat=""), "lat: missing value"),
    (row(lon=""), "lon: missing value"),
    (row(lat="38.1N"), "lat: '38.1N' is not a number"),
    (row(lon="nan"), "lon: 'nan' is not a number"),
    (row(lat="-95.5"), "lat: '-95.5' is out of range (a latitude is between -90 and 90)"),
    (row(lat="-95.5", lon="127"), "lat: '-95.5' is out of range (a latitude is between -90 and 90)"),
    (row(lon="181"), "lon: '181' is out of range (a longitude is between -180 and 180)"),
    (row(lat="inf"), "lat: 'inf' is out of range (a latitude is between -90 and 90)"),
    (row(lat="0", lon="0"), NULL_ISLAND),
    (row(lat="0.0", lon="-0"), NULL_ISLAND),
    (row(occurred_at=""), "occurred_at: missing value"),
    (row(occurred_at="yesterday"), f"occurred_at: 'yesterday' {NOT_A_DATE}"),
    (row(occurred_at="2024-02-30"), f"occurred_at: '2024-02-30' {NOT_A_DATE}"),
    (row(occurred_at="1850-01-01"), "occurred_at: '1850-01-01' is before 1900"),
    (row(occurred_at="2025-01-01T02:00:00Z"), f"occurred_at: '2025-01-01T02:00:00Z' {FUTURE}"),
    (row(occurred_at="2025-01-02"), f"occurred_at: '2025-01-02' {FUTURE}"),
    (row(occurred_at="9999-12-31T23:59:59Z"), f"occurred_at: '9999-12-31T23:59:59Z' {FUTURE}"),
    (row(fatalities="-1"), "fatalities: '-1' is negative"),
    (row(fatalities="2.5"), "fatalities: '2.5' is not a whole number"),
    (row(fatalities="several"), "fatalities: 'several' is not a whole number"),
    (row(fatalities="1e12"), "fatalities: '1e12' is implausibly large"),
    (row() + ",extra", "row: has 14 fields where the header has 13 (a stray delimiter or an unquoted value "
                       "containing one?)"),
    ("A1,2024-05-01,38.1,127.1", "row: has 4 fields where the header has 13 (a missing value or a line break "
                                 "inside an unquoted value?)"),
]


@pytest.mark.parametrize(("line", "reason"), REJECTS)
def test_reject_reasons(line, reason):
    good = row(event_id="OK")
    result = read_all(template_csv(good, line, good.replace("OK", "OK2")))
    assert result.rows_read == 3
    assert result.frame["line_no"].tolist() == [2, 4]
    assert result.rejected.to_dict("records") == [{"line_no": 3, "reason": reason, "raw": line}]


def test_the_first_problem_of_a_row_is_its_reason():
    result = read_all(template_csv(row(lat="", occurred_at="never", fatalities="-3")))
    assert result.rejected["reason"].tolist() == [f"occurred_at: 'never' {NOT_A_DATE}"]


def test_long_values_are_cut_in_reasons():
    result = read_all(template_csv(row(lat="x" * 200)))
    assert result.rejected["reason"].tolist() == ["lat: '" + "x" * 60 + "…' is not a number"]


@pytest.mark.parametrize(("occurred_at", "accepted"), [
    ("2025-01-01T00:59:00Z", True),   # within the 1 h allowed for clock skew
    ("2025-01-01T01:01:00Z", False),
    ("2025-01-01T09:30:00+09:00", True),
    ("2025-01-01", True),              # today
    ("2025-01-01T08:59:00+09:00", True),
])
def test_clock_skew(occurred_at, accepted):
    result = read_all(template_csv(row(occurred_at=occurred_at)))
    assert (len(result.frame) == 1) is accepted


def test_a_local_date_may_run_ahead_of_utc():
    # At 13:00 UTC on 1 January it is already 2 January in Korea (UTC+9) and Kiribati (UTC+14).
    data = template_csv(row(occurred_at="2025-01-02"))
    assert len(read_all(data, now=datetime(2025, 1, 1, 13, 0, tzinfo=UTC)).frame) == 1
    assert len(read_all(data, now=datetime(2025, 1, 1, 9, 0, tzinfo=UTC)).frame) == 0
    naive = datetime(2025, 1, 1, 13, 0)  # noqa: DTZ001 - naive "now" is UTC
    assert len(read_all(data, now=naive).frame) == 1


WARNINGS = [
    (row(lat="127.1", lon="38.1"), "lat/lon: '127.1' and '38.1' look swapped (a latitude cannot exceed 90); "
                                   "read as lat '38.1', lon '127.1'"),
    (row(category="shelling"), "category: unknown value 'shelling'; stored as 'other'"),
    (row(category=""), "category: missing; stored as 'other'"),
    (row(verification="probably"), "verification: unknown value 'probably'; stored as 'reported'"),
    (row(precision="roughly"), "location_precision: unknown value 'roughly'; stored as 'area'"),
    (row(uncertainty="-5"), "location_uncertainty_m: '-5' is not a valid value; ignored"),
    (row(uncertainty="big"), "location_uncertainty_m: 'big' is not a valid value; ignored"),
]


@pytest.mark.parametrize(("line", "warning"), WARNINGS)
def test_warnings(line, warning):
    result = read_all(template_csv(row(event_id="OK"), line))
    assert result.rejected.empty
    assert result.warnings == [f"line 3: {warning}"]
    assert result.chunks[0].warning_lines == [3]


def test_warned_values():
    result = read_all(template_csv(
        row(event_id="S", lat="127.1", lon="38.1"),
        row(event_id="C", category="shelling"),
        row(event_id="V", verification="probably"),
        row(event_id="P", precision="roughly"),
        row(event_id="G", precision="GPS"),
        row(event_id="U", uncertainty="-5"),
    ))
    assert (result.row("S")["lat"], result.row("S")["lon"]) == (38.1, 127.1)
    assert result.row("C")["category"] == "other"
    assert result.row("V")["verification"] == "reported"
    assert result.row("P")["location_precision"] == "area"
    assert result.row("G")["location_precision"] == "exact"
    assert pd.isna(result.row("U")["location_uncertainty_m"])


def test_swap_by_scenario_area():
    # 38.1/40.5 are both valid latitudes: only the scenario's area says they were swapped.
    data = template_csv(row(lat="127.1", lon="38.1"), row(event_id="A2", lat="40.5", lon="38.1"))
    plain = read_all(data)
    assert plain.row("A2")[["lat", "lon"]].tolist() == [40.5, 38.1]
    boxed = read_all(data, bbox=(39.0, 36.0, 42.0, 39.0))
    assert boxed.row("A2")[["lat", "lon"]].tolist() == [38.1, 40.5]
    assert boxed.warnings[-1] == ("line 3: lat/lon: '40.5' and '38.1' look swapped (only the swapped pair "
                                  "falls in the scenario's area); read as lat '38.1', lon '40.5'")


def test_no_warnings_for_rejected_rows():
    result = read_all(template_csv(row(category="shelling", lat="")))
    assert result.warnings == []
    assert result.rejected["reason"].tolist() == ["lat: missing value"]


def test_rows_read_counts_every_record():
    lines = [row(event_id=f"A{i}", lat="" if i % 3 == 0 else "38.1") for i in range(30)]
    result = read_all(template_csv(*lines), chunk_rows=7)
    assert result.rows_read == 30 == len(result.frame) + len(result.rejected)
    assert sorted([*result.frame["line_no"], *result.rejected["line_no"]]) == list(range(2, 32))
    assert TEMPLATE_HEADER.count(",") == 12
    assert NOW.tzinfo is UTC
