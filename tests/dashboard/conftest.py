"""Fixtures of the dashboard tests: one seeded store per session, copied fresh for each test."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.support import build_store, copy_store


@pytest.fixture(autouse=True, scope="session")
def _quiet_streamlit() -> None:
    """Streamlit logs "missing ScriptRunContext" for every bare-mode call; it is expected here."""
    from streamlit.logger import set_log_level

    set_log_level(logging.ERROR)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo scenario, 400 incidents over 40 days and three accounts (built once)."""
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    build_store(path)
    return path


@pytest.fixture
def db(seeded_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh copy of the seeded store, served by the app under test (a new URL per test)."""
    url = copy_store(seeded_db, tmp_path / "store.db")
    monkeypatch.setenv("TRUCELINE_DB", url)
    monkeypatch.delenv("TRUCELINE_SESSION_MINUTES", raising=False)
    yield url
    # Each AppTest run is a new script thread, and the served store keeps a connection per
    # thread: close them all, or a long run exhausts file descriptors (select() needs < 1024).
    from dashboard.common import get_store

    get_store(url).close()
