"""Fixtures of the dashboard tests: one seeded store per session, copied fresh for each test."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import drop_database
from tests.dashboard.support import build_store, copy_store


@pytest.fixture(autouse=True, scope="session")
def _quiet_streamlit() -> None:
    """Streamlit logs "missing ScriptRunContext" for every bare-mode call; it is expected here."""
    from streamlit.logger import set_log_level

    set_log_level(logging.ERROR)


@pytest.fixture(autouse=True, scope="session")
def _scan_components_once() -> Iterator[None]:
    """
    Scan the installed packages for Streamlit components once per session, as a server does.

    Each new ``AppTest`` reads every installed package's metadata for component
    manifests (a fifth of these tests' time); the packages do not change during a run,
    so every app gets the first scan's real result.
    """
    from streamlit.components.v2 import manifest_scanner

    found = manifest_scanner.scan_component_manifests()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests", lambda **_: list(found))
        yield


@pytest.fixture(autouse=True, scope="session")
def _compile_pages_once() -> Iterator[None]:
    """
    Compile the app's scripts once per session, as a server does for all its sessions.

    Each ``AppTest`` makes new bytecode caches (one for its pages, one per run for the
    entry script), so the entry script and the page were parsed, rewritten for "magic"
    and compiled at every run. The files do not change during a run; one shared cache
    (keyed by path, locked) serves every run the bytecode a server would.
    """
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    with pytest.MonkeyPatch.context() as patch:
        for module in (app_test, local_script_runner):  # the pages' cache and the entry script's
            patch.setattr(module, "ScriptCache", lambda: shared)
        yield


@pytest.fixture(autouse=True, scope="session")
def _wait_for_runs_without_polling() -> Iterator[None]:
    """
    Wait for each ``AppTest`` run's end on its shutdown event, not by polling.

    Streamlit's harness checks every millisecond whether the run's event list (hundreds
    of events, one per message) holds its shutdown, which took a tenth of these tests'
    CPU and fought the script thread for the interpreter lock. The wait here ends on the
    same event, with the same timeout and the same error.
    """
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent
    from streamlit.testing.v1 import local_script_runner

    def wait(runner: local_script_runner.LocalScriptRunner, timeout: float = 3) -> None:
        done = threading.Event()

        def on_event(sender: object, event: ScriptRunnerEvent, **_: object) -> None:
            del sender
            if event == ScriptRunnerEvent.SHUTDOWN:
                done.set()

        runner.on_event.connect(on_event, weak=False)
        try:
            if runner.script_stopped() or done.wait(timeout):
                return
        finally:
            runner.on_event.disconnect(on_event)
        runner.request_stop()
        runner.join()
        raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_script_runner, "require_widgets_deltas", wait)
        yield


def close_app_stores() -> None:
    """Close the store the app under test cached, with every thread's connection, and forget it."""
    url = os.environ.get("TRUCELINE_DB")
    if not url:
        return
    from dashboard import common

    with contextlib.suppress(Exception):
        common.get_store(url).close()
    common.get_cache.clear()
    common.get_store.clear()


@pytest.fixture(autouse=True)
def _close_app_stores() -> Iterator[None]:
    """
    After each test, close the store the app under test cached (see :func:`close_app_stores`).

    Each test serves a new store URL, and Streamlit's resource cache would keep each one's
    connections (one per script thread, sockets for PostGIS) open until the session ends.
    """
    yield
    close_app_stores()


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo scenario, 400 incidents over 40 days and three accounts (built once)."""
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    build_store(path)
    return path


@pytest.fixture(scope="session")
def seeded_pg(postgis_server_url: str) -> str:
    """The seeded store in a PostGIS database, kept as the template each test's database is copied from."""
    import psycopg

    with psycopg.connect(f"{postgis_server_url}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "dash_seed"')
        conn.execute('CREATE DATABASE "dash_seed"')
    build_store(f"{postgis_server_url}/dash_seed")
    return "dash_seed"


_copies = itertools.count()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """
    Run every dashboard test that takes ``db`` on each backend of ``--stores``.

    Tests that choose their backends themselves (``support.BOTH_STORES``) keep their choice.
    """
    if "db" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0].split(",") if isinstance(mark.args[0], str) else mark.args[0]
        if "db" in [n.strip() for n in names]:
            return
    wanted = [s.strip() for s in metafunc.config.getoption("stores").split(",") if s.strip()]
    unknown = sorted(set(wanted) - {"sqlite", "postgis"})
    if unknown:
        raise pytest.UsageError(f"--stores: unknown backend(s) {', '.join(unknown)} (use sqlite, postgis)")
    params = [pytest.param(s, marks=pytest.mark.postgis) if s == "postgis" else s for s in wanted]
    metafunc.parametrize("db", params, indirect=True)


@pytest.fixture
def db(
    request: pytest.FixtureRequest, seeded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """
    A fresh copy of the seeded store, served by the app under test (a new URL per test).

    SQLite unless the test asks for ``postgis`` (see ``support.BOTH_STORES``): then a new
    database copied from the seeded template on the session's PostGIS server.
    """
    if getattr(request, "param", "sqlite") == "postgis":
        import psycopg

        template = request.getfixturevalue("seeded_pg")
        server = request.getfixturevalue("postgis_server_url")
        name = f"dash_{next(_copies)}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        url = f"{server}/{name}"
        # Copies share the template's store id: each test keeps its incident cache file apart.
        monkeypatch.setenv("TRUCELINE_CACHE", str(tmp_path / "cache"))
    else:
        url = copy_store(seeded_db, tmp_path / "store.db")
    monkeypatch.setenv("TRUCELINE_DB", url)
    monkeypatch.delenv("TRUCELINE_SESSION_MINUTES", raising=False)
    yield url
    if url.startswith("postgresql"):
        close_app_stores()  # first: a database with sessions open is dropped only after they are ended
        monkeypatch.delenv("TRUCELINE_DB")
        server, _, name = url.rpartition("/")
        drop_database(server, name)

