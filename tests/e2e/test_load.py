"""Issue 6 load test: 20 concurrent dashboard sessions while ``python -m geo ingest`` runs.

The full size (20 sessions, a 60,000-row upload) is a ``slow`` test; the default run checks
the same things with 5 sessions and 6,000 rows.

The sessions are websocket clients speaking Streamlit's own protocol (what the browser
sends: a rerun request with the page and its query string), on loopback only, bounded in
number (20) and time (2 minutes). They keep rerunning the live map and trends pages with
different filters until the ingest has finished, then once more.

Pass: every run of every session finishes with no exception and no error; every count a
session sees is the count before the upload or after it, never in between (one upload is
one transaction); at the end the store holds exactly ``before + accepted`` incidents and
``accepted + rejected + duplicate`` is the number of records in the file.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from geo import DEMO_MANIFEST, generate_incidents, load_scenario
from tests.e2e.conftest import REPO, Server, run_cli, streamlit_server

pytestmark = pytest.mark.e2e

DEADLINE_S = 120.0
VIEWS = (
    ("live_map", "window=all"),  # the whole store: its count must be before or after, nothing else
    ("live_map", "window=all&parties=north"),
    ("live_map", "window=30d&verdicts=breach,possible_breach"),
    ("trends", "window=all"),
    ("live_map", "window=7d&zones=dmz"),
)
# "**N incidents match**", and "(M reports: …)" when linked reports of one event count once:
# the store's rows are the reports.
COUNT = re.compile(r"\*\*([\d,]+) incidents match\*\*(?: \(([\d,]+) reports)?")


@dataclass
class Session:
    """What one client saw."""

    runs: int = 0
    errors: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)


async def one_run(ws: object, page: str, query: str) -> tuple[list[str], int | None]:
    """Ask for one run of ``page`` with ``query``; return its errors and the live map's match count."""
    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    await ws.send(msg.SerializeToString())
    errors: list[str] = []
    count = None
    while True:
        reply = ForwardMsg()
        reply.ParseFromString(await ws.recv())
        kind = reply.WhichOneof("type")
        if kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
            element = reply.delta.new_element
            what = element.WhichOneof("type")
            if what == "exception":
                errors.append(f"exception: {element.exception.message}")
            elif what == "alert" and element.alert.format == Alert.ERROR:
                errors.append(f"error: {element.alert.body}")
            elif what == "markdown" and (found := COUNT.search(element.markdown.body)):
                count = int((found.group(2) or found.group(1)).replace(",", ""))
        elif kind == "page_not_found":
            errors.append(f"page not found: {page!r}")
        elif kind == "script_finished":
            if reply.script_finished not in (
                ForwardMsg.FINISHED_SUCCESSFULLY,
                ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ):
                errors.append(f"script finished with status {reply.script_finished}")
            return errors, count


async def session(
    port: int, index: int, done: asyncio.Event, result: Session, *, view: tuple[str, str] | None = None
) -> None:
    """Rerun one view (``VIEWS`` in turn by ``index``, or ``view``) until ``done``, then once more."""
    page, query = view or VIEWS[index % len(VIEWS)]
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    async with websockets.connect(
        url, subprotocols=["streamlit"], origin=f"http://127.0.0.1:{port}", max_size=None, open_timeout=30
    ) as ws:
        last = False
        while not last:
            last = done.is_set()
            errors, count = await one_run(ws, page, query)
            result.runs += 1
            result.errors += errors
            if count is not None and query == "window=all" and page == "live_map":
                result.totals.append(count)


