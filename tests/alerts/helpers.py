"""Helpers for the alert tests: incident files in the demo scenario, with known times."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd

from geo import clock
from geo.core.filters import Filters
from geo.services.ingest import ingest_file
from geo.store import Store
from tests.ingest.helpers import NOW, write_incidents_csv


def ingest(store: Store, path: Path, n: int, *, seed: int = 0, source: str = "monitor-team-a", edit=None):
    """Write ``n`` synthetic incidents (optionally edited as a frame) and upload them; the summary."""
    write_incidents_csv(path, n, seed=seed, source=source)
    if edit is not None:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        edit(frame).to_csv(path, index=False)
    return ingest_file(store, path, now=NOW)


def batch_ids(store: Store, batch_id: int, **filters) -> set[int]:
    """The ids of a batch's incidents that pass ``filters`` (the store's own query: the reference)."""
    view = store.query(Filters(**filters), columns=["incident_id", "batch_id"])
    return set(view.loc[view["batch_id"] == batch_id, "incident_id"].astype(int))


def later(seconds: float):
    """The present plus ``seconds`` (times handed to the worker instead of waiting)."""
    return clock.now() + timedelta(seconds=seconds)
