"""The house template: the shipped files, dates, windows, parties and defaults."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from geo.core.model import INCIDENT_COLUMNS
from geo.io.readers import detect
from geo.io.readers.template import COLUMNS, EXTRA_COLUMNS
from tests.readers.readers_support import NOW, TEMPLATES, korea_party_mapping

EXAMPLE = TEMPLATES / "incidents_example.csv"
BLANK = TEMPLATES / "incidents_template.csv"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_blank_template_is_every_column_and_reads_to_nothing(read_all):
    with BLANK.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == [*COLUMNS, *EXTRA_COLUMNS]
    found = detect(BLANK)
    assert (found.format, found.has_header) == ("template", True)
    assert (found.encoding, found.delimiter) == ("utf-8", ",")
    result = read_all(BLANK)
    assert result.rows_read == 0
    assert result.chunks == []


def test_example_reads_whole_with_korean_party_mapping(read_all):
    result = read_all(EXAMPLE, party_mapping=korea_party_mapping())
    assert result.rows_read == 12
    assert result.rejected.empty
    assert result.warnings == []
    assert result.frame["source_event_id"].tolist() == [f"EX-{i:04d}" for i in range(1, 13)]
    # EX-0004's description spans two physical lines, so every later row starts one line further.
    assert result.frame["line_no"].tolist() == [2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14]
    assert dict(result.frame.dtypes.astype(str)) == {
        **{k: str(pd.Series(dtype=v).dtype) for k, v in INCIDENT_COLUMNS.items()}, "line_no": "int64"}
    lons, lats = result.frame["lon"], result.frame["lat"]
    assert lons.between(126.6, 128.4).all() and lats.between(37.8, 38.7).all()


def test_example_times_and_windows(read_all):
    result = read_all(EXAMPLE)
    exact = result.row("EX-0001")
    assert exact["occurred_at"] == ts("2024-03-04T02:15:00Z")
    assert exact["occurred_from"] == exact["occurred_at"] == exact["occurred_to"]
    assert exact["date_precision"] == "exact"
    # An offset is converted to UTC; occurred_to widens the window to a range.
    ranged = result.row("EX-0002")
    assert ranged["occurred_at"] == ts("2024-03-08T21:40:00Z")
    assert ranged["occurred_from"] == ts("2024-03-08T21:40:00Z")
    assert ranged["occurred_to"] == ts("2024-03-08T22:30:00Z")
    assert ranged["date_precision"] == "range"
    # A bare date is that whole UTC day.
    day = result.row("EX-0003")
    assert (day["occurred_at"], day["occurred_from"], day["occurred_to"]) == (
        ts("2024-03-15T00:00Z"), ts("2024-03-15T00:00Z"), ts("2024-03-15T23:59:59Z"))
    assert day["date_precision"] == "day"


def test_example_values(read_all):
    result = read_all(EXAMPLE, party_mapping=korea_party_mapping())
    first = result.row("EX-0001")
    assert (first["source"], first["category"], first["location_precision"]) == (
        "example-monitor", "small_arms_fire", "exact")
    assert first["location_uncertainty_m"] == 50.0
    assert (first["party"], first["party_basis"]) == ("north", "source")
    assert (first["weapon_class"], first["location_name"], first["fatalities"]) == ("rifle", "Panmunjom", 0)
    unknown = result.row("EX-0003")
    assert pd.isna(unknown["fatalities"]) and np.isnan(unknown["location_uncertainty_m"])
    assert (unknown["party"], unknown["party_basis"]) == ("", "")
    # No party column value: the actor is mapped, and the basis says so.
    mapped = result.row("EX-0004")
    assert (mapped["party"], mapped["party_basis"]) == ("north", "actor_mapping")
    assert result.row("EX-0005")["verification"] == "disputed"
    assert result.row("EX-0010")["target"] == "KPA work party"


def test_example_multilingual_text_round_trips(read_all):
    result = read_all(EXAMPLE)
    with EXAMPLE.open(encoding="utf-8", newline="") as handle:
        expected = {r["event_id"]: r["description"] for r in csv.DictReader(handle)}
    got = dict(zip(result.frame["source_event_id"], result.frame["description"], strict=True))
    assert got == expected
    assert "새 감시초소" in got["EX-0004"] and "\n" in got["EX-0004"]
    assert "زرع ألغام" in got["EX-0005"]
    assert "Беспилотник" in got["EX-0003"]


def test_source_name_fills_missing_sources(read_all, make_template):
    data = make_template(
        "A1,2024-05-01T10:00:00Z,37.9,126.9,other,,,,,,,team-x,",
        "A2,2024-05-01T10:00:00Z,37.9,126.9,other,,,,,,,,",
    )
    assert read_all(data, source_name="team-y").frame["source"].tolist() == ["team-x", "team-y"]
    assert read_all(data).frame["source"].tolist() == ["team-x", "monitor"]


def test_defaults_for_empty_cells(read_all, make_template):
    result = read_all(make_template("A1,2024-05-01T10:00:00Z,37.9,126.9,artillery_fire,,,,,,,,"))
    row = result.frame.iloc[0]
    assert (row["location_precision"], row["verification"], row["party"]) == ("near", "reported", "")
    assert result.warnings == []


def test_category_labels_and_case_are_accepted(read_all, make_template):
    result = read_all(make_template(
        "A1,2024-05-01,37.9,126.9,Artillery fire,,,,,,,,",
        "A2,2024-05-01,37.9,126.9,SMALL_ARMS_FIRE,,,,,,,,",
        "A3,2024-05-01,37.9,126.9,drone-activity,,,,,,,,",
    ))
    assert result.frame["category"].tolist() == ["artillery_fire", "small_arms_fire", "drone_activity"]
    assert result.warnings == []


def test_party_column_checked_against_scenario_parties(read_all, make_template):
    data = make_template(
        "A1,2024-05-01,37.9,126.9,other,KPA,nroth,,,,,,",
        "A2,2024-05-01,37.9,126.9,other,Unknown,south,,,,,,",
    )
    result = read_all(data, parties={"north", "south"}, party_mapping=korea_party_mapping())
    assert result.frame["party"].tolist() == ["north", "south"]
    assert result.frame["party_basis"].tolist() == ["actor_mapping", "source"]
    assert result.warnings == [
        "line 2: party: unknown party 'nroth' (the scenario's parties are north, south); ignored"]


def test_occurred_to_before_occurred_at_is_rejected(read_all):
    header = "event_id,occurred_at,occurred_to,lat,lon,category"
    data = f"{header}\nA1,2024-05-02T10:00Z,2024-05-01T10:00Z,37.9,126.9,other\n" \
        "A2,2024-05-02,2024-05-04,37.9,126.9,other\n".encode()
    result = read_all(data)
    assert result.reason(2) == "occurred_to: '2024-05-01T10:00Z' is before occurred_at '2024-05-02T10:00Z'"
    row = result.row("A2")
    assert (row["occurred_from"], row["occurred_to"], row["date_precision"]) == (
        ts("2024-05-02T00:00Z"), ts("2024-05-04T23:59:59Z"), "range")


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 100])
def test_chunking_does_not_change_the_result(read_all, chunk_rows):
    whole = read_all(EXAMPLE)
    parts = read_all(EXAMPLE, chunk_rows=chunk_rows)
    assert all(c.rows_read <= chunk_rows for c in parts.chunks)
    pd.testing.assert_frame_equal(whole.frame, parts.frame)


def test_now_defaults_to_the_clock(make_template):
    from geo.io.readers import read_incidents

    data = make_template("A1,2999-01-01,37.9,126.9,other,,,,,,,,", "A2,2024-01-01,37.9,126.9,other,,,,,,,,")
    chunk = next(read_incidents(data))
    assert chunk.rejected["line_no"].tolist() == [2]
    assert NOW.year == 2025  # the other tests pin "now"; this one uses the real clock
