"""Admiralty grading: thresholds, weak reports, the "unconfirmed source" note, and the filter."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.core.filters import Filters
from geo.core.grading import (
    CREDIBILITY,
    RELIABILITY,
    UNCONFIRMED,
    confidence_notes,
    meets,
    parse_threshold,
    verdict_text,
    weak,
)

GRADES_R = st.sampled_from(["", *RELIABILITY])
GRADES_C = st.sampled_from(["", *CREDIBILITY])


def test_a_threshold_is_a_letter_and_a_digit():
    assert parse_threshold("b2") == ("B", "2")
    assert parse_threshold(" C 3 ") == ("C", "3")
    for bad in ("", "B", "2", "G1", "B7", "2B", "B22"):
        with pytest.raises(ValueError, match="grade: must be a reliability A-F and a credibility 1-6"):
            parse_threshold(bad)


def test_at_least_b2_keeps_a_or_b_and_1_or_2_and_never_the_ungraded():
    r = pd.Series(["A", "B", "B", "C", "A", "", "B"])
    c = pd.Series(["1", "2", "3", "1", "", "2", "1"])
    assert meets(r, c, "B2").tolist() == [True, True, False, False, False, False, True]
    assert meets(r, c, "F6").tolist() == [True] * 4 + [False, False, True]


@given(st.lists(st.tuples(GRADES_R, GRADES_C), max_size=30), GRADES_R.filter(bool), GRADES_C.filter(bool))
def test_a_stricter_threshold_keeps_a_subset(grades, r, c):
    rel = pd.Series([g[0] for g in grades], dtype=object)
    cred = pd.Series([g[1] for g in grades], dtype=object)
    strict = meets(rel, cred, r + c)
    loose = meets(rel, cred, "F6")
    assert not (strict & ~loose).any()
    expected = [a != "" and b != "" and a <= r and b <= c for a, b in grades]
    assert strict.tolist() == expected


def test_weak_reports_are_graded_e_f_or_5_6():
    r = pd.Series(["E", "F", "A", "A", "", "D"])
    c = pd.Series(["1", "", "5", "6", "", "4"])
    assert weak(r, c).tolist() == [True, True, True, True, False, False]


def frame(rows: list[tuple[int, str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["incident_id", "verdict", "source_reliability", "info_credibility", "duplicate_group"]
    )


def test_a_breach_is_unconfirmed_only_when_every_report_of_its_event_is_weak():
    view = frame(
        [
            (1, "breach", "E", "5", 1),  # alone, weak
            (2, "breach", "E", "5", 2),  # weak, but linked to a strong report
            (3, "no_breach", "B", "2", 2),
            (4, "breach", "", "", 4),  # ungraded: not "graded E/F or 5/6"
            (5, "possible_breach", "F", "6", 5),  # the note is for breaches
            (6, "breach", "A", "6", 6),  # credibility 6 alone makes it weak
            (7, "breach", "C", "3", 7),
        ]
    )
    assert confidence_notes(view).tolist() == [UNCONFIRMED, "", "", "", "", UNCONFIRMED, ""]
    # Without groups each report stands alone.
    assert confidence_notes(view.drop(columns="duplicate_group")).tolist()[1] == UNCONFIRMED
    assert verdict_text("Breach", UNCONFIRMED) == "Breach (unconfirmed source)"
    assert verdict_text("Breach", "") == verdict_text("Breach", None) == "Breach"


def test_the_grade_filter_is_in_the_url_and_the_description():
    f = Filters(grade="b2")
    assert f.grade == "B2"
    assert f.to_query() == {"grade": "B2"}
    assert Filters.from_query({"grade": "B2"}) == f
    assert Filters.from_query({"grade": "Z9"}) == Filters()  # malformed values are ignored
    assert "graded at least B2" in f.describe()
    with pytest.raises(ValueError, match="grade: must be"):
        Filters(grade="B9")
    view = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2026-01-01"] * 3, utc=True),
            "source_reliability": ["A", "C", ""],
            "info_credibility": ["2", "1", ""],
        }
    )
    assert f.apply(view).index.tolist() == [0]