def write_upload(path: Path, rows: int) -> tuple[int, int, int]:
    """
    A house-template CSV: ``rows`` incidents, 0.5 % of them without a latitude, 0.8 % of rows twice.

    Returns the rows, the rows without a latitude, and the repeated rows that are valid.
    """
    scenario = load_scenario(DEMO_MANIFEST)
    frame = generate_incidents(scenario, n=rows, days=30, seed=77)
    out = pd.DataFrame(
        {
            "event_id": [f"LOAD{rows}-{i}" for i in range(len(frame))],
            "occurred_at": frame["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lat": frame["lat"].round(6).astype(str),
            "lon": frame["lon"].round(6).astype(str),
            "category": frame["category"],
            "actor": frame["actor"],
            "location_precision": frame["location_precision"],
            "fatalities": frame["fatalities"].astype("Int64").astype(str).replace("<NA>", ""),
            "source": "load-test",
            "description": frame["description"],
        }
    )
    rng = np.random.default_rng(5)
    out.loc[rng.choice(len(out), rows // 200, replace=False), "lat"] = ""
    repeated = out.iloc[rng.choice(len(out), rows // 120, replace=False)]
    out = pd.concat([out, repeated], ignore_index=True)
    out.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return len(out), int((out["lat"] == "").sum()), int((repeated["lat"] != "").sum())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e-load")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--n", "3000", "--days", "60")
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


def stored(url: str) -> int:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        n = conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    conn.close()
    return int(n)


@pytest.mark.parametrize(
    ("sessions", "size"), [(5, 6_000), pytest.param(20, 60_000, marks=pytest.mark.slow)]
)
def test_sessions_during_a_cli_ingest(server: Server, tmp_path: Path, sessions: int, size: int) -> None:
    upload = tmp_path / "load.csv"
    rows, bad, repeats = write_upload(upload, size)
    with upload.open(encoding="utf-8") as f:
        assert sum(1 for _ in csv.DictReader(f)) == rows
    before = stored(server.db)
    port = int(server.url.rsplit(":", 1)[1])

    async def scenario() -> tuple[list[Session], dict, float]:
        done = asyncio.Event()
        results = [Session() for _ in range(sessions)]
        clients = [asyncio.create_task(session(port, i, done, results[i])) for i in range(sessions)]
        while sum(r.runs for r in results) < sessions:  # every session is up before the ingest starts
            await asyncio.sleep(0.1)
            if any(c.done() for c in clients):
                break
        started = time.monotonic()
        ingest = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "geo",
            "ingest",
            str(upload),
            "--json",
            cwd=REPO,
            env={**os.environ, "TRUCELINE_DB": server.db},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await ingest.communicate()
        took = time.monotonic() - started
        assert ingest.returncode == 0, err.decode()
        done.set()
        await asyncio.wait_for(asyncio.gather(*clients), timeout=DEADLINE_S)
        return results, json.loads(out), took

    started = time.monotonic()
    # Its own thread: Playwright's sync API may hold this thread's event loop (earlier modules).
    with ThreadPoolExecutor(1) as pool:
        results, summary, took = pool.submit(asyncio.run, asyncio.wait_for(scenario(), DEADLINE_S)).result()
    elapsed = time.monotonic() - started

    errors = [e for r in results for e in r.errors]
    assert errors == [], errors[:5]
    assert all(r.runs >= 2 for r in results), [r.runs for r in results]
    accepted = summary["accepted"]
    assert summary["rows_read"] == rows
    assert summary["accepted"] + summary["rejected"] + summary["duplicate"] == rows
    assert summary["rejected"] == bad  # a repeated bad row is rejected twice
    assert summary["duplicate"] == repeats
    assert stored(server.db) == before + accepted  # 0 lost rows
    seen = {n for r in results for n in r.totals}
    assert seen <= {before, before + accepted}, seen  # never a half-written upload
    assert before + accepted in seen  # every full-store session saw the upload at its last run
    assert all(r.totals[-1] == before + accepted for r in results if r.totals)
    assert "Traceback" not in server.log.read_text()
    runs = sum(r.runs for r in results)
    print(
        f"\nload: {sessions} sessions, {runs} runs, 0 errors; ingest of {rows:,} rows took {took:.1f} s "
        f"({accepted:,} accepted); whole test {elapsed:.1f} s"
    )
