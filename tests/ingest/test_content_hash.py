"""The content hash is stored: it must not change with pandas, numpy or pyarrow versions.

The expected values are BLAKE2b digests of hand-written canonical text (the definition in
:func:`geo.ingest.content_hash`), so they say nothing about any library's formatting.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from geo.ingest import content_hash

ROWS = {
    "source": ["monitor", "acled", "ucdp", None],
    "occurred_at": ["2024-05-01T14:30:00Z", "1999-12-31T23:59:59.123456Z", "2026-01-01T00:00:00+09:00",
                    "2024-05-01T00:00:00Z"],
    "lon": [126.6773, -0.0, 127.1234565, 180.0],
    "lat": [37.9553, 1e-7, -38.0, 89.9999999],
    "category": ["small_arms_fire", "other", "armed_clash", None],
    "actor": ["Korean People's Army", "", "조선인민군 제2군단", None],
    "fatalities": [0, None, 12, 3],
    "description": ["Two bursts. 북측 초소에서 총성 2회.", 'Беспилотник; "quoted", comma',
                    "دورية شوهدت قرب الخط\nline two", None],
}  # fmt: skip
CANONICAL = [
    ["monitor", "2024-05-01T14:30:00.000000", "126.6773", "37.9553", "small_arms_fire",
     "Korean People's Army", "0", "Two bursts. 북측 초소에서 총성 2회."],
    ["acled", "1999-12-31T23:59:59.123456", "-0.0", "0.0", "other", "", "", 'Беспилотник; "quoted", comma'],
    # numpy.round(127.1234565, 6) is 127.123456 (Python's round() would give 127.123457).
    ["ucdp", "2025-12-31T15:00:00.000000", "127.123456", "-38.0", "armed_clash", "조선인민군 제2군단", "12",
     "دورية شوهدت قرب الخط\nline two"],
    ["", "2024-05-01T00:00:00.000000", "180.0", "90.0", "", "", "3", ""],
]  # fmt: skip
EXPECTED = [
    "c03e165334ee67e95014a6a4ee647dbb",
    "6c045a0be9478708539498a1dc8f855e",
    "fa528c9aebce103cd80d9a785fe5db07",
    "3deb09672bffe209b0a71566c456b331",
]
"""The hashes release 0.1 stored for these rows."""


def _frame(text_dtype: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": pd.Series(ROWS["source"], dtype=text_dtype),
            "occurred_at": pd.to_datetime(ROWS["occurred_at"], utc=True, format="ISO8601"),
            "lon": ROWS["lon"],
            "lat": ROWS["lat"],
            "category": pd.Series(ROWS["category"], dtype=text_dtype),
            "actor": pd.Series(ROWS["actor"], dtype=text_dtype),
            "fatalities": pd.array(ROWS["fatalities"], dtype="Int64"),
            "description": pd.Series(ROWS["description"], dtype=text_dtype),
        }
    )


def test_the_definition_is_blake2b_of_the_canonical_text():
    digests = [hashlib.blake2b("\x1f".join(r).encode(), digest_size=16).hexdigest() for r in CANONICAL]
    assert digests == EXPECTED


@pytest.mark.parametrize("text_dtype", ["str", object, "category"])
def test_content_hash_matches_the_stored_definition(text_dtype):
    assert list(content_hash(_frame(text_dtype))) == EXPECTED


def test_hash_ignores_what_is_not_content_and_sees_what_is():
    frame = _frame("str")
    base = content_hash(frame)
    assert len(set(base)) == 4
    moved = frame.assign(lon=frame["lon"] + 2e-7)  # below the 1e-6 degree resolution...
    assert list(content_hash(moved)[[0, 3]]) == list(base[[0, 3]])
    assert content_hash(moved)[1] != base[1]  # ...though -0.0 and 0.0 are written apart
    for column, value in (("lat", 10.0), ("fatalities", 99), ("description", "other"), ("source", "x")):
        changed = frame.assign(**{column: [value] * 4})
        assert not np.any(content_hash(changed) == base), column
    later = frame.assign(occurred_at=frame["occurred_at"] + pd.Timedelta(microseconds=1))
    assert not np.any(content_hash(later) == base)
