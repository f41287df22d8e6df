"""Shared fixtures: network guard, scenario builders."""

from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Every test, and every process a test starts (the dashboard, the CLI), reads a clock that
# starts at this instant when the session starts and runs on: no result may depend on the
# date or the time of day the suite happens to run at. 03:30 UTC is deliberately close to
# a day's start, where a window cut at midnight shows.
PINNED_NOW = "2026-07-01T03:30:00Z"


STORES = ("sqlite", "postgis")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--stores``: the store backends the dashboard tests run on (each test on each)."""
    parser.addoption(
        "--stores",
        default=",".join(STORES),
        help="comma-separated store backends for the dashboard tests: sqlite, postgis (default: both)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """
    Set the clock before any test module is imported, cheap password hashing, the run's
    temporary folder, and property tests that draw the same examples in every run.

    Every test, and every process a test starts, hashes passwords with argon2's cheapest
    parameters (``TRUCELINE_PASSWORD_HASHING=test``): hundreds of accounts are made and
    signed in to, at 0.15 s of CPU each with the standard ones. The tests of the hashing
    itself set it back.
    """
    from geo.clock import running_from

    os.environ["TRUCELINE_NOW"] = running_from(PINNED_NOW)
    os.environ["TRUCELINE_PASSWORD_HASHING"] = "test"  # noqa: S105 (a setting, not a password)
    _use_a_temp_folder_of_the_run(config)
    _hypothesis_profiles()


def _hypothesis_profiles() -> None:
    """
    Property tests draw the same examples in every run (profile ``ci``, the default).

    A run's verdict never depends on luck, and no example database in ``.hypothesis/``
    makes one machine's run differ from another's. ``--hypothesis-profile=explore`` draws
    new examples each run and keeps the failing ones, to hunt for bugs by hand.
    """
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile("ci")  # the plugin loads --hypothesis-profile after this hook


_RUN_TEMP = "TRUCELINE_TEST_TEMP"
"""The run's temporary folder, passed from the first process of a run to its workers."""
_OWNED = pytest.StashKey[Path]()


def _use_a_temp_folder_of_the_run(config: pytest.Config) -> None:
    """
    Send every temporary file of the run, and of every process it starts, to one folder.

    Uploads, upload jobs, browser profiles and the PostgreSQL servers' folders all go to
    the system's temporary folder, and a session that ends without removing its upload
    (a browser closed; every ``AppTest``) leaves it for the dashboard's daily sweep: a run
    left thousands of folders in ``/tmp``. The folder is removed when the run passes, and
    kept (with pytest's own ``tmp_path`` folders in it) when it fails.
    """
    if _RUN_TEMP not in os.environ:  # the run's first process (xdist's controller): it owns the folder
        folder = Path(tempfile.mkdtemp(prefix="truceline-tests-"))
        folder.chmod(0o711)  # the PostgreSQL servers run as their own user, in folders of their own here
        os.environ[_RUN_TEMP] = str(folder)
        config.stash[_OWNED] = folder
    os.environ["TMPDIR"] = os.environ[_RUN_TEMP]
    tempfile.tempdir = None  # read again from TMPDIR


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the run's temporary folder if the run passed (see :func:`_use_a_temp_folder_of_the_run`)."""
    folder = session.config.stash.get(_OWNED, None)
    if folder is None:
        return
    del os.environ[_RUN_TEMP]
    if exitstatus == pytest.ExitCode.OK:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"\nthe run's temporary files are kept in {folder}")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Refuse connections to anything but the loopback interface."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and not (host.startswith("127.") or host in ("localhost", "::1"))
            and self.family in (socket.AF_INET, socket.AF_INET6)
        ):
            msg = f"test tried to reach {address!r}: tests must stay on 127.0.0.1"
            raise OSError(msg)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def write_geojson(path: Path, geometries: list[dict], crs: str | None = None) -> Path:
    """Write a FeatureCollection of GeoJSON geometry dicts."""
    doc: dict = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"n": i}, "geometry": g} for i, g in enumerate(geometries)
        ],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


WITH_POSTGIS = "with_postgis"
"""The session server's template database: empty, with the PostGIS extension installed."""


@pytest.fixture(scope="session")
def postgis_server_url():
    """A real PostgreSQL + PostGIS server on 127.0.0.1 for the whole session."""
    import psycopg

    from .pgserver import missing_reason, postgis_server

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with postgis_server() as url:
        with psycopg.connect(f"{url}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{WITH_POSTGIS}"')
        with psycopg.connect(f"{url}/{WITH_POSTGIS}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield url


@pytest.fixture
def postgis_url(postgis_server_url, request):
    """
    A fresh database on the session's PostGIS server: empty but for the PostGIS extension.

    Copied from a template (30 ms) rather than installing the extension in each (0.25 s);
    ``tests/store/test_store.py`` opens a store on a bare database.
    """
    import psycopg

    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:50].lower()
    with psycopg.connect(f"{postgis_server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{WITH_POSTGIS}"')
    yield f"{postgis_server_url}/{name}"
    drop_database(postgis_server_url, name)


def drop_database(server: str, name: str) -> None:
    """Drop a test's database once the test is done (the server's disk stays small)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request, tmp_path):
    """The URL of an empty store, on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgis_url")


@pytest.fixture
def store(store_url):
    from geo.store import open_store

    s = open_store(store_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_scenario():
    from geo.core.manifest import load_scenario
    from geo.services.demo import DEMO_MANIFEST

    return load_scenario(DEMO_MANIFEST)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, shared by every browser test (Playwright allows one per thread)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


SECOND_BROWSER = frozenset(
    {"test_languages_e2e", "test_sessions_e2e", "test_e2e", "test_playback_e2e", "test_proxy"}
)
"""Browser test modules of the second browser group: about half of the browser tests' time."""


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """
    ``-n auto``: one worker more than the machine has cores.

    The two browser groups spend over half their time waiting on their dashboard and
    Chromium; the third worker uses those cores meanwhile.
    """
    del config
    return (os.cpu_count() or 1) + 1


def pytest_collection_finish(session: pytest.Session) -> None:
    """
    Spare the test process's collector the modules and tests it has just loaded.

    A worker holds millions of long-lived objects once collection is done (every test, the
    libraries, Streamlit), and the cyclic collector walked them all again at each full
    collection, and ran its young generation every 700 allocations: a tenth of a worker's
    CPU. Frozen, they are never walked; young collections come ten times less often, still
    freeing cycles well before memory matters.
    """
    del session
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """
    Put the browser tests in two groups, each run on one worker (``-n``, ``--dist loadgroup``).

    Each module starts a dashboard and drives Chromium, and waits on them more than it
    computes: the two groups start first (xdist schedules the largest units first), side
    by side, while the other workers take the rest of the run. A module stays on one
    worker, so its dashboard starts once.
    """
    del config
    for item in items:
        if item.get_closest_marker("e2e"):
            second = item.path.stem in SECOND_BROWSER
            item.add_marker(pytest.mark.xdist_group("browser-2" if second else "browser-1"))
