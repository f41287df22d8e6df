"""Near-duplicates (same category, ±1 h, ≤ 500 m, another source) are flagged, never dropped.

Hand-built cases on both sides of each threshold, on both backends, within one upload and
across uploads. Places are set at exact geodesic distances (the store measures in the
scenario's local projection, which agrees to well under a meter here).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pyproj
import pytest

from geo.ingest import NEAR_DUPLICATE_M, NEAR_DUPLICATE_S, delete_batch, ingest_file
from tests.ingest.helpers import NOW, template_text

GEOD = pyproj.Geod(ellps="WGS84")
BASE_TIME = pd.Timestamp("2026-03-01T12:00:00Z")


def report(
    event_id: str,
    *,
    case: int,
    source: str,
    metres: float = 0.0,
    seconds: int = 0,
    category: str = "artillery_fire",
) -> dict[str, str]:
    """A report of case ``case``: each case has its own day and place, far from the others."""
    lon0, lat0 = 126.9 + 0.1 * (case % 10), 37.9 + 0.1 * (case // 10)
    lon, lat, _ = GEOD.fwd(lon0, lat0, 60.0, metres) if metres else (lon0, lat0, 0.0)
    when = BASE_TIME + timedelta(days=case, seconds=seconds)
    return {
        "event_id": event_id,
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "category": category,
        "source": source,
        "description": f"case {case}: {event_id}",
    }


# (case, candidate, flagged?): the base report of each case is team-a's, at 0 m and 0 s.
CASES = [
    (0, {"source": "team-b"}, True),
    (1, {"source": "team-b", "metres": 490.0}, True),
    (2, {"source": "team-b", "metres": 510.0}, False),
    (3, {"source": "team-b", "seconds": 3599}, True),
    (4, {"source": "team-b", "seconds": 3601}, False),
    (5, {"source": "team-b", "seconds": -3599}, True),
    (6, {"source": "team-b", "seconds": -3601}, False),
    (7, {"source": "team-b", "metres": 480.0, "seconds": 3500}, True),
    (8, {"source": "team-a", "metres": 10.0}, False),  # the same source: a second report of its own
    (9, {"source": "team-b", "category": "small_arms_fire"}, False),
    (10, {"source": "team-b", "metres": 499.0, "seconds": -3599}, True),
]


def test_thresholds_hold() -> None:
    assert (NEAR_DUPLICATE_M, NEAR_DUPLICATE_S) == (500.0, 3600.0)


def _upload(store, tmp_path, name: str, records: list[dict[str, str]]):
    path = tmp_path / name
    path.write_text(template_text(records)[0], encoding="utf-8")
    return ingest_file(store, path, now=NOW)


def _flags(store) -> dict[str, str | None]:
    view = store.query(columns=["incident_id", "source_event_id", "near_duplicate_of"])
    by_id = dict(zip(view["incident_id"], view["source_event_id"], strict=True))
    return {
        e: (None if pd.isna(o) else by_id[int(o)])
        for e, o in zip(view["source_event_id"], view["near_duplicate_of"], strict=True)
    }


@pytest.mark.parametrize("across_uploads", [False, True], ids=["one-upload", "two-uploads"])
def test_near_duplicates_are_flagged_on_both_sides_of_each_threshold(loaded, tmp_path, across_uploads):
    bases = [report(f"A{case}", case=case, source="team-a") for case, _, _ in CASES]
    candidates = [report(f"B{case}", case=case, **kw) for case, kw, _ in CASES]
    if across_uploads:
        first = _upload(loaded, tmp_path, "a.csv", bases)
        second = _upload(loaded, tmp_path, "b.csv", candidates)
        assert (first.near_duplicates, first.accepted) == (0, len(CASES))
        summary = second
    else:
        summary = _upload(loaded, tmp_path, "ab.csv", bases + candidates)

    flags = _flags(loaded)
    expected = {f"B{case}": (f"A{case}" if flagged else None) for case, _, flagged in CASES}
    assert {e: flags[e] for e in expected} == expected
    assert all(flags[f"A{case}"] is None for case, _, _ in CASES)  # the earlier report is never flagged
    # Flagged, not dropped: every report was stored.
    assert loaded.count() == 2 * len(CASES)
    assert summary.accepted == len(CASES) * (1 if across_uploads else 2)
    assert summary.near_duplicates == sum(flagged for _, _, flagged in CASES)
    assert any("near-duplicate" in w for w in summary.warnings)
    assert loaded.batch(summary.batch_id).near_duplicates == summary.near_duplicates


def test_the_earliest_report_is_the_one_pointed_to(loaded, tmp_path):
    records = [
        report("first", case=20, source="team-a"),
        report("second", case=20, source="team-c", metres=100.0, seconds=600),
        report("third", case=20, source="team-b", metres=200.0, seconds=1200),
    ]
    summary = _upload(loaded, tmp_path, "three.csv", records)
    flags = _flags(loaded)
    assert flags == {"first": None, "second": "first", "third": "first"}
    assert summary.near_duplicates == 2


def test_undoing_the_earlier_upload_clears_the_flags_that_pointed_into_it(loaded, tmp_path):
    first = _upload(loaded, tmp_path, "a.csv", [report("A0", case=30, source="team-a")])
    _upload(loaded, tmp_path, "b.csv", [report("B0", case=30, source="team-b", metres=50.0)])
    assert _flags(loaded) == {"A0": None, "B0": "A0"}
    delete_batch(loaded, first.batch_id)
    assert _flags(loaded) == {"B0": None}


def test_no_flags_when_nothing_is_near(loaded, tmp_path):
    records = [report(f"X{case}", case=case, source=f"team-{case % 3}") for case in range(40, 60)]
    summary = _upload(loaded, tmp_path, "apart.csv", records)
    assert (summary.accepted, summary.near_duplicates) == (20, 0)
    assert not any("near-duplicate" in w for w in summary.warnings)
    assert set(_flags(loaded).values()) == {None}
