"""Acceptance 2 and 3 (issue 3): crash safety and concurrency, with real processes.

- An ``python -m geo ingest`` killed with SIGKILL while it is writing leaves the store
  exactly as it was, and the next upload of the file accounts for every row.
- A dashboard-like reader and CLI uploads run side by side: no error reaches either, the
  reader sees the old or the new state and never part of an upload, and two uploads at
  once serialise and both succeed.

Both run on SQLite (WAL, busy timeout) and on a real PostGIS server.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest

from geo.services.ingest import ingest_file
from geo.store import open_store
from tests.ingest.helpers import NOW, REPO, geo_cli, store_state, write_incidents_csv

BIG_ROWS = 40_000
CHUNK = ("--chunk-rows", "5000")  # eight chunks: a kill after the first stored leaves seven to write


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_incidents_csv(tmp_path_factory.mktemp("big") / "big.csv", BIG_ROWS, seed=11)


def _json_summary(proc: subprocess.Popen[bytes], timeout: float = 300) -> dict[str, object]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()
    assert b"locked" not in err and b"Traceback" not in err, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


def _wait_for_progress(proc: subprocess.Popen[bytes], master: int, stage: str, timeout: float) -> str:
    """Read the CLI's progress bar (on a terminal) until it names ``stage``; return what it printed."""
    seen = b""
    deadline = time.monotonic() + timeout
    poller = select.poll()  # not select(): a long test run may hold descriptors past FD_SETSIZE
    poller.register(master, select.POLLIN)
    while stage.encode() not in seen:
        assert proc.poll() is None, f"the upload ended before reaching {stage!r}: {seen.decode()!r}"
        assert time.monotonic() < deadline, f"no {stage!r} progress within {timeout} s: {seen.decode()!r}"
        if poller.poll(50):
            seen += os.read(master, 4096)
    return seen.decode(errors="replace")


def test_an_upload_killed_while_writing_leaves_the_store_as_it_was(loaded_url, tmp_path, big_csv):
    store = open_store(loaded_url)
    first = ingest_file(store, write_incidents_csv(tmp_path / "first.csv", 2000, seed=3), now=NOW)
    store.close()
    before = store_state(loaded_url)
    assert before.counts["incidents"] == first.accepted == 2000

    master, slave = pty.openpty()  # a terminal: the CLI shows its progress bar there
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))  # 0 columns: no bar
    proc = geo_cli("ingest", str(big_csv), *CHUNK, db=loaded_url, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    try:
        # "stored": a chunk has been written inside the upload's transaction, more are coming.
        printed = _wait_for_progress(proc, master, "stored", timeout=120)
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert "rows" in printed

    assert store_state(loaded_url) == before  # counts, last id, batches, checksums, generation
    if loaded_url.startswith("sqlite:///"):
        conn = sqlite3.connect(loaded_url.removeprefix("sqlite:///"))
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()

    summary = _json_summary(geo_cli("ingest", str(big_csv), *CHUNK, "--json", db=loaded_url,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))  # fmt: skip
    assert (summary["rows_read"], summary["accepted"], summary["rejected"], summary["duplicate"]) == (
        BIG_ROWS, BIG_ROWS, 0, 0,
    )  # fmt: skip
    after = store_state(loaded_url)
    assert after.counts["incidents"] == 2000 + BIG_ROWS
    assert after.counts["batches"] == before.counts["batches"] + 1


def _start_reader(url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    stop, out = tmp_path / "stop", tmp_path / "seen.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.reader_process", url, str(stop), str(out)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not out.with_suffix(".ready").exists():
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, "the reader never started"
        time.sleep(0.05)
    return proc, stop, out


def test_a_reader_and_an_upload_side_by_side(loaded_url, tmp_path, big_csv):
    store = open_store(loaded_url)
    old = ingest_file(store, write_incidents_csv(tmp_path / "old.csv", 3000, seed=4), now=NOW).accepted
    store.close()
    reader, stop, out = _start_reader(loaded_url, tmp_path)
    try:
        summary = _json_summary(geo_cli("ingest", str(big_csv), *CHUNK, "--json", db=loaded_url,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE))  # fmt: skip
        new = old + int(summary["accepted"])
        assert summary["accepted"] == BIG_ROWS
        stop.write_text("stop")
        _, err = reader.communicate(timeout=300)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, err.decode()
    assert b"locked" not in err and b"Traceback" not in err, err.decode()

    seen = json.loads(out.read_text())
    assert len(seen) >= 3
    for field in ("snapshot", "count", "query"):
        values = {s[field] for s in seen}
        assert values <= {old, new}, (field, values)  # never a part of the upload
    assert {s["fresh_count"] for s in seen} <= {-1, old, new}
    assert {s["batches"] for s in seen} <= {1, 2}
    assert seen[0]["count"] == old and seen[-1]["count"] == new  # it read before, and after
    assert any(s["count"] == old for s in seen[1:]), "the reader never ran while the upload was writing"


def test_two_uploads_at_once_serialise_and_both_succeed(loaded_url, tmp_path):
    files = [write_incidents_csv(tmp_path / f"team-{i}.csv", 25_000, seed=30 + i, source=f"team-{i}")
             for i in range(2)]  # fmt: skip
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    procs = [geo_cli("ingest", str(f), "--json", db=loaded_url, **pipes) for f in files]
    summaries = [_json_summary(p) for p in procs]
    assert [s["accepted"] for s in summaries] == [25_000, 25_000]
    assert sorted(s["batch_id"] for s in summaries) == [1, 2]

    store = open_store(loaded_url)
    try:
        assert store.count() == 50_000
        ids = store.query(columns=["incident_id", "batch_id"], order="incident_id")
        # One upload wrote all its rows, then the other: each batch holds one run of ids.
        batch = ids["batch_id"].to_numpy(dtype="int64")
        assert np.count_nonzero(np.diff(batch)) == 1 and set(batch) == {1, 2}
    finally:
        store.close()
