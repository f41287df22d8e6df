"""The content hash is stored: it must not change with pandas, numpy or pyarrow versions.

The expected values come from hand-written canonical text (the definition in
:func:`geo.core.duplicates.content_hash`) hashed by the pure-Python SipHash-2-4 below, itself
checked against the reference test vector of SipHash's authors; they are also pinned as
literals, as this release stores them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.core.duplicates import HASH_KEYS, content_hash

MASK = (1 << 64) - 1


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(key: bytes, data: bytes) -> int:
    """SipHash-2-4 (Aumasson and Bernstein, 2012), written from the paper."""
    k0, k1 = int.from_bytes(key[:8], "little"), int.from_bytes(key[8:], "little")
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(n: int) -> None:
        for _ in range(n):
            v[0] = (v[0] + v[1]) & MASK
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & MASK
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & MASK
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & MASK
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    tail = len(data) % 8
    blocks = [int.from_bytes(data[i : i + 8], "little") for i in range(0, len(data) - tail, 8)]
    blocks.append(int.from_bytes(data[len(data) - tail :], "little") | ((len(data) & 0xFF) << 56))
    for m in blocks:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def splitmix64_finish(x: int) -> int:
    """The finaliser of splitmix64 (Steele, Lea and Flood, 2014)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def reference(fields: list[str]) -> str:
    text = "\x1f".join(fields).encode("utf-8")
    return "".join(f"{splitmix64_finish(siphash24(k.encode(), text)):016x}" for k in HASH_KEYS)


def test_the_siphash_reference_meets_the_published_test_vector():
    key, message = bytes(range(16)), bytes(range(15))
    assert siphash24(key, message) == 0xA129CA6149BE45E5
    assert siphash24(key, b"") == 0x726FDB47DD0E0E31


ROWS = {
    "source": ["monitor", "acled", "ucdp", None, "monitor"],
    "occurred_at": ["2024-05-01T14:30:00Z", "1999-12-31T23:59:59.123456Z", "2026-01-01T00:00:00+09:00",
                    "2024-05-01T00:00:00Z", "2024-05-01T14:30:00Z"],
    "lon": [126.6773, -0.0, 127.1234565, 180.0, 126.6773],
    "lat": [37.9553, 1e-7, -38.0, 89.9999999, 37.9553],
    "category": ["small_arms_fire", "other", "armed_clash", None, "small_arms_fire"],
    "actor": ["Korean People's Army", "", "조선인민군 제2군단", None, "Korean People's Army"],
    "party": ["north", "", "south", None, "south"],
    "fatalities": [0, None, 12, 3, 0],
    "description": ["Two bursts. 북측 초소에서 총성 2회.", 'Беспилотник; "quoted", comma',
                    "دورية شوهدت قرب الخط\nline two", None, "Two bursts. 북측 초소에서 총성 2회."],
}  # fmt: skip
CANONICAL = [
    ["monitor", "1714573800000000", "126677300", "37955300", "small_arms_fire", "Korean People's Army",
     "north", "0", "Two bursts. 북측 초소에서 총성 2회."],
    # -0.0 rounds to 0; 1e-7 degrees is 0.1 micro-degree, which rounds to 0.
    ["acled", "946684799123456", "0", "0", "other", "", "", "", 'Беспилотник; "quoted", comma'],
    # numpy.rint(127.1234565e6) is 127123456 (the float is just below the half).
    ["ucdp", "1767193200000000", "127123456", "-38000000", "armed_clash", "조선인민군 제2군단", "south", "12",
     "دورية شوهدت قرب الخط\nline two"],
    ["", "1714521600000000", "180000000", "90000000", "", "", "", "3", ""],
    # The first row with another party: another event's content.
    ["monitor", "1714573800000000", "126677300", "37955300", "small_arms_fire", "Korean People's Army",
     "south", "0", "Two bursts. 북측 초소에서 총성 2회."],
]  # fmt: skip
EXPECTED = [
    "c928a02eb0d5a8ef579d517df650e567",
    "78b32299e8b323ee329279a5a704794a",
    "39a37befae5b717d162e0df5814fa7bc",
    "8896dc8ae77b962aa019eda2a65d04f4",
    "a62613ef7ab0d8224b67dd08e9e2e820",
]
"""The hashes this release stores for these rows."""


def _frame(text_dtype: object) -> pd.DataFrame:
    text = ("source", "category", "actor", "party", "description")
    return pd.DataFrame(
        {
            **{c: pd.Series(ROWS[c], dtype=text_dtype) for c in text},
            "occurred_at": pd.to_datetime(ROWS["occurred_at"], utc=True, format="ISO8601"),
            "lon": ROWS["lon"],
            "lat": ROWS["lat"],
            "fatalities": pd.array(ROWS["fatalities"], dtype="Int64"),
        }
    )


def test_the_definition_is_siphash_of_the_canonical_text():
    assert [reference(r) for r in CANONICAL] == EXPECTED


@pytest.mark.parametrize("text_dtype", ["str", object, "category"])
def test_content_hash_matches_the_stored_definition(text_dtype):
    assert list(content_hash(_frame(text_dtype))) == EXPECTED


def test_hash_ignores_what_is_not_content_and_sees_what_is():
    frame = _frame("str")
    base = content_hash(frame)
    assert len(set(base)) == 5  # the party alone tells rows 0 and 4 apart
    moved = content_hash(frame.assign(lon=frame["lon"] + 2e-7))  # below the 1e-6 degree resolution...
    assert list(moved[[0, 1, 3, 4]]) == list(base[[0, 1, 3, 4]])  # (-0.0 and 0.0 alike, too)
    assert moved[2] != base[2]  # ...unless it crosses a half: 127.1234565 + 2e-7 rounds up
    for column, value in (
        ("lat", 10.0),
        ("fatalities", 99),
        ("description", "other"),
        ("source", "x"),
        ("party", "east"),
        ("actor", "someone"),
        ("category", "explosion"),
    ):
        changed = frame.assign(**{column: [value] * 5})
        assert not np.any(content_hash(changed) == base), column
    later = frame.assign(occurred_at=frame["occurred_at"] + pd.Timedelta(microseconds=1))
    assert not np.any(content_hash(later) == base)
    assert content_hash(frame.iloc[:0]).tolist() == []
