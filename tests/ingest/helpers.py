"""Shared helpers for the ingest tests: template CSVs with known line numbers, store snapshots."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 7, 1, tzinfo=UTC)
"""The present for uploads in these tests: later dates are in the future."""
TEMPLATE_COLUMNS = (
    "event_id", "occurred_at", "lat", "lon", "category", "actor", "party", "location_precision",
    "location_uncertainty_m", "fatalities", "verification", "source", "description",
)  # fmt: skip


def template_text(records: list[dict[str, str] | str]) -> tuple[str, list[int]]:
    """
    A house-template CSV, and the physical line each record starts on (the header is line 1).

    A record is a dict of template columns (missing ones are empty), written with CSV
    quoting, or a raw line written as it is (for malformed rows).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    lines, line = [], 2
    for record in records:
        start = out.tell()
        if isinstance(record, str):
            out.write(record + "\n")
        else:
            writer.writerow([record.get(c, "") for c in TEMPLATE_COLUMNS])
        lines.append(line)
        line += out.getvalue()[start:].count("\n")
    return out.getvalue(), lines


def write_incidents_csv(path: Path, n: int, *, seed: int = 0, source: str = "monitor-team-a") -> Path:
    """``n`` realistic synthetic incidents near the demo scenario's line, in template columns."""
    from geo.core.manifest import load_scenario
    from geo.services.demo import DEMO_MANIFEST, generate_incidents

    inc = generate_incidents(
        load_scenario(DEMO_MANIFEST), n=n, days=120, end=pd.Timestamp("2026-06-20").date(), seed=seed
    )
    frame = pd.DataFrame(
        {
            "event_id": f"{source}-{seed}-" + pd.Series(np.arange(n)).astype(str),
            "occurred_at": inc["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lat": inc["lat"].round(6),
            "lon": inc["lon"].round(6),
            "category": inc["category"],
            "actor": inc["actor"],
            "party": inc["party"],
            "location_precision": inc["location_precision"],
            "location_uncertainty_m": inc["location_uncertainty_m"],
            "fatalities": inc["fatalities"],
            "verification": inc["verification"],
            "source": source,
            "description": inc["description"],
        }
    )
    frame.to_csv(path, index=False)
    return path


@dataclass(frozen=True)
class StoreState:
    """What must not change when an upload fails: counts, last ids, batches, and a checksum."""

    counts: dict[str, int]
    max_incident_id: int
    batches: tuple[tuple[object, ...], ...]
    incidents_sha256: str
    zones_sha256: str
    generation: int


def store_state(url: str) -> StoreState:
    """Read a store's state through a fresh connection (as another process would)."""
    from geo.store import open_store

    store = open_store(url)
    try:
        tables = ("incidents", "incident_zones", "batches", "rejected_rows", "audit_log")
        counts = {t: int(store.scalar(f"SELECT COUNT(*) FROM {t}")) for t in tables}
        incidents = store.frame("SELECT * FROM incidents ORDER BY incident_id")
        links = store.frame("SELECT zone_id, incident_id FROM incident_zones ORDER BY incident_id, zone_id")
        batches = store.frame("SELECT batch_id, status, rows_read, accepted FROM batches ORDER BY batch_id")
        return StoreState(
            counts=counts,
            max_incident_id=store.max_incident_id(),
            batches=tuple(tuple(r) for r in batches.itertuples(index=False)),
            incidents_sha256=_frame_digest(incidents),
            zones_sha256=_frame_digest(links),
            generation=store.generation(),
        )
    finally:
        store.close()


def _frame_digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def geo_cli(*args: str, db: str, **kwargs: object) -> subprocess.Popen[bytes]:
    """Start ``python -m geo --db DB ARGS`` in the checkout (not waited for)."""
    env = {**os.environ, "TRUCELINE_DB": db, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "geo", "--db", db, *args], cwd=REPO, env=env, **kwargs
    )
