"""Reports from two sources that may be one event are linked, never dropped, and counted once.

Hand-built cases on both sides of each threshold (distance plus both location
uncertainties, overlapping time windows, compatible categories), on both backends, within
one upload and across uploads. Places are set at exact geodesic distances (the store
measures in the scenario's local projection, which agrees to well under a meter here).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pyproj
import pytest

from geo.core.duplicates import (
    MATCH_DISTANCE_M,
    MATCH_GAP_S,
    MATCH_MAX_UNCERTAINTY_M,
    MATCH_MAX_WINDOW_S,
    compatible,
    count_events,
)
from geo.services.cache import IncidentCache
from geo.services.ingest import delete_batch, ingest_file
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
    precision: str = "exact",
    uncertainty: str = "",
    day_only: bool = False,
) -> dict[str, str]:
    """A report of case ``case``: each case has its own day and place, far from the others."""
    lon0, lat0 = 126.9 + 0.1 * (case % 10), 37.9 + 0.1 * (case // 10)
    lon, lat, _ = GEOD.fwd(lon0, lat0, 60.0, metres) if metres else (lon0, lat0, 0.0)
    when = BASE_TIME + timedelta(days=case, seconds=seconds)
    return {
        "event_id": event_id,
        "occurred_at": when.strftime("%Y-%m-%d" if day_only else "%Y-%m-%dT%H:%M:%SZ"),
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "category": category,
        "location_precision": precision,
        "location_uncertainty_m": uncertainty,
        "source": source,
        "description": f"case {case}: {event_id}",
    }


HOURS_TO_MIDNIGHT = 12 * 3600  # BASE_TIME is noon: a day-only report's window ends 12 h later, less 1 s
# (case, team-a's report, team-b's report, linked?): both exact and at the same place and time unless said.
CASES = [
    (0, {}, {}, True),
    (1, {}, {"metres": 490.0}, True),
    (2, {}, {"metres": 510.0}, False),
    (3, {}, {"seconds": 3599}, True),
    (4, {}, {"seconds": 3601}, False),
    (5, {}, {"seconds": -3599}, True),
    (6, {}, {"seconds": -3601}, False),
    (7, {}, {"metres": 480.0, "seconds": 3500}, True),
    (8, {}, {"source": "team-a", "metres": 10.0}, False),  # the same source: a second report of its own
    (9, {}, {"category": "small_arms_fire"}, False),  # two specific kinds of fire never match
    (10, {}, {"metres": 499.0, "seconds": -3599}, True),
    # Location uncertainties widen the reach: 500 m plus both radii.
    (11, {}, {"uncertainty": "1000", "metres": 1490.0}, True),
    (12, {}, {"uncertainty": "1000", "metres": 1510.0}, False),
    (13, {"uncertainty": "300"}, {"uncertainty": "200", "metres": 990.0}, True),
    (14, {"uncertainty": "300"}, {"uncertainty": "200", "metres": 1010.0}, False),
    (15, {}, {"precision": "near", "metres": 2490.0}, True),  # "near" is ±2 km
    (16, {}, {"precision": "near", "metres": 2510.0}, False),
    # Too vague to match: ±25 km ("area"), even at the very same place.
    (17, {}, {"precision": "area"}, False),
    # A broad category matches the specific kinds it covers.
    (18, {}, {"category": "armed_clash", "metres": 100.0}, True),
    (19, {"category": "air_strike"}, {"category": "explosion"}, True),
    (20, {"category": "drone_activity"}, {"category": "airspace_violation"}, True),
    (21, {"category": "troop_movement"}, {"category": "construction"}, False),
    # Time windows: a report dated by its day only matches anything that day, and up to 1 h past it.
    (22, {}, {"day_only": True}, True),
    (23, {"seconds": HOURS_TO_MIDNIGHT - 1 + 3600}, {"day_only": True}, True),  # 1 h after its day ends
    (24, {"seconds": HOURS_TO_MIDNIGHT - 1 + 3602}, {"day_only": True}, False),
    (25, {"seconds": -12 * 3600 - 3601}, {"day_only": True}, False),  # 1 h 1 s before its day starts
]


def test_thresholds_hold() -> None:
    assert (MATCH_DISTANCE_M, MATCH_GAP_S) == (500.0, 3600.0)
    assert (MATCH_MAX_UNCERTAINTY_M, MATCH_MAX_WINDOW_S) == (5000.0, 7 * 86400.0)
    assert compatible("armed_clash", "artillery_fire") and compatible("artillery_fire", "armed_clash")
    assert not compatible("artillery_fire", "small_arms_fire")


def _upload(store, tmp_path, name: str, records: list[dict[str, str]]):
    path = tmp_path / name
    path.write_text(template_text(records)[0], encoding="utf-8")
    return ingest_file(store, path, now=NOW)


def _links(store) -> dict[str, set[str]]:
    """Event id → the event ids it is linked to (either side), for every stored incident."""
    view = store.query(columns=["incident_id", "source_event_id"])
    name = dict(zip(view["incident_id"], view["source_event_id"], strict=True))
    out: dict[str, set[str]] = {e: set() for e in name.values()}
    for later, earlier in store.links()[["incident_id", "other_id"]].itertuples(index=False):
        out[name[later]].add(name[earlier])
        out[name[earlier]].add(name[later])
    return out


@pytest.mark.parametrize("across_uploads", [False, True], ids=["one-upload", "two-uploads"])
def test_matches_are_linked_on_both_sides_of_each_threshold(loaded, tmp_path, across_uploads):
    bases = [report(f"A{case}", case=case, source="team-a", **a) for case, a, _, _ in CASES]
    candidates = [report(f"B{case}", case=case, **({"source": "team-b"} | b)) for case, _, b, _ in CASES]
    if across_uploads:
        first = _upload(loaded, tmp_path, "a.csv", bases)
        summary = _upload(loaded, tmp_path, "b.csv", candidates)
        assert (first.near_duplicates, first.accepted) == (0, len(CASES))
    else:
        summary = _upload(loaded, tmp_path, "ab.csv", bases + candidates)

    links = _links(loaded)
    expected = {f"B{case}": ({f"A{case}"} if linked else set()) for case, _, _, linked in CASES}
    assert {e: links[e] for e in expected} == expected
    # Linked, not dropped: every report was stored, and each link is unreviewed evidence.
    assert loaded.count() == 2 * len(CASES)
    assert summary.accepted == len(CASES) * (1 if across_uploads else 2)
    n_linked = sum(linked for *_, linked in CASES)
    assert summary.near_duplicates == n_linked
    assert loaded.batch(summary.batch_id).near_duplicates == n_linked
    assert any("another source's report of the same event" in w for w in summary.warnings)
    stored = loaded.links()
    assert set(stored["kind"]) == {"cross_source"} and set(stored["status"]) == {"unreviewed"}
    assert stored["batch_id"].eq(summary.batch_id).all()
    ids = loaded.query(columns=["incident_id", "source_event_id"]).set_index("source_event_id")["incident_id"]
    evidence = stored.set_index("incident_id")
    assert evidence.at[ids["B1"], "distance_m"] == pytest.approx(490.0, abs=0.5)
    assert evidence.at[ids["B1"], "gap_s"] == 0.0
    assert evidence.at[ids["B3"], "gap_s"] == 3599.0


def test_each_report_is_linked_to_the_closest_report_of_each_other_source(loaded, tmp_path):
    records = [
        report("first", case=30, source="team-a"),
        report("second", case=30, source="team-c", metres=100.0, seconds=600),
        report("third", case=30, source="team-b", metres=200.0, seconds=1200),
        # Two team-a reports (two events) near a team-d report: only the closer one is linked.
        report("a-far", case=31, source="team-a"),
        report("a-near", case=31, source="team-a", metres=300.0),
        report("d", case=31, source="team-d", metres=250.0),
    ]
    summary = _upload(loaded, tmp_path, "several.csv", records)
    links = _links(loaded)
    assert links["first"] == {"second", "third"}
    assert links["second"] == {"first", "third"}
    assert links["d"] == {"a-near"} and links["a-far"] == set()
    assert summary.near_duplicates == 3  # second, third and d


def test_linked_reports_count_once(loaded, tmp_path):
    _upload(loaded, tmp_path, "a.csv", [report("A0", case=40, source="team-a")])
    _upload(loaded, tmp_path, "b.csv", [report("B0", case=40, source="team-b", metres=50.0)])
    _upload(loaded, tmp_path, "c.csv", [report("C0", case=41, source="team-a")])
    view = loaded.query()
    assert len(view) == 3
    groups = dict(zip(view["source_event_id"], view["duplicate_group"], strict=True))
    ids = dict(zip(view["source_event_id"], view["incident_id"], strict=True))
    assert groups == {"A0": ids["A0"], "B0": ids["A0"], "C0": ids["C0"]}  # exports carry the group
    snap = IncidentCache(loaded).snapshot()
    assert len(snap.frame) == 3 and count_events(snap.frame) == 2
    assert count_events(view) == 2  # a store view (exports, briefings) counts the same


def test_undoing_the_earlier_upload_removes_the_links_into_it(loaded, tmp_path):
    first = _upload(loaded, tmp_path, "a.csv", [report("A0", case=50, source="team-a")])
    _upload(loaded, tmp_path, "b.csv", [report("B0", case=50, source="team-b", metres=50.0)])
    assert _links(loaded) == {"A0": {"B0"}, "B0": {"A0"}}
    assert len(loaded.groups()) == 2
    delete_batch(loaded, first.batch_id)
    assert _links(loaded) == {"B0": set()}
    assert loaded.links().empty and loaded.groups().empty


def test_no_links_when_nothing_is_near(loaded, tmp_path):
    records = [report(f"X{case}", case=case, source=f"team-{case % 3}") for case in range(60, 80)]
    summary = _upload(loaded, tmp_path, "apart.csv", records)
    assert (summary.accepted, summary.near_duplicates) == (20, 0)
    assert not any("same event" in w for w in summary.warnings)
    assert loaded.links().empty
