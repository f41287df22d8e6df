"""Upload jobs: the check and the commit run in a worker process, report progress, and can be cancelled."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from geo import clock
from geo._errors import PermissionDeniedError
from geo.core.auth import Principal
from geo.io import readers
from geo.services import upload_jobs
from geo.services.ingest import _stopped as stopped
from geo.services.ingest import scenario_bounds
from geo.services.upload_jobs import CheckResult, JobStatus, UploadJob, save_upload, start_check, start_commit
from geo.store import open_store
from tests.ingest.helpers import store_state, write_incidents_csv

ANALYST = Principal("ana", "analyst")
VIEWER = Principal("vic", "viewer")


def wait(job: UploadJob, timeout: float = 240) -> JobStatus:
    deadline = time.monotonic() + timeout
    while (status := job.status()).state == "running":
        assert time.monotonic() < deadline, f"job still running after {timeout} s: {status}"
        time.sleep(0.1)
    return status


@pytest.fixture
def upload_file(tmp_path: Path) -> Path:
    """A saved upload with valid rows and rows the reader rejects."""
    path = write_incidents_csv(tmp_path / "src.csv", 300, seed=4)
    text = path.read_text(encoding="utf-8").splitlines()
    text[5] = text[5].replace(",", ",not-a-number,", 1)  # shifts the columns: a rejected row
    text.append("X-1,not a date,nan,nan,artillery_fire")
    with io.BytesIO("\n".join(text).encode()) as stream:
        return save_upload(stream, "../../evil name.csv")


def test_save_upload_uses_its_own_name_in_a_private_folder(upload_file: Path) -> None:
    assert upload_file.name == "upload.csv"
    assert upload_file.parent.name.startswith("truceline-upload-")
    assert oct(upload_file.parent.stat().st_mode & 0o777) == "0o700"


def test_a_check_runs_in_another_process_and_finds_what_a_direct_read_finds(loaded_url, upload_file) -> None:
    job = start_check(upload_file, name="mine.csv", store_url=loaded_url, actor=ANALYST)
    assert job.process.pid != os.getpid()
    status = wait(job)
    assert status.state == "done", status.message
    result: CheckResult = status.result
    scenario = open_store(loaded_url).scenario()
    chunks = list(
        readers.read_incidents(
            upload_file,
            name="mine.csv",
            party_mapping=scenario.party_mapping,
            parties={p.id for p in scenario.parties},
            bbox=scenario_bounds(scenario),
        )
    )
    rejected = pd.concat([c.rejected for c in chunks], ignore_index=True)
    assert result.rows_read == sum(c.rows_read for c in chunks)
    assert result.valid == sum(len(c.frame) for c in chunks)
    assert result.rejected == len(rejected) >= 2
    assert result.valid + result.rejected == result.rows_read
    assert len(result.preview) == 20
    assert int(result.actors["rows"].sum()) == result.valid
    csv_back = pd.read_csv(job.rejected_csv(), dtype=str, keep_default_na=False)
    assert len(csv_back) == result.rejected
    assert store_state(loaded_url).counts["incidents"] == 0  # a check stores nothing
    job.close()
    assert not job.folder.exists()


def test_a_bad_file_fails_with_one_line_naming_the_upload(loaded_url, tmp_path) -> None:
    with io.BytesIO(b"PK\x03\x04" + os.urandom(2000)) as stream:
        path = save_upload(stream, "sheet.csv")
    status = wait(start_check(path, name="sheet.csv", store_url=loaded_url, actor=ANALYST))
    assert status.state == "failed"
    assert status.message.startswith("sheet.csv: not a CSV text file")
    assert str(path) not in status.message and "\n" not in status.message


def test_an_unknown_layout_asks_for_a_mapping(loaded_url) -> None:
    with io.BytesIO(b"foo,bar\n1,2\n") as stream:
        path = save_upload(stream, "odd.csv")
    status = wait(start_check(path, name="odd.csv", store_url=loaded_url, actor=ANALYST))
    assert (status.state, status.kind) == ("failed", "layout")


def test_a_commit_stores_the_batch_with_progress(loaded_url, upload_file) -> None:
    check = wait(start_check(upload_file, name="mine.csv", store_url=loaded_url, actor=ANALYST)).result
    job = start_commit(upload_file, name="mine.csv", store_url=loaded_url, actor=ANALYST, format=check.format)
    status = wait(job)
    assert status.state == "done", status.message
    summary = status.result
    assert (summary.rows_read, summary.accepted + summary.rejected + summary.duplicate) == (
        check.rows_read,
        check.rows_read,
    )
    assert summary.file_name == "mine.csv"
    assert store_state(loaded_url).counts["incidents"] == summary.accepted
    assert (job.folder / "progress.json").exists()


def test_waiting_on_a_job_returns_when_it_ends_not_at_the_timeout(loaded_url, upload_file) -> None:
    job = start_check(upload_file, name="mine.csv", store_url=loaded_url, actor=ANALYST)
    job.wait(0.01)
    assert job.status().state == "running"  # a short wait ends first: the worker needs far longer
    started = time.monotonic()
    job.wait(900)
    assert job.status().state == "done", job.status().message
    assert time.monotonic() - started < 450  # woken by the worker's end, not the timeout


def test_a_cancelled_commit_stores_nothing(loaded_url, tmp_path) -> None:
    big = write_incidents_csv(tmp_path / "big.csv", 150_000, seed=9)
    before = store_state(loaded_url)
    job = start_commit(big, name="big.csv", store_url=loaded_url, actor=ANALYST, format="template")
    deadline = time.monotonic() + 120
    while (status := job.status()).done == 0:  # cancel while rows are being written
        assert status.state == "running", status.message
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status.cancellable
    job.cancel()
    assert job.status().state == "cancelled"
    assert job.process.returncode is not None
    assert store_state(loaded_url) == before


@contextlib.contextmanager
def commit_held_open(url: str, upload_file: Path) -> Iterator[tuple[Any, UploadJob]]:
    """
    A commit job of ``upload_file`` whose COMMIT is held open (PostGIS), from its ``committing`` stage.

    A deferred constraint trigger on ``batches`` waits at COMMIT for an advisory lock that the
    yielded connection holds; ``SELECT pg_advisory_unlock(4242)`` on it lets the commit end.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(4242)")  # the worker's COMMIT waits for it
        holder.execute(
            "CREATE FUNCTION hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM pg_advisory_lock(4242); PERFORM pg_advisory_unlock(4242); RETURN NULL; END $$"
        )
        holder.execute(
            "CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON batches DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION hold_commit()"
        )
        job = start_commit(upload_file, name="mine.csv", store_url=url, actor=ANALYST, format="template")
        deadline = time.monotonic() + 120
        while (status := job.status()).stage != "committing":
            assert status.state == "running", status.message
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield holder, job


