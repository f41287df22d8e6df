"""Load on the HTTP API: concurrent clients post incidents in batches while the dashboard is open.

Run: ``python -m benchmarks.api_load [--clients 20] [--incidents 100000] [--batch 500] [--no-dashboard]``

A temporary embedded store gets the demo scenario (3,000 incidents), one analyst token
per client, and ``python -m geo api`` on a free loopback port (a separate process, as in
service). With the dashboard (the default), ``streamlit run dashboard/app.py`` runs on
the same store and two sessions keep rerunning the live map (all time, and breaches of
the last 30 days) through Streamlit's own websocket protocol while the clients post, as
an open browser tab would; each of their runs must finish without an error.

The clients are threads, each with its own HTTP connection and token, posting its share
of the batches one after another. Every incident has its own event id. After the load:

- lost: posted event ids the store does not hold;
- duplicated: event ids held more than once, plus incidents held that no client posted;
- errors: answers other than 200, and batches whose summary is not all accepted.

Printed: those three counts, the latency per batch (p50, p95, max), the throughput
(incidents stored per second of wall time), and the dashboard's runs and errors.
Writers are serialised by the store (SQLite ``BEGIN IMMEDIATE``, one writer at a time,
readers never blocked in WAL mode); a batch waits its turn within the busy timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SOURCE = "api-load"


def make_batches(incidents: int, size: int, *, seed: int = 0) -> list[list[dict[str, Any]]]:
    """``incidents`` synthetic template incidents near the demo line, each with its own event id, batched."""
    from geo import DEMO_MANIFEST, generate_incidents, load_scenario

    frame = generate_incidents(
        load_scenario(DEMO_MANIFEST), n=incidents, days=120, end=pd.Timestamp("2026-06-20").date(), seed=seed
    )
    records = pd.DataFrame(
        {
            "event_id": [f"{SOURCE}-{seed}-{i}" for i in range(len(frame))],
            "occurred_at": frame["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lat": frame["lat"].round(6),
            "lon": frame["lon"].round(6),
            "category": frame["category"],
            "actor": frame["actor"],
            "location_precision": frame["location_precision"],
            "source": SOURCE,
            "description": frame["description"],
        }
    ).to_dict("records")
    return [records[i : i + size] for i in range(0, len(records), size)]


@dataclass
class Outcome:
    """What the clients saw."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accepted: int = 0
    duplicate: int = 0
    wall_s: float = 0.0


def post_all(base: str, secrets: list[str], batches: list[list[dict[str, Any]]]) -> Outcome:
    """Post ``batches`` from ``len(secrets)`` concurrent clients (client ``i`` posts every ``i``-th batch)."""
    outcome = Outcome()
    lock = threading.Lock()

    def client(index: int) -> None:
        headers = {"Authorization": f"Bearer {secrets[index]}"}
        with httpx.Client(base_url=base, timeout=600, headers=headers) as http:
            for batch in batches[index :: len(secrets)]:
                started = time.perf_counter()
                try:
                    answer = http.post("/api/v1/incidents", json=batch)
                except httpx.HTTPError as err:
                    with lock:
                        outcome.errors.append(f"client {index}: {err!r}")
                    continue
                took = time.perf_counter() - started
                with lock:
                    outcome.latencies.append(took)
                    if answer.status_code != 200:
                        outcome.errors.append(
                            f"client {index}: HTTP {answer.status_code}: {answer.text[:200]}"
                        )
                        continue
                    body = answer.json()
                    outcome.accepted += body["accepted"]
                    outcome.duplicate += body["duplicate"]
                    if (body["accepted"], body["rejected"], body["duplicate"]) != (len(batch), 0, 0):
                        outcome.errors.append(f"client {index}: batch {body['batch_id']}: {body}")

    started = time.perf_counter()
    with ThreadPoolExecutor(len(secrets)) as pool:
        list(pool.map(client, range(len(secrets))))
    outcome.wall_s = time.perf_counter() - started
    return outcome


