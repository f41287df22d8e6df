"""UCDP GED files with and without their header row."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from geo._errors import ReaderError
from geo.io.readers import detect
from geo.io.readers.ucdp import COLUMNS
from tests.readers.readers_support import DATA, UCDP_PARTIES

WITH_HEADER = DATA / "ucdp_ged.csv"
NO_HEADER = DATA / "ucdp_ged_noheader.csv"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_fixture_follows_the_published_column_list():
    with WITH_HEADER.open(encoding="utf-8", newline="") as handle:
        assert tuple(next(csv.reader(handle))) == COLUMNS
    assert len(COLUMNS) == 49


def test_detection_with_and_without_header():
    found = detect(WITH_HEADER)
    assert (found.format, found.has_header, found.layout) == ("ucdp", True, "ucdp-ged")
    bare = detect(NO_HEADER)
    assert (bare.format, bare.has_header, bare.layout) == ("ucdp", False, "ucdp-ged-headerless")
    assert bare.columns == list(COLUMNS)
    assert detect(NO_HEADER, format="ucdp").has_header is False


def test_with_header(read_all):
    result = read_all(WITH_HEADER, party_mapping=UCDP_PARTIES)
    assert result.rows_read == 4
    assert result.frame["line_no"].tolist() == [2, 3, 4]
    assert set(result.frame["source"]) == {"ucdp"}

    kharkiv = result.row("244657")
    assert (kharkiv["occurred_at"], kharkiv["occurred_from"], kharkiv["occurred_to"]) == (
        ts("2022-03-01T00:00Z"), ts("2022-03-01T00:00Z"), ts("2022-03-01T23:59:59Z"))
    assert (kharkiv["date_precision"], kharkiv["location_precision"]) == ("day", "exact")
    assert (kharkiv["category"], kharkiv["sub_category"]) == ("armed_clash", "state-based conflict")
    assert kharkiv["fatalities"] == 7  # best
    deaths = "Deaths: side A 0, side B 2, civilians 5, unknown 0; best 7 (low 7, high 9)"
    assert deaths in kharkiv["description"]
    assert "Where: Kharkiv city, Freedom Square" in kharkiv["description"]
    assert (kharkiv["party"], kharkiv["location_name"]) == ("", "Kharkiv town")

    bucha = result.row("244700")  # one-sided violence: side A acted, side B were its victims
    assert bucha["occurred_from"] == ts("2022-03-05T00:00Z")
    assert bucha["occurred_to"] == ts("2022-03-11T23:59:59Z")
    assert (bucha["date_precision"], bucha["location_precision"]) == ("week", "area")
    assert (bucha["category"], bucha["actor"], bucha["target"]) == (
        "violence_against_civilians", "Government of Russia (Soviet Union)", "Civilians")
    assert (bucha["party"], bucha["party_basis"]) == ("ru", "actor_mapping")

    donetsk = result.row("244801")
    assert (donetsk["date_precision"], donetsk["location_precision"]) == ("month", "region")
    assert donetsk["fatalities"] == 21
    assert donetsk["occurred_to"] == ts("2022-04-30T23:59:59Z")

    assert result.reason(5) == "date_end: '2022-05-08' is before date_start '2022-05-10'"
    assert result.warnings == [
        "line 2: party: actors map to different parties (side_a 'Government of Russia (Soviet Union)' -> ru, "
        "side_b 'Government of Ukraine' -> ua); party left empty",
        "line 4: party: actors map to different parties (side_a 'Government of Russia (Soviet Union)' -> ru, "
        "side_b 'Government of Ukraine' -> ua); party left empty",
    ]


def test_without_header_reads_the_same_rows_one_line_up(read_all):
    with_header = read_all(WITH_HEADER, party_mapping=UCDP_PARTIES)
    bare = read_all(NO_HEADER, party_mapping=UCDP_PARTIES)
    assert bare.frame["line_no"].tolist() == [1, 2, 3]
    pd.testing.assert_frame_equal(with_header.frame.drop(columns="line_no"),
                                  bare.frame.drop(columns="line_no"))
    assert bare.rejected["line_no"].tolist() == [4]


def test_unknown_type_of_violence_is_other_with_a_warning(read_all):
    data = WITH_HEADER.read_text(encoding="utf-8").replace(",Clear,1,11347,", ",Clear,7,11347,", 1)
    result = read_all(data.encode())
    assert result.row("244657")["category"] == "other"
    expected = "line 2: type_of_violence: unknown code '7' (expected 1, 2, 3); treated as 'other'"
    assert expected in result.warnings


def test_a_forty_nine_column_file_that_is_not_ucdp_is_not_guessed():
    row = ",".join(["x"] * 49) + "\n"
    with pytest.raises(ReaderError, match="unknown layout"):
        detect((row + row).encode())
