"""Fixtures of the API tests: the demo scenario stored twice (``korea``, ``other``), a live API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from geo.api import Limits
from geo.services.ingest import load_scenario_into_store
from geo.services.tokens import add_token
from geo.store import Store, open_store
from tests.api.support import LiveApi, live_api


@pytest.fixture(scope="session")
def two_scenario_db(tmp_path_factory: pytest.TempPathFactory, demo_scenario) -> Path:
    """A closed SQLite store holding the demo scenario as ``korea`` (default) and as ``other``."""
    path = tmp_path_factory.mktemp("api") / "api.db"
    store = open_store(f"sqlite:///{path}")
    load_scenario_into_store(store.using("korea"), demo_scenario)
    load_scenario_into_store(store.using("other"), demo_scenario)
    store.close()
    return path


@pytest.fixture
def api_store(tmp_path: Path, two_scenario_db: Path) -> Iterator[Store]:
    """A fresh copy of the two-scenario store."""
    path = tmp_path / "store.db"
    shutil.copyfile(two_scenario_db, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.fixture
def tokens(api_store: Store) -> dict[str, str]:
    """Secrets of tokens: ``analyst``, ``viewer`` (scenario korea) and ``other`` (analyst of ``other``)."""
    return {
        "analyst": add_token(api_store, "field-team", "analyst", scenario_id="korea"),
        "viewer": add_token(api_store, "mediator", "viewer", scenario_id="korea"),
        "other": add_token(api_store, "other-team", "analyst", scenario_id="other"),
    }


@pytest.fixture
def api(api_store: Store) -> Iterator[LiveApi]:
    """The API over the store, live on 127.0.0.1."""
    with live_api(api_store, limits=Limits(max_body_bytes=1_000_000, rate_per_minute=600)) as live:
        yield live


@pytest.fixture
def client(api: LiveApi) -> Iterator[httpx.Client]:
    """An HTTP client of the live API."""
    with httpx.Client(base_url=api.base, timeout=60) as http:
        yield http


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {secret}"}