def tally(store: Any, batches: list[list[dict[str, Any]]]) -> tuple[int, int]:
    """(lost, duplicated): posted event ids not stored; stored more than once or never posted."""
    posted = {r["event_id"] for batch in batches for r in batch}
    held = store.frame(
        "SELECT source_event_id, COUNT(*) AS n FROM incidents WHERE source = ? GROUP BY source_event_id",
        (SOURCE,),
    )
    ids = set(held["source_event_id"].astype(str))
    lost = len(posted - ids)
    duplicated = int((held["n"] - 1).clip(lower=0).sum()) + len(ids - posted)
    return lost, duplicated


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``."""
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


@contextmanager
def api_process(db: str, folder: Path) -> Iterator[str]:
    """``python -m geo api`` on a free loopback port until the block ends; yields its base URL."""
    from tests.api.support import free_port

    port = free_port()
    log = (folder / "api.log").open("wb")
    env = {**os.environ, "TRUCELINE_DB": db, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "geo", "api", "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"the API did not start: {(folder / 'api.log').read_text(errors='replace')}"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass
class Dashboard:
    """The open dashboard's sessions: how many runs they made, and their errors."""

    runs: int = 0
    errors: list[str] = field(default_factory=list)


@contextmanager
def open_dashboard(db: str, folder: Path) -> Iterator[Dashboard]:
    """The dashboard on the store, with two sessions rerunning the live map until the block ends."""
    from tests.e2e.conftest import streamlit_server
    from tests.e2e.test_load import Session, session

    seen = Dashboard()
    with streamlit_server(db, folder / "streamlit.log") as server:
        port = int(server.url.rsplit(":", 1)[1])
        stop = threading.Event()
        results = [Session(), Session()]

        def run() -> None:
            async def both() -> None:
                done = asyncio.Event()
                views = (("live_map", "window=all"), ("live_map", "window=30d&verdicts=breach"))
                tasks = [
                    asyncio.create_task(session(port, i, done, results[i], view=views[i])) for i in range(2)
                ]
                while not stop.is_set():
                    await asyncio.sleep(0.2)
                done.set()
                await asyncio.gather(*tasks)

            asyncio.run(both())

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 120
        while sum(r.runs for r in results) < 2 and time.monotonic() < deadline:  # both sessions are up
            time.sleep(0.2)
        try:
            yield seen
        finally:
            stop.set()
            thread.join(timeout=180)
            seen.runs = sum(r.runs for r in results)
            seen.errors = [e for r in results for e in r.errors]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--no-dashboard", dest="dashboard", action="store_false")
    args = parser.parse_args()

    from geo.services.tokens import add_token
    from geo.store import open_store

    batches = make_batches(args.incidents, args.batch)
    with tempfile.TemporaryDirectory(prefix="truceline-api-load-") as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'store.db'}"
        subprocess.run(
            [sys.executable, "-m", "geo", "demo", "--n", "3000", "--days", "60", "--private"],
            cwd=REPO,
            env={**os.environ, "TRUCELINE_DB": db},
            check=True,
            capture_output=True,
        )
        store = open_store(db)
        secrets = [add_token(store, f"load-{i}", "analyst") for i in range(args.clients)]
        dashboard: Dashboard | None = None
        with api_process(db, folder) as base:
            if args.dashboard:
                with open_dashboard(db, folder) as dashboard:
                    outcome = post_all(base, secrets, batches)
            else:
                outcome = post_all(base, secrets, batches)
        lost, duplicated = tally(store, batches)
        store.close()

    lat = outcome.latencies
    mean = statistics.fmean(lat) if lat else float("nan")
    print(
        f"{args.clients} clients, {args.incidents:,} incidents in {len(batches)} batches of {args.batch}"
        f"{' with the dashboard open' if args.dashboard else ''}"
    )
    print(f"lost {lost}, duplicated {duplicated}, errors {len(outcome.errors)}")
    for line in outcome.errors[:10]:
        print(f"  error: {line}")
    print(
        f"latency per batch: p50 {percentile(lat, 50):.2f} s, p95 {percentile(lat, 95):.2f} s, "
        f"max {max(lat, default=float('nan')):.2f} s (mean {mean:.2f} s)"
    )
    print(f"throughput: {outcome.accepted / outcome.wall_s:,.0f} incidents/s ({outcome.wall_s:.1f} s wall)")
    if dashboard is not None:
        print(f"dashboard: {dashboard.runs} live-map runs during the load, {len(dashboard.errors)} errors")
        for line in dashboard.errors[:10]:
            print(f"  dashboard error: {line}")


if __name__ == "__main__":
    main()