def test_a_commit_cancelled_while_committing_ends_stored_and_says_so(
    loaded_url, upload_file, monkeypatch
) -> None:
    """Cancel pressed as the transaction commits: the rows are stored, so the page must say so."""
    if not loaded_url.startswith("postgresql"):
        pytest.skip("a commit is held open by a deferred trigger, which only PostGIS has")
    monkeypatch.setattr(upload_jobs, "STOP_WAIT_S", 0.5)  # a shorter grace before a kill

    with commit_held_open(loaded_url, upload_file) as (holder, job):
        assert not job.status().cancellable  # the page offers no Cancel now; a stop may still come
        cancelling = threading.Thread(target=job.cancel)  # SIGTERM, then it waits for the commit
        cancelling.start()
        time.sleep(3 * upload_jobs.STOP_WAIT_S)
        assert job.process.poll() is None  # neither ended by the SIGTERM nor killed after STOP_WAIT_S
        assert store_state(loaded_url).counts["incidents"] == 0
        holder.execute("SELECT pg_advisory_unlock(4242)")
        cancelling.join(timeout=120)
    status = job.status()
    assert job.process.returncode == 143
    assert status.state == "done", status.message
    assert status.result.accepted > 0
    assert store_state(loaded_url).counts["incidents"] == status.result.accepted


