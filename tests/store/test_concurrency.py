"""Readers never wait for a writer; writers queue. In one process, with threads (see also
tests/ingest/test_ingest_processes.py for separate processes)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from geo.store import open_store
from geo.store._sqlite import BUSY_TIMEOUT_S


def test_every_sqlite_connection_is_wal_with_a_busy_timeout(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:

        def pragmas() -> tuple[str, int]:
            return store.scalar("PRAGMA journal_mode"), int(store.scalar("PRAGMA busy_timeout"))

        with ThreadPoolExecutor(1) as other:  # another thread: another connection
            in_other = other.submit(pragmas).result()
        assert pragmas() == in_other == ("wal", int(BUSY_TIMEOUT_S * 1000))
        assert BUSY_TIMEOUT_S >= 60
    finally:
        store.close()


def test_readers_and_openers_do_not_wait_for_an_open_upload(store_url):
    writer = open_store(store_url)
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with writer.write() as tx:
            writer.lock_for_ingest(tx)
            tx.meta_set("changed_at", "uncommitted")
            holding.set()
            release.wait(30)

    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(hold_the_write_lock)
        assert holding.wait(30)
        try:
            started = time.monotonic()
            reader = open_store(store_url)  # a store at the current version is only read when opened
            assert reader.count() == 0
            assert reader.meta("changed_at") != "uncommitted"
            reader.close()
            assert time.monotonic() - started < 5
        finally:
            release.set()
            held.result()
    writer.close()


@pytest.mark.parametrize("hold_s", [0.5])
def test_a_second_writer_waits_then_succeeds(store_url, hold_s):
    first, second = open_store(store_url), open_store(store_url)
    holding = threading.Event()
    order: list[str] = []

    def write(store, name: str, hold: float) -> None:
        with store.write() as tx:
            store.lock_for_ingest(tx)
            order.append(f"{name} in")
            holding.set()
            time.sleep(hold)
            tx.meta_set(f"writer:{name}", "done")
            order.append(f"{name} out")

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(write, first, "a", hold_s)
        assert holding.wait(30)
        b = pool.submit(write, second, "b", 0)
        a.result(), b.result()
    assert order == ["a in", "a out", "b in", "b out"]
    assert first.meta("writer:a") == first.meta("writer:b") == "done"
    first.close()
    second.close()


def test_the_next_thread_takes_over_the_connection_an_ended_thread_left(store_url):
    """A page run does not open a new session with the database: it gets the last run's."""
    store = open_store(store_url)
    try:
        def mark() -> None:
            with store.write() as tx:
                tx.execute("CREATE TEMP TABLE run_marker (x INTEGER)")

        first = threading.Thread(target=mark)
        first.start()
        first.join()
        found: list[int] = []
        count = "SELECT COUNT(*) FROM run_marker"
        second = threading.Thread(target=lambda: found.append(store.scalar(count)))
        second.start()
        second.join()
        assert found == [0]  # the table exists only in the first thread's session: it is the same one
        assert store.connections() == 2  # the one the store was opened on here, and the runs' one
    finally:
        store.close()


def test_a_connection_ends_with_its_thread_not_with_the_store(store_url):
    """A Streamlit server runs every page run in a new thread: one connection per run, kept, was a leak."""
    store = open_store(store_url)
    try:
        for _ in range(30):
            worker = threading.Thread(target=lambda: store.scalar("SELECT 1"))
            worker.start()
            worker.join()
        assert store.scalar("SELECT 1") == 1
        assert store.connections() <= 2  # this thread's, and at most the last worker's until it is noticed
        if store.dialect == "postgis":
            sessions = store.scalar(
                "SELECT COUNT(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert sessions <= 1  # the server agrees: the ended threads' sessions are closed
    finally:
        store.close()
