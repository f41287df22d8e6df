"""The incident cache kept in a file: used at the next start only while it is this store's, current."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest

from geo.services import _cache_file
from geo.services.cache import IncidentCache
from geo.services.demo import generate_incidents
from geo.services.ingest import (
    delete_batch,
    ingest_frame,
    load_scenario_into_store,
    reclassify,
    set_verification,
)
from geo.store import open_store


@pytest.fixture
def store(store_url, demo_scenario):
    s = open_store(store_url)
    load_scenario_into_store(s, demo_scenario)
    yield s
    s.close()


@pytest.fixture
def cache_path(tmp_path):
    return tmp_path / "cache" / "incidents.arrow"


def _add(store, scenario, n: int, seed: int) -> None:
    ingest_frame(store, generate_incidents(scenario, n=n, end=date(2026, 6, 1), seed=seed), name=f"s{seed}")


def _tamper(store, incident_id: int, category: str) -> None:
    """Change a stored row behind the store's back (no generation change): only a reload sees it."""
    with store.write() as tx:
        tx.execute("UPDATE incidents SET category = ? WHERE incident_id = ?", (category, incident_id))


def _category(cache: IncidentCache, incident_id: int) -> str:
    return str(cache.snapshot().frame.set_index("incident_id").loc[incident_id, "category"])


def test_a_restart_reads_the_file_then_catches_up(store, demo_scenario, cache_path):
    _add(store, demo_scenario, 40, 1)
    first = IncidentCache(store, path=cache_path).snapshot()
    assert cache_path.exists() and len(first.frame) == 40
    _tamper(store, 5, "tampered")
    _add(store, demo_scenario, 25, 2)
    again = IncidentCache(store, path=cache_path).snapshot()  # a server start
    assert len(again.frame) == 65 and again.max_id == store.max_incident_id()
    assert _category(IncidentCache(store, path=cache_path), 5) != "tampered"  # from the file
    assert _category(IncidentCache(store, path=cache_path, persist=False), 5) == "tampered"
    pd.testing.assert_frame_equal(
        again.frame.drop(index=4).reset_index(drop=True),
        IncidentCache(store, persist=False).snapshot().frame.drop(index=4).reset_index(drop=True),
        check_categorical=False,
    )


@pytest.mark.parametrize("rewrite", ["verification", "reclassify", "undo", "scenario-load"])
def test_a_rewrite_makes_the_file_stale(store, demo_scenario, cache_path, rewrite):
    _add(store, demo_scenario, 30, 1)
    _add(store, demo_scenario, 10, 2)
    IncidentCache(store, path=cache_path).snapshot()
    _tamper(store, 35, "tampered")
    if rewrite == "verification":
        set_verification(store, 3, "disputed")
    elif rewrite == "reclassify":
        reclassify(store)
    elif rewrite == "undo":
        delete_batch(store, 1)
    else:
        load_scenario_into_store(store, demo_scenario)
    fresh = IncidentCache(store, path=cache_path)
    snap = fresh.snapshot()
    assert snap.generation == store.generation()
    assert len(snap.frame) == store.count()
    assert "tampered" in set(snap.frame["category"].astype(str))  # read from the store, not the file
    saved = _cache_file.load(cache_path, store_id=store.store_id(), generation=store.generation(),
                             columns=tuple(snap.frame.columns))  # fmt: skip
    assert saved is not None and len(saved.frame) == len(snap.frame)  # and saved again


def test_a_file_of_another_store_is_ignored(tmp_path, demo_scenario):
    stores = []
    for name in ("a", "b"):
        s = open_store(f"sqlite:///{tmp_path / name}.db")
        load_scenario_into_store(s, demo_scenario)
        stores.append(s)
    a, b = stores
    _add(a, demo_scenario, 20, 1)
    _add(b, demo_scenario, 20, 2)
    assert a.store_id() != b.store_id() and a.generation() == b.generation()
    IncidentCache(a).snapshot()
    IncidentCache(b).snapshot()
    _tamper(b, 7, "tampered")
    shutil.copyfile(_cache_file.path_for(a), _cache_file.path_for(b))
    assert _category(IncidentCache(b), 7) == "tampered"  # a's file was not used


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_file_is_ignored_and_replaced(store, demo_scenario, cache_path, damage):
    _add(store, demo_scenario, 20, 1)
    IncidentCache(store, path=cache_path).snapshot()
    data = cache_path.read_bytes()
    cache_path.write_bytes(
        {"truncated": data[: len(data) // 2], "garbage": b"\x00not arrow" * 99, "empty": b""}[damage]
    )
    _tamper(store, 2, "tampered")
    assert _category(IncidentCache(store, path=cache_path), 2) == "tampered"
    columns = tuple(IncidentCache(store, persist=False).snapshot().frame.columns)
    saved = _cache_file.load(
        cache_path, store_id=store.store_id(), generation=store.generation(), columns=columns
    )
    assert saved is not None and len(saved.frame) == 20


def test_saves_are_whole_and_leave_no_scraps(store, demo_scenario, cache_path):
    _add(store, demo_scenario, 20, 1)
    caches = [IncidentCache(store, path=cache_path) for _ in range(3)]  # processes sharing a store
    for cache in caches:
        cache.snapshot()
        cache.invalidate()
    set_verification(store, 4, "verified")
    for cache in caches:
        assert len(cache.snapshot().frame) == 20
    assert sorted(p.name for p in cache_path.parent.iterdir()) == [cache_path.name]


def test_a_folder_that_cannot_be_written_costs_only_the_file(store, demo_scenario, tmp_path):
    _add(store, demo_scenario, 10, 1)
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    cache = IncidentCache(store, path=blocked / "incidents.arrow")
    assert len(cache.snapshot().frame) == 10


def test_warming_takes_the_first_snapshot_in_the_background(store, demo_scenario, cache_path):
    _add(store, demo_scenario, 15, 1)
    cache = IncidentCache(store, path=cache_path)
    cache.warm().join(timeout=60)
    assert len(cache.snapshot(refresh=False).frame) == 15 and cache_path.exists()


def test_the_default_place_is_beside_a_sqlite_file_or_in_the_cache_folder(tmp_path, monkeypatch, store):
    monkeypatch.setenv("TRUCELINE_CACHE", str(tmp_path / "c"))
    path = _cache_file.path_for(store)
    if store.local_path() is not None:
        assert path == store.local_path().with_name(store.local_path().name + ".incidents.arrow")
    else:
        assert path.parent == tmp_path / "c" and path.name.startswith("incidents-")


def test_load_answers_only_for_the_same_store_and_generation(store, demo_scenario, cache_path):
    _add(store, demo_scenario, 12, 1)
    columns = tuple(IncidentCache(store, path=cache_path).snapshot().frame.columns)
    sid, gen = store.store_id(), store.generation()
    assert _cache_file.load(cache_path, store_id=sid, generation=gen, columns=columns) is not None
    assert _cache_file.load(cache_path, store_id=sid, generation=gen + 1, columns=columns) is None
    assert _cache_file.load(cache_path, store_id="another", generation=gen, columns=columns) is None
    assert _cache_file.load(cache_path, store_id="", generation=gen, columns=columns) is None
    assert _cache_file.load(cache_path, store_id=sid, generation=gen, columns=columns[:-1]) is None


def test_warming_gives_its_connection_back(store, demo_scenario, cache_path):
    _add(store, demo_scenario, 5, 1)
    IncidentCache(store, path=cache_path).warm().join(timeout=60)
    assert all(thread.is_alive() for thread, _conn in store._connections)  # none left by the ended warm-up
