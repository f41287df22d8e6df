"""Admiralty grades in incident files: read from the template and through a mapping, validated row by row."""

from __future__ import annotations

import pytest

from geo._errors import ReaderError
from geo.io.readers import mapping_from_pairs
from geo.io.readers.mapped import _build
from tests.readers.readers_support import TEMPLATE_HEADER, read_all, template_csv

HEADER = TEMPLATE_HEADER + ",source_reliability,info_credibility"
BASE = "2024-05-01T10:00:00Z,38.1,127.1,artillery_fire,KPA,,exact,,0,reported,team-a,Shelling"


def test_template_grades_are_read_and_bad_ones_reject_their_row_with_the_reason():
    data = template_csv(
        f"G1,{BASE},B,2",
        f"G2,{BASE},e,5",
        f"G3,{BASE},,",
        f"G4,{BASE},usually reliable,probably true",
        f"G5,{BASE},G,2",
        f"G6,{BASE},A,7",
        f'G7,{BASE},"B - usually reliable",3',
        header=HEADER,
    )
    result = read_all(data)
    graded = result.frame.set_index("source_event_id")[["source_reliability", "info_credibility"]]
    assert graded.to_dict("index") == {
        "G1": {"source_reliability": "B", "info_credibility": "2"},
        "G2": {"source_reliability": "E", "info_credibility": "5"},
        "G3": {"source_reliability": "", "info_credibility": ""},
        "G4": {"source_reliability": "B", "info_credibility": "2"},
        "G7": {"source_reliability": "B", "info_credibility": "3"},
    }
    assert result.reason(6) == "source_reliability: 'G' is not a grade (one of A, B, C, D, E, F)"
    assert result.reason(7) == "info_credibility: '7' is not a grade (one of 1, 2, 3, 4, 5, 6)"


def test_files_without_grade_columns_are_ungraded():
    result = read_all(template_csv(f"G1,{BASE}"))
    assert result.frame[["source_reliability", "info_credibility"]].values.tolist() == [["", ""]]


MAPPED_HEADER = "Id,When,Lat,Lon,Type,Rel,Cred"


def test_a_mapping_maps_grade_columns_and_their_values_and_grades_a_whole_file_by_default():
    mapping = _build(
        {
            "columns": {"event_id": "Id", "occurred_at": "When", "lat": "Lat", "lon": "Lon",
                        "category": "Type", "source_reliability": "Rel"},
            "defaults": {"info_credibility": "3"},
            "values": {"source_reliability": {"High": "A", "Low": "E"}},
        },
        "test mapping",
    )  # fmt: skip
    rows = [
        "M1,2024-05-01T10:00:00Z,38.1,127.1,artillery_fire,High,",
        "M2,2024-05-01T10:00:00Z,38.1,127.1,artillery_fire,Low,",
        "M3,2024-05-01T10:00:00Z,38.1,127.1,artillery_fire,Medium,",
    ]
    result = read_all(template_csv(*rows, header=MAPPED_HEADER), mapping=mapping)
    graded = result.frame.set_index("source_event_id")[["source_reliability", "info_credibility"]]
    assert graded.values.tolist() == [["A", "3"], ["E", "3"]]
    assert result.reason(4) == "Rel: 'Medium' is not a grade (one of A, B, C, D, E, F)"


def test_a_mapping_checks_its_grade_defaults_and_pairs_reach_the_grade_columns():
    with pytest.raises(ReaderError, match="source_reliability"):
        _build(
            {
                "columns": {"occurred_at": "When", "lat": "Lat", "lon": "Lon"},
                "defaults": {"source_reliability": "Z"},
            },
            "test mapping",
        )
    pairs = mapping_from_pairs(["occurred_at=When", "lat=Lat", "lon=Lon", "info_credibility=Cred"])
    data = template_csv("2024-05-01T10:00:00Z,38.1,127.1,6", header="When,Lat,Lon,Cred")
    assert read_all(data, mapping=pairs).frame["info_credibility"].tolist() == ["6"]
