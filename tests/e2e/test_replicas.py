"""Two dashboard processes on one PostGIS store, on different ports, while the CLI uploads and undoes.

Sessions are split across both processes: websocket clients speaking Streamlit's own protocol
(as in test_load.py) rerun the live map and trends without pause, and one Chromium page per
process shows the live map refreshing on its own (every 5 s).

Pass: no run of any session shows an exception or error; every whole-store count a session
sees is the count before the upload or after it; every session's last run, and each page's
first refresh that starts after the upload is committed, shows the new total; the store then
holds exactly ``before + accepted`` rows (0 lost). An undo through the CLI reaches both pages
at their next refresh too.

The default run uses 4 websocket sessions and a 1,000-row upload; the ``slow`` run the full
size: 20 sessions and 10,000 rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from geo import clock
from geo.services.settings import set_setting
from geo.store import open_store
from tests.e2e.conftest import REPO, Server, map_frame, run_cli, streamlit_server
from tests.e2e.test_load import DEADLINE_S, VIEWS, Session, session, write_upload

pytestmark = [pytest.mark.e2e, pytest.mark.postgis]

REFRESH_S = 5
REFRESHED = re.compile(r"refreshed (\d\d:\d\d:\d\d) UTC")
MATCH = re.compile(r"([\d,]+) incidents match(?: \(([\d,]+) reports)?")


def reports(page: object) -> int:
    """The rows (reports) the live map counts: linked reports of one event count once as incidents."""
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="incidents match").first
    caption.wait_for()
    found = MATCH.search(caption.inner_text())
    assert found, caption.inner_text()
    return int((found.group(2) or found.group(1)).replace(",", ""))


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, postgis_server_url: str) -> Iterator[list[Server]]:
    """The demo (public viewing on, 500 incidents) in one PostGIS database, served by two processes."""
    import psycopg

    folder = tmp_path_factory.mktemp("e2e-replicas")
    with psycopg.connect(f"{postgis_server_url}/postgres", autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "replicas"')
        conn.execute('CREATE DATABASE "replicas"')
    url = f"{postgis_server_url}/replicas"
    run_cli(url, "demo", "--n", "500", "--days", "60")
    store = open_store(url)
    set_setting(store, "refresh_seconds", REFRESH_S)
    store.close()
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                streamlit_server(url, folder / f"streamlit-{name}.log", TRUCELINE_CACHE=str(folder / name))
            )
            for name in ("a", "b")
        ]
        yield servers


def stored(url: str) -> int:
    store = open_store(url)
    try:
        return store.count()
    finally:
        store.close()


def refreshed_at(page: object) -> tuple[str, int]:
    """The live map's last refresh (HH:MM:SS, UTC) and the whole-store count it showed."""
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="incidents match").first
    text = caption.inner_text()
    found = REFRESHED.search(text)
    assert found, text
    return found.group(1), reports(page)


def first_refresh_after(page: object, instant: datetime, timeout_s: float = 60) -> int:
    """The count the live map shows at its first refresh that read the store after ``instant``."""
    after = (pd.Timestamp(instant) + pd.Timedelta(seconds=1)).strftime("%H:%M:%S")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # the caption is redrawn while it is read
            stamp, count = refreshed_at(page)
            if stamp >= after:  # HH:MM:SS compare as text; the test never spans midnight of the clock
                return count
        page.wait_for_timeout(250)
    pytest.fail(f"no refresh after {after} within {timeout_s} s")


@pytest.mark.parametrize(("clients", "size"), [(4, 1_000), pytest.param(20, 10_000, marks=pytest.mark.slow)])
def test_two_processes_show_an_upload_and_its_undo_at_their_next_refresh(
    replicas: list[Server], new_page: object, tmp_path: Path, clients: int, size: int
) -> None:
    db = replicas[0].db
    upload = tmp_path / "replicas.csv"
    rows, _bad, _repeats = write_upload(upload, size)
    before = stored(db)
    pages = []
    for server in replicas:
        page, watch = new_page()
        page.goto(f"{server.url}/live_map?window=all")
        map_frame(page)
        assert reports(page) == before
        pages.append((page, watch))
    ports = [int(s.url.rsplit(":", 1)[1]) for s in replicas]

    async def scenario() -> tuple[list[Session], dict]:
        done = asyncio.Event()
        results = [Session() for _ in range(clients)]
        tasks = [
            # Sessions 0 and 1 watch the whole store, one on each process; then each view on each.
            asyncio.create_task(session(ports[i % 2], i, done, results[i], view=VIEWS[i // 2 % len(VIEWS)]))
            for i in range(clients)
        ]
        while sum(r.runs for r in results) < clients:
            await asyncio.sleep(0.1)
            if any(t.done() for t in tasks):
                break
        ingest = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "geo", "ingest", str(upload), "--json",
            cwd=REPO,
            env={**os.environ, "TRUCELINE_DB": db},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await ingest.communicate()
        assert ingest.returncode == 0, err.decode()
        done.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=DEADLINE_S)
        return results, json.loads(out)

    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        results, summary = pool.submit(asyncio.run, asyncio.wait_for(scenario(), DEADLINE_S)).result()
    committed = clock.now()
    accepted = summary["accepted"]
    after = before + accepted

    errors = [e for r in results for e in r.errors]
    assert errors == [], errors[:5]
    assert stored(db) == after  # 0 lost rows
    assert summary["accepted"] + summary["rejected"] + summary["duplicate"] == rows
    seen = {n for r in results for n in r.totals}
    assert seen <= {before, after}, seen
    assert all(r.totals[-1] == after for r in results if r.totals)
    assert {i % 2 for i, r in enumerate(results) if r.totals} == {0, 1}  # both processes counted
    shown = [first_refresh_after(page, committed) for page, _ in pages]
    assert shown == [after, after]
    took = time.monotonic() - started

    # An undo through the CLI: both maps drop the rows at their next refresh.
    run_cli(db, "batches", "delete", str(summary["batch_id"]))
    undone = clock.now()
    assert [first_refresh_after(page, undone) for page, _ in pages] == [before, before]
    for _, watch in pages:
        watch.assert_clean()
    for server in replicas:
        assert "Traceback" not in server.log.read_text()
    runs = sum(r.runs for r in results)
    print(
        f"\nreplicas: 2 processes, {clients} websocket sessions + 2 pages, {runs} runs, 0 errors; "
        f"{rows:,} rows uploaded ({accepted:,} accepted), seen by both at their next refresh; {took:.1f} s"
    )
