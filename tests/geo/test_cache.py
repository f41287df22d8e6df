"""The in-memory incident cache catches up with the store: appends by id, reloads on rewrites."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from geo.core.duplicates import count_events
from geo.services.cache import GROUP_COLUMNS, IncidentCache, window_start
from geo.services.demo import generate_incidents
from geo.services.ingest import (
    delete_batch,
    ingest_frame,
    load_scenario_into_store,
    set_link_status,
    set_verification,
)
from geo.store import COMPACT_COLUMNS, open_store
from tests.helpers import hand_incidents


@pytest.fixture
def store(tmp_path, demo_scenario):
    s = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    load_scenario_into_store(s, demo_scenario)
    yield s
    s.close()


def test_appends_new_incidents_and_reloads_after_rewrites(store, demo_scenario):
    cache = IncidentCache(store)
    assert len(cache.snapshot().frame) == 0
    ingest_frame(store, generate_incidents(demo_scenario, n=50, end=date(2026, 6, 1), seed=1), name="a")
    first = cache.snapshot()
    assert len(first.frame) == 50 and first.max_id == 50
    assert tuple(first.frame.columns) == COMPACT_COLUMNS + GROUP_COLUMNS
    assert (first.frame["duplicate_group"] == first.frame["incident_id"]).all()  # nothing linked
    ingest_frame(store, generate_incidents(demo_scenario, n=30, end=date(2026, 6, 2), seed=2), name="b")
    second = cache.snapshot()
    assert len(second.frame) == 80 and second.generation == first.generation  # appended, not reloaded
    assert second.frame["incident_id"].is_unique
    assert set(second.frame["verdict"].cat.categories) <= {
        "breach",
        "possible_breach",
        "no_breach",
        "outside_monitored_area",
    }
    set_verification(store, 3, "disputed")
    third = cache.snapshot()
    assert third.generation > second.generation
    assert third.frame.set_index("incident_id").loc[3, "verification"] == "disputed"
    delete_batch(store, 1)
    assert len(cache.snapshot().frame) == 30
    assert cache.snapshot(refresh=False) is cache.snapshot(refresh=False)


def test_window_presets():
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert window_start(now, "24h") == now - timedelta(hours=24)
    assert window_start(now, "7d") == now - timedelta(days=7)
    assert window_start(now, "30d") == now - timedelta(days=30)
    assert window_start(now, "all") is None


def test_groups_follow_new_links_and_reviews_without_a_reload(store):
    now = pd.Timestamp("2026-06-01T12:00:00Z")
    report = {"lon": 127.0, "lat": 38.0, "occurred_at": now - pd.Timedelta(days=1)}
    cache = IncidentCache(store)
    ingest_frame(store, hand_incidents([report | {"source": "team-a"}], now=now, id_prefix="A"), name="a")
    first = cache.snapshot()
    assert first.frame["duplicate_group"].tolist() == [1]
    # Another source's report of it, in a later upload: the earlier row's group changes too.
    ingest_frame(store, hand_incidents([report | {"source": "team-b"}], now=now, id_prefix="B"), name="b")
    second = cache.snapshot()
    assert second.generation == first.generation and second.link_generation > first.link_generation
    assert second.frame["duplicate_group"].tolist() == [1, 1]
    assert count_events(second.frame) == 1
    set_link_status(store, 1, 2, "different_events")
    third = cache.snapshot()
    assert third.generation == first.generation  # appended rows kept, groups re-read
    assert third.frame["duplicate_group"].tolist() == [1, 2] and count_events(third.frame) == 2
    ingest_frame(store, hand_incidents([report | {"lon": 127.5, "source": "team-c"}], now=now, id_prefix="C"),
                 name="c")  # fmt: skip
    assert cache.snapshot().frame["duplicate_group"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("read_rows", [1, 7, 50])
def test_reading_in_slices_gives_the_rows_of_one_read(store, demo_scenario, read_rows):
    """Slices of 1, 7 and 50 rows (50 holds a whole upload, 7 splits it): the same frame as one read."""
    ingest_frame(store, generate_incidents(demo_scenario, n=50, end=date(2026, 6, 1), seed=1), name="a")
    whole = IncidentCache(store, persist=False, read_rows=10_000)
    sliced = IncidentCache(store, persist=False, read_rows=read_rows)
    pd.testing.assert_frame_equal(sliced.snapshot().frame, whole.snapshot().frame, check_categorical=False)
    ingest_frame(store, generate_incidents(demo_scenario, n=23, end=date(2026, 6, 3), seed=5), name="b")
    appended, reread = sliced.snapshot().frame, whole.snapshot().frame
    assert len(appended) == 73 and appended["incident_id"].is_monotonic_increasing
    pd.testing.assert_frame_equal(appended, reread, check_categorical=False)
    for col in ("category", "verdict", "zones"):  # the categories of every slice are kept
        assert set(appended[col].astype(str)) == set(reread[col].astype(str))