def killed_process() -> subprocess.Popen[bytes]:
    """A process that ended as a worker killed from outside ends (SIGKILL)."""
    proc = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return proc


def test_a_worker_killed_after_its_commit_reports_what_the_store_holds(loaded_url, upload_file) -> None:
    """Killed between COMMIT and writing its outcome: the batch is stored, so the page must say so."""
    committed = start_commit(
        upload_file, name="mine.csv", store_url=loaded_url, actor=ANALYST, format="template"
    )
    summary = wait(committed).result
    assert upload_jobs._progress(committed.folder)["stage"] == "committing"  # its last progress
    (committed.folder / "result.pickle").unlink()  # as if killed before writing it
    status = UploadJob(committed.folder, killed_process(), "mine.csv").status()
    assert status.state == "done", status.message
    assert status.result.batch_id == summary.batch_id
    assert (status.result.accepted, status.result.rejected, status.result.duplicate) == (
        summary.accepted, summary.rejected, summary.duplicate,
    )  # fmt: skip
    assert status.result.accepted == store_state(loaded_url).counts["incidents"] > 0
    assert status.result.warnings[0].startswith("the upload worker stopped (exit code -9) after its commit")
    assert status.result.warnings[1:] == summary.warnings


def test_a_worker_killed_while_committing_that_stored_nothing_says_so(loaded_url, upload_file) -> None:
    """The same file committed by an earlier upload is not taken for this one's batch."""
    earlier = start_commit(
        upload_file, name="mine.csv", store_url=loaded_url, actor=ANALYST, format="template"
    )
    assert wait(earlier).state == "done"
    before = store_state(loaded_url)
    # A later upload of the same file, killed as it committed; its transaction rolled back.
    folder = Path(tempfile.mkdtemp(prefix="truceline-commit-"))
    request = pickle.loads((earlier.folder / "request.pickle").read_bytes())  # noqa: S301 - our own
    (folder / "request.pickle").write_bytes(pickle.dumps({**request, "started_at": clock.now()}))
    (folder / "progress.json").write_text('{"done": 301, "total": null, "stage": "committing"}')
    status = UploadJob(folder, killed_process(), "mine.csv").status()
    assert status.state == "failed"
    assert status.message == (
        "mine.csv: the upload worker stopped while committing (exit code -9); "
        "the store holds no batch of it: nothing was stored"
    )
    cancelled = UploadJob(folder, killed_process(), "mine.csv", cancelled=True).status()
    assert (cancelled.state, cancelled.message) == ("cancelled", "mine.csv: cancelled: nothing was stored")
    assert store_state(loaded_url) == before


def test_a_worker_killed_during_a_commit_in_flight_is_answered_once_the_commit_ends(
    loaded_url, upload_file, monkeypatch
) -> None:
    """PostgreSQL finishes a COMMIT it received though its client is gone: the answer waits for it."""
    if not loaded_url.startswith("postgresql"):
        pytest.skip("a commit is held open by a deferred trigger, which only PostGIS has")
    with commit_held_open(loaded_url, upload_file) as (holder, job):
        time.sleep(0.5)  # the COMMIT is sent and held
        job.process.kill()
        job.process.wait()
        monkeypatch.setattr(stopped, "SETTLE_WAIT_S", 0.5)
        early = UploadJob(job.folder, job.process, "mine.csv").status()  # asked with a short wait
        assert early.state == "failed"
        assert early.message == (
            "mine.csv: the upload worker stopped while committing (exit code -9); whether it was stored "
            "could not be checked (an upload is still being written to the store after 0.5 s): "
            "see the upload history"
        )
        monkeypatch.setattr(stopped, "SETTLE_WAIT_S", 30.0)
        answers: list[JobStatus] = []
        asking = threading.Thread(target=lambda: answers.append(job.status()))
        asking.start()
        asking.join(timeout=3)
        assert not answers  # it waits for the commit still in flight
        holder.execute("SELECT pg_advisory_unlock(4242)")
        asking.join(timeout=120)
    (status,) = answers
    assert job.process.returncode == -signal.SIGKILL
    assert status.state == "done", status.message
    assert status.result.accepted == store_state(loaded_url).counts["incidents"] > 0


