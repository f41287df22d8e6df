"""Upload work in a separate process: checking a file (detect, read, validate) and committing it.

The dashboard's server process must stay small and responsive while an analyst uploads
a large file: a 150 MB CSV parsed in the server took it to 2.75 GB and delayed other
users' pages by a minute. So the page saves the upload to a private folder and starts a
worker, forked by a preloaded fork server (:mod:`geo.services._fork_server`: it starts in
milliseconds), else ``python -m geo.services._upload_worker FOLDER``; the worker reads the file in
chunks, writes its progress to ``progress.json`` and its result to ``result.pickle``,
and the page polls :meth:`UploadJob.status` and can :meth:`UploadJob.cancel` it. A commit
is one transaction: a cancelled or killed worker leaves the store unchanged.

A check's result (:class:`CheckResult`) holds only what the page shows: counts, the
first rows, the actors, the first rejected rows and warnings; the full rejected rows are
written to ``rejected.csv`` in the job's folder.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import pandas as pd

import geo
from geo import clock
from geo._errors import TrucelineError
from geo.core.auth import Principal, require
from geo.core.names import printable
from geo.io.readers import ColumnMapping
from geo.services._fork_server import ForkServer, module_env

State = Literal["running", "done", "failed", "cancelled"]
PREVIEW_ROWS = 20
STOP_WAIT_S = 5.0
"""How long a cancelled worker has to roll back and end before it is killed."""
COMMIT_WAIT_S = 120.0
"""How long a worker cancelled while committing has to finish the commit before it is killed."""
SHOWN_REJECTED = 500
SHOWN_WARNINGS = 1000
_REPO = Path(geo.__file__).resolve().parent.parent


@dataclass(frozen=True)
class CheckResult:
    """What a dry run of an upload found (nothing stored)."""

    format: str
    layout: str
    encoding: str
    delimiter: str
    has_header: bool
    dayfirst: bool | None
    dates: str
    detect_warnings: list[str]
    rows_read: int
    valid: int
    rejected: int
    preview: pd.DataFrame
    actors: pd.DataFrame
    rejected_rows: pd.DataFrame
    warnings: list[str]
    warning_count: int


@dataclass(frozen=True)
class JobStatus:
    """
    Where a job is.

    ``kind`` of a failure says what the page should do: ``layout`` (the format was not
    recognised: ask for a column mapping), ``date_order`` (ask for the day/month order),
    ``error`` (anything else).
    """

    state: State
    done: int = 0
    total: int | None = None
    stage: str = ""
    message: str = ""
    kind: str = ""
    result: Any = None

    @property
    def cancellable(self) -> bool:
        """Whether cancelling can still stop the job: it runs and has not begun to commit."""
        return self.state == "running" and self.stage != "committing"


class WorkerProcess(Protocol):
    """What a job needs of its worker: a ``subprocess.Popen``, or a :class:`ForkedWorker`."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...  # noqa: D102
    def wait(self, timeout: float | None = None) -> int: ...  # noqa: D102
    def send_signal(self, sig: int) -> None: ...  # noqa: D102
    def kill(self) -> None: ...  # noqa: D102


@dataclass
class UploadJob:
    """A worker process checking or committing one uploaded file (see the module docstring)."""

    folder: Path
    process: WorkerProcess
    name: str
    cancelled: bool = False
    _final: JobStatus | None = field(default=None, repr=False)

    def status(self) -> JobStatus:
        """The job's state, progress, and its result or error once it has ended."""
        if self._final is not None:
            return self._final
        code = self.process.poll()
        result = self.folder / "result.pickle"
        if code is not None and result.exists():  # also a job cancelled too late: it had committed
            with result.open("rb") as src:
                outcome: dict[str, Any] = pickle.load(src)  # noqa: S301 - written by our worker, in our folder
            self._final = JobStatus(**outcome)
        elif code is not None and code != 0 and _progress(self.folder)["stage"] == "committing":
            self._final = self._stopped_while_committing(code)  # killed: the store says what happened
        elif self.cancelled:
            return self._cancelled()
        elif code is None or code == 0:
            return JobStatus("running", **_progress(self.folder))
        else:
            msg = (
                f"{self.name}: the upload worker stopped unexpectedly (exit code {code}): nothing was stored"
            )
            self._final = JobStatus("failed", message=msg, kind="error")
        return self._final

    def _cancelled(self) -> JobStatus:
        return JobStatus("cancelled", message=f"{self.name}: cancelled: nothing was stored")

    def _stopped_while_committing(self, code: int) -> JobStatus:
        """
        The outcome of a commit whose worker ended without writing one, read from the store.

        Its transaction committed or not; :func:`geo.services.ingest.committed_upload`
        finds its batch, once any commit still in flight has ended.
        """
        from geo.services.ingest import committed_upload  # only here: the server starts without it
        from geo.store import open_store

        with (self.folder / "request.pickle").open("rb") as src:
            request: dict[str, Any] = pickle.load(src)  # noqa: S301 - written by the page, in our folder
        stopped = f"{self.name}: the upload worker stopped while committing (exit code {code})"
        try:
            store = open_store(request["store_url"])
            try:
                summary = committed_upload(
                    store, request["path"], user_name=request["actor"].name, since=request["started_at"]
                )
            finally:
                store.close()
        except (TrucelineError, OSError) as err:
            message = f"{stopped}; whether it was stored could not be checked ({err}): see the upload history"
            return JobStatus("failed", message=printable(message), kind="error")
        if summary is None:
            if self.cancelled:
                return self._cancelled()
            message = f"{stopped}; the store holds no batch of it: nothing was stored"
            return JobStatus("failed", message=message, kind="error")
        note = f"the upload worker stopped (exit code {code}) after its commit: "
        summary.warnings.insert(0, note + "this summary is read from the store")
        return JobStatus("done", result=summary)

    def wait(self, timeout: float) -> None:
        """Return when the worker ends, or after ``timeout`` seconds, whichever is first."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)

    def cancel(self) -> None:
        """
        Stop the worker (a commit in progress is rolled back: nothing is stored).

        A commit already committing is not stopped: it ends, and :meth:`status` gives its
        outcome. Only a worker that does not end is killed: after :data:`STOP_WAIT_S`, or
        :data:`COMMIT_WAIT_S` more once it is committing.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            ended = self._ends_within(STOP_WAIT_S) or (
                _progress(self.folder)["stage"] == "committing" and self._ends_within(COMMIT_WAIT_S)
            )
            if not ended:
                self.process.kill()
                self.process.wait()
            self.cancelled = True

    def _ends_within(self, seconds: float) -> bool:
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def rejected_csv(self) -> Path | None:
        """The full rejected rows of a check, as formula-safe CSV, if any."""
        path = self.folder / "rejected.csv"
        return path if path.exists() else None

    def close(self) -> None:
        """Stop the worker if it runs, and remove the job's folder."""
        self.cancel()
        shutil.rmtree(self.folder, ignore_errors=True)


