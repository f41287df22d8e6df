"""Fixtures for the ingest tests: stores that already hold the demo scenario."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.services.ingest import load_scenario_into_store
from geo.store import open_store


@pytest.fixture(scope="session")
def scenario_db(tmp_path_factory: pytest.TempPathFactory, demo_scenario) -> Path:
    """A closed SQLite store holding only the demo scenario: copy it for a fresh store."""
    path = tmp_path_factory.mktemp("scenario") / "scenario.db"
    store = open_store(f"sqlite:///{path}")
    load_scenario_into_store(store, demo_scenario)
    store.close()
    assert not Path(f"{path}-wal").exists()  # closed cleanly: the file is the whole store
    return path


@pytest.fixture
def loaded_url(store_url: str, demo_scenario, scenario_db: Path) -> str:
    """The URL of a store (each backend in turn) holding the demo scenario and nothing else."""
    if store_url.startswith("sqlite:///"):
        shutil.copyfile(scenario_db, store_url.removeprefix("sqlite:///"))
    else:
        store = open_store(store_url)
        load_scenario_into_store(store, demo_scenario)
        store.close()
    return store_url


@pytest.fixture
def loaded(loaded_url: str):
    """An open store (each backend in turn) holding the demo scenario."""
    store = open_store(loaded_url)
    yield store
    store.close()
