"""Actor names to scenario parties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo._errors import ReaderError
from geo.io.readers import map_party
from tests.readers.readers_support import korea_party_mapping


def test_match_kinds_and_precedence():
    mapping = [
        ("Army", "icontains", "contains"),
        ("ROK Army", "iexact", "iexact"),
        ("ROK Army", "exact", "exact"),
        ("Navy", "icontains", "first"),
        ("Navy", "icontains", "second"),
    ]
    names = ["ROK Army", "rok army", "ROK ARMY reserve", "Coast Navy", "", "  ROK Army  ", "Air Force"]
    got = map_party(names, mapping).tolist()
    assert got == ["exact", "iexact", "contains", "first", "", "exact", ""]


def test_korean_and_case_folding():
    mapping = korea_party_mapping()
    names = pd.Series(["조선인민군 제2군단", "kpa", "Military Forces of North Korea (2011-)", "ROKA",
                       "대한민국 국군 제1사단", "Unknown"], dtype="str")
    assert map_party(names, mapping).tolist() == ["north", "north", "north", "south", "south", ""]
    assert map_party(["STRASSE"], [("straße", "iexact", "de")]).tolist() == ["de"]


def test_vectorised_over_many_rows():
    names = np.array(["KPA", "ROK Army", "x"] * 100_000, dtype=object)
    out = map_party(names, korea_party_mapping())
    assert out.shape == (300_000,)
    assert out[:3].tolist() == ["north", "south", ""]


def test_missing_values_and_empty_mapping():
    assert map_party(pd.Series(["KPA", None], dtype="str"), korea_party_mapping()).tolist() == ["north", ""]
    assert map_party(["KPA"], []).tolist() == [""]


@pytest.mark.parametrize(("entry", "problem"), [
    (("KPA", "regex", "north"),
     "party_mapping[0]: unknown match 'regex' (expected exact, iexact or icontains)"),
    (("KPA", "north"), "party_mapping[0]: expected (pattern, match, party)"),
])
def test_bad_mapping(entry, problem):
    with pytest.raises(ReaderError) as err:
        map_party(["KPA"], [entry])
    assert str(err.value).startswith(problem)