def save_upload(stream: IO[bytes], name: str, *, chunk: int = 8 << 20) -> Path:
    """
    Copy an upload into a new private folder, in chunks (no second copy in memory).

    Returns
    -------
    pathlib.Path
        The saved file, named ``upload`` plus the upload's suffix (never its name).
    """
    sweep()
    folder = Path(tempfile.mkdtemp(prefix="truceline-upload-"))
    suffix = "".join(ch for ch in Path(name).suffix.lower()[:8] if ch.isalnum() or ch == ".")
    path = folder / f"upload{suffix}"
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, chunk)
    _release_memory()
    return path


STALE_AFTER_S = 24 * 3600
"""Upload and job folders older than this are removed (a session that ended left them behind)."""


def sweep(*, older_than_s: float = STALE_AFTER_S) -> int:
    """
    Remove upload and job folders not touched for ``older_than_s`` seconds; return how many.

    A browser closed in the middle of an upload leaves its folder (the saved file can be
    hundreds of MB); each new upload sweeps them. Age is read on the file system's own
    clock, the one that stamped the folders: a process whose clock runs ahead of it (a
    skewed host, a network temp folder) never takes another upload's live folder for stale.
    """
    root = Path(tempfile.gettempdir())
    removed = 0
    cutoff = _file_system_now(root) - older_than_s
    for prefix in ("truceline-upload-", "truceline-check-", "truceline-commit-"):
        for folder in root.glob(f"{prefix}*"):
            try:
                stale = folder.is_dir() and folder.stat().st_mtime < cutoff
            except OSError:
                continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


def _file_system_now(root: Path) -> float:
    """The time as the file system holding ``root`` stamps a file written now."""
    with tempfile.NamedTemporaryFile(dir=root, prefix="truceline-clock-") as probe:
        return os.fstat(probe.fileno()).st_mtime


def _release_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise): the server stays small."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.malloc_trim(0)


def start_check(
    path: Path,
    *,
    name: str,
    store_url: str,
    actor: Principal,
    format: str = "auto",
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    dayfirst: bool | None = None,
) -> UploadJob:
    """Start a worker that detects the file's format and reads every row, storing nothing."""
    require(actor, "upload")
    return _start(
        "check",
        path,
        name=name,
        store_url=store_url,
        actor=actor,
        format=format,
        mapping=mapping,
        encoding=encoding,
        dayfirst=dayfirst,
    )


def start_commit(
    path: Path,
    *,
    name: str,
    store_url: str,
    actor: Principal,
    format: str,
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    dayfirst: bool | None = None,
) -> UploadJob:
    """Start a worker that uploads the file as one batch (see :func:`geo.services.ingest.ingest_file`)."""
    require(actor, "upload")
    return _start(
        "commit",
        path,
        name=name,
        store_url=store_url,
        actor=actor,
        format=format,
        mapping=mapping,
        encoding=encoding,
        dayfirst=dayfirst,
    )


_FORKS = ForkServer(_REPO)
atexit.register(_FORKS.stop)


def _start(task: str, path: Path, **request: Any) -> UploadJob:
    folder = Path(tempfile.mkdtemp(prefix=f"truceline-{task}-"))
    with (folder / "request.pickle").open("wb") as out:
        pickle.dump({"task": task, "path": str(path), "started_at": clock.now(), **request}, out)
    process: WorkerProcess
    try:
        process = _FORKS.fork(folder, dict(os.environ))
    except OSError:  # no fork server: a worker of its own, which takes a second longer to start
        process = _spawn(folder)
    return UploadJob(folder, process, str(request["name"]))


def _spawn(folder: Path) -> subprocess.Popen[bytes]:
    with (folder / "worker.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own module, with our interpreter
            [sys.executable, "-m", "geo.services._upload_worker", str(folder)],
            env=module_env(_REPO),
            cwd=str(_REPO),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _progress(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"stage": "starting"}
    return {"done": int(data.get("done", 0)), "total": data.get("total"), "stage": str(data.get("stage", ""))}
