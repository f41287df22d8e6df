"""One store suite, run on SQLite and on a real PostGIS server."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from geo._errors import NotFoundError, PermissionDeniedError, StoreError
from geo.core.auth import Principal
from geo.core.classify import classify
from geo.core.filters import Filters
from geo.services.demo import generate_incidents
from geo.services.ingest import (
    delete_batch,
    ingest_frame,
    load_scenario_into_store,
    reclassify,
    set_verification,
)
from geo.store import SCHEMA_VERSION, open_store
from geo.store._sqlite import PAGE_BYTES

END = pd.Timestamp("2026-06-30", tz="UTC").date()


@pytest.fixture
def loaded(store, demo_scenario):
    load_scenario_into_store(store, demo_scenario)
    incidents = generate_incidents(demo_scenario, n=800, days=60, end=END, seed=3)
    summary = ingest_frame(store, incidents, name="demo.csv")
    return store, incidents, summary


def test_new_store_is_at_the_current_schema(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.scenario() is None
    assert store.count() == 0


def _page_size(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_a_new_sqlite_store_is_made_with_large_pages(tmp_path, demo_scenario):
    path = tmp_path / "new.db"
    store = open_store(f"sqlite:///{path}")
    try:
        load_scenario_into_store(store, demo_scenario)
        assert store.dialect == "sqlite"
    finally:
        store.close()
    assert _page_size(path) == PAGE_BYTES == 16_384


def test_a_sqlite_store_made_with_small_pages_keeps_them_and_works(tmp_path, demo_scenario):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("PRAGMA journal_mode = WAL")  # the page size is fixed from here on
    conn.close()
    store = open_store(f"sqlite:///{path}")
    try:
        load_scenario_into_store(store, demo_scenario)
        incidents = generate_incidents(demo_scenario, n=300, days=30, end=END, seed=5)
        summary = ingest_frame(store, incidents, name="small-pages.csv")
        assert summary.accepted == store.count() == 300
    finally:
        store.close()
    assert _page_size(path) == 4096


@pytest.mark.postgis
def test_a_bare_postgresql_database_gets_postgis_and_the_schema_on_first_open(postgis_server_url):
    import psycopg

    with psycopg.connect(f"{postgis_server_url}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "bare"')
        conn.execute('CREATE DATABASE "bare" TEMPLATE template0')
    url = f"{postgis_server_url}/bare"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").fetchone() == (0,)
    store = open_store(url)
    try:
        assert store.schema_version() == SCHEMA_VERSION and store.count() == 0
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").fetchone() == (1,)


def test_scenario_round_trips(store, demo_scenario):
    load_scenario_into_store(store, demo_scenario, manifest="korea.toml")
    back = store.scenario()
    assert back.parties == demo_scenario.parties
    assert back.rules == demo_scenario.rules
    assert back.party_mapping == demo_scenario.party_mapping
    for mine, theirs in zip(back.zones, demo_scenario.zones, strict=True):
        assert replace(mine, geometry=None) == replace(theirs, geometry=None)
        assert mine.geometry.equals_exact(theirs.geometry, 0)
    for mine, theirs in zip(back.lines, demo_scenario.lines, strict=True):
        assert replace(mine, geometry=None) == replace(theirs, geometry=None)
        assert mine.geometry.equals_exact(theirs.geometry, 0)


def test_ingest_stores_every_row_with_its_classification(loaded, demo_scenario):
    store, incidents, summary = loaded
    assert (summary.rows_read, summary.accepted, summary.rejected, summary.duplicate) == (800, 800, 0, 0)
    view = store.query()
    assert len(view) == 800
    expected = classify(incidents, demo_scenario)
    merged = view.set_index("source_event_id").loc[incidents["source_event_id"]]
    assert list(merged["verdict"]) == list(expected["verdict"].astype(str))
    assert list(merged["zones"]) == list(expected["zones"].astype(str))
    np.testing.assert_allclose(merged["distance_m"], expected["distance_m"])
    # Text survives unchanged, including Korean.
    assert set(merged["actor"]) == set(incidents["actor"])
    assert summary.new_breaches == int((expected["verdict"] == "breach").sum())


def test_same_upload_twice_adds_nothing(loaded, demo_scenario):
    store, incidents, _ = loaded
    again = ingest_frame(store, incidents, name="demo.csv")
    assert (again.accepted, again.duplicate) == (0, 800)
    assert store.count() == 800
    assert [b.batch_id for b in store.batches()] == [2, 1]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(verdicts=("breach",)),
        Filters(parties=("north",), verdicts=("breach", "possible_breach")),
        Filters(parties=("south",), verifications=("disputed", "rejected")),
        Filters(zones=("dmz",)),
        Filters(zones=("nofly-uav", "jsa"), categories=("drone_activity",)),
        Filters(verifications=("verified",), sources=("synthetic-demo",)),
        Filters(bbox=(126.5, 37.7, 127.2, 38.3)),
        Filters(text="panmunjom"),
        Filters(since=pd.Timestamp("2026-06-01", tz="UTC"), until=pd.Timestamp("2026-06-15", tz="UTC")),
    ],
)
def test_store_filters_match_in_memory_filters(loaded, filters):
    store, _, _ = loaded
    everything = store.query()
    expected = filters.apply(everything)
    assert len(expected) > 0
    assert store.count(filters) == len(expected)
    assert set(store.query(filters)["incident_id"]) == set(expected["incident_id"])


def test_compact_rows_and_incremental_reads(loaded):
    store, _, _ = loaded
    compact = store.compact()
    assert len(compact) == 800 and compact["incident_id"].is_monotonic_increasing
    assert len(store.compact(after_id=790)) == 10
    assert str(compact["occurred_at"].dtype) == "datetime64[ns, UTC]"


def test_delete_batch_removes_its_incidents_and_keeps_the_record(loaded):
    store, _, summary = loaded
    generation = store.generation()
    assert delete_batch(store, summary.batch_id) == 800
    assert store.count() == 0
    assert store.count(Filters(zones=("dmz",))) == 0
    assert store.batch(summary.batch_id).status == "deleted"
    assert store.generation() > generation
    with pytest.raises(NotFoundError):
        delete_batch(store, summary.batch_id)


def test_analyst_may_undo_only_own_batches(store, demo_scenario):
    load_scenario_into_store(store, demo_scenario)
    inc = generate_incidents(demo_scenario, n=20, end=END, seed=9)
    ana, other = Principal("ana", "analyst"), Principal("bo", "analyst")
    batch = ingest_frame(store, inc, name="a.csv", actor=ana).batch_id
    with pytest.raises(PermissionDeniedError):
        delete_batch(store, batch, actor=other)
    with pytest.raises(PermissionDeniedError):
        ingest_frame(store, inc, name="v.csv", actor=Principal("vi", "viewer"))
    assert delete_batch(store, batch, actor=ana) == 20


def test_verification_changes_are_logged(loaded):
    store, _, _ = loaded
    incident_id = int(store.query(limit=1)["incident_id"].iloc[0])
    set_verification(
        store, incident_id, "disputed", actor=Principal("ana", "analyst"), note="two sources differ"
    )
    set_verification(store, incident_id, "verified", actor=Principal("ana", "analyst"))
    history = store.verification_history(incident_id)
    assert list(history["new"]) == ["disputed", "verified"]
    assert history["user_name"].tolist() == ["ana", "ana"]
    assert store.incident(incident_id)["verification"] == "verified"
    with pytest.raises(ValueError, match="verification"):
        set_verification(store, incident_id, "probably")


def test_scenario_change_reclassifies_in_the_same_transaction(loaded, demo_scenario):
    store, _, _ = loaded
    before = store.count(Filters(verdicts=("breach",)))
    assert before > 0
    no_rules = replace(demo_scenario, rules=())
    result = load_scenario_into_store(store, no_rules)
    assert result.total == 800 and result.changed >= before
    assert store.count(Filters(verdicts=("breach",))) == 0
    assert store.count(Filters(zones=("dmz",))) > 0  # zone links rebuilt, not dropped
    again = reclassify(store)
    assert again.changed == 0


def test_upload_failing_half_way_leaves_the_store_unchanged(loaded, demo_scenario):
    store, _, _ = loaded
    before = (store.count(), len(store.batches()), store.max_incident_id(), store.generation())
    more = generate_incidents(demo_scenario, n=50, end=END, seed=11)
    stored_chunks = []

    def fail_after_first_chunk(done, total, stage):
        stored_chunks.append(done)
        if stage == "stored":
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        ingest_frame(store, more, name="cut.csv", chunk_rows=25, progress=fail_after_first_chunk)
    assert stored_chunks == [25]  # the first chunk had been written inside the transaction
    assert (store.count(), len(store.batches()), store.max_incident_id(), store.generation()) == before
    assert ingest_frame(store, more, name="cut.csv").accepted == 50


def test_audit_log_is_append_only(loaded):
    store, _, _ = loaded
    assert store.scalar("SELECT COUNT(*) FROM audit_log") >= 2
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), store.write() as tx:
            tx.execute(sql)
    assert store.scalar("SELECT COUNT(*) FROM audit_log") >= 2


def test_newer_schema_is_refused(store_url):
    store = open_store(store_url)
    with store.write() as tx:
        tx.meta_set("schema_version", str(SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(StoreError, match="newer than this release"):
        open_store(store_url)


def test_times_round_trip_in_utc(loaded):
    store, incidents, _ = loaded
    view = store.query(
        Filters(
            since=incidents["occurred_at"].min(),
            until=incidents["occurred_at"].min() + timedelta(microseconds=1),
        )
    )
    assert len(view) == 1
    assert view["occurred_at"].iloc[0] == incidents["occurred_at"].min()


def test_undated_zone_next_to_dated_ones_round_trips(store, demo_scenario):
    from geo.core.model import Zone

    # A drawn zone: a derived one takes its line's dates.
    always = Zone("always", "Always", "buffer_zone", demo_scenario.zone("dmz").geometry)
    edited = replace(demo_scenario, zones=(*demo_scenario.zones, always))
    load_scenario_into_store(store, edited)
    back = store.scenario().zone("always")
    assert (back.valid_from, back.valid_to) == (None, None)
    assert store.scenario().zone("dmz").valid_from is not None


def test_store_url_never_shows_a_password():
    from geo.store._codec import redact

    assert redact("postgresql://ops:s3cret@db.example:5432/truceline") == (
        "postgresql://ops:***@db.example:5432/truceline")
    assert redact("sqlite:////var/t.db") == "sqlite:////var/t.db"