def test_viewers_cannot_start_upload_jobs(loaded_url, upload_file) -> None:
    with pytest.raises(PermissionDeniedError):
        start_check(upload_file, name="x.csv", store_url=loaded_url, actor=VIEWER)
    with pytest.raises(PermissionDeniedError):
        start_commit(upload_file, name="x.csv", store_url=loaded_url, actor=VIEWER, format="auto")


def file_system_now(folder) -> float:
    """The time as the file system stamps a file written now (its clock, not the process's)."""
    probe = folder / "probe"
    probe.write_bytes(b"")
    return probe.stat().st_mtime


def test_stale_upload_folders_are_swept(tmp_path, monkeypatch) -> None:
    from geo.services.upload_jobs import sweep

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old, fresh, other = tmp_path / "truceline-upload-old", tmp_path / "truceline-check-new", tmp_path / "keep"
    for folder in (old, fresh, other):
        folder.mkdir()
    now = file_system_now(tmp_path)
    for folder, age in ((old, 2 * 86400), (fresh, 60), (other, 2 * 86400)):
        os.utime(folder, (now - age, now - age))
    assert sweep() == 1
    assert not old.exists() and fresh.exists() and other.exists()


def test_a_process_clock_ahead_of_the_file_system_sweeps_no_live_folder(tmp_path, monkeypatch) -> None:
    """Another upload's folder, written just now, stays however far this process's clock runs ahead."""
    from geo.services.upload_jobs import sweep

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    live = tmp_path / "truceline-commit-live"
    live.mkdir()
    ahead = time.time() + 3 * 86400
    monkeypatch.setattr(time, "time", lambda: ahead)
    assert sweep() == 0
    assert live.exists()


def parent_pid(pid: int) -> int:
    """A process's parent, read from ``/proc`` (field 4 of ``stat``, after the parenthesised name)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_workers_are_forked_by_one_preloaded_server_that_returns_if_killed(loaded_url, upload_file) -> None:
    first = start_check(upload_file, name="a.csv", store_url=loaded_url, actor=ANALYST)
    server = parent_pid(first.process.pid)
    assert server != os.getpid()  # not a child of this (threaded) process: of the fork server
    assert wait(first).state == "done"
    second = start_check(upload_file, name="b.csv", store_url=loaded_url, actor=ANALYST)
    assert parent_pid(second.process.pid) == server  # the same server, started once
    assert wait(second).result.rows_read == first.status().result.rows_read
    os.kill(server, signal.SIGKILL)
    while Path(f"/proc/{server}").exists() and "Z" not in Path(f"/proc/{server}/stat").read_text().split()[2]:
        time.sleep(0.05)
    third = start_check(upload_file, name="c.csv", store_url=loaded_url, actor=ANALYST)
    assert parent_pid(third.process.pid) not in (server, os.getpid())  # a new fork server
    assert wait(third).result.rows_read == first.status().result.rows_read


def test_a_commit_whose_fork_server_dies_stores_nothing(loaded_url, tmp_path) -> None:
    big = write_incidents_csv(tmp_path / "big.csv", 150_000, seed=9)
    before = store_state(loaded_url)
    job = start_commit(big, name="big.csv", store_url=loaded_url, actor=ANALYST, format="template")
    deadline = time.monotonic() + 120
    while job.status().done == 0:  # the server goes while rows are being written
        assert job.status().state == "running", job.status().message
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(parent_pid(job.process.pid), signal.SIGKILL)
    status = wait(job)
    assert status.state == "failed" and "stopped unexpectedly" in status.message
    assert store_state(loaded_url) == before
