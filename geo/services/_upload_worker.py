"""The upload worker: forked by :mod:`geo.services._fork_server`, or run as a module with a FOLDER.

Reads ``FOLDER/request.pickle``, runs the check or the commit it asks for, writes its
progress to ``FOLDER/progress.json`` (replaced atomically) and its outcome, a
:class:`~geo.services.upload_jobs.JobStatus` as a dict, to ``FOLDER/result.pickle``.
Every failure is an outcome with a one-line message naming the uploaded file, never a
traceback on the page.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from geo._errors import DateOrderError, TrucelineError
from geo.core.names import printable
from geo.io import readers
from geo.io.writers import csv_bytes
from geo.services.ingest import ingest_file, scenario_bounds
from geo.services.upload_jobs import PREVIEW_ROWS, SHOWN_REJECTED, SHOWN_WARNINGS, CheckResult
from geo.store import open_store


def _write_progress(folder: Path, done: int, total: int | None, stage: str) -> None:
    tmp = folder / "progress.json.tmp"
    tmp.write_text(json.dumps({"done": done, "total": total, "stage": stage}), encoding="utf-8")
    tmp.replace(folder / "progress.json")


def _outcome(folder: Path, **status: Any) -> None:
    tmp = folder / "result.pickle.tmp"
    with tmp.open("wb") as out:
        pickle.dump(status, out)
    tmp.replace(folder / "result.pickle")


def _message(err: BaseException, path: Path, name: str) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    for form in (str(path), path.name):
        text = text.replace(form, name)
    return printable(text)


def check(request: dict[str, Any], folder: Path) -> CheckResult:
    """Detect the format and read every row; keep what the page shows, write the rejected rows."""
    path, name = Path(request["path"]), str(request["name"])
    store = open_store(request["store_url"])
    scenario = store.scenario()
    store.close()
    if scenario is None:
        msg = f"{name}: no scenario is loaded"
        raise TrucelineError(msg)
    _write_progress(folder, 0, None, "detecting")
    detected = readers.detect(
        path,
        format=request["format"],
        mapping=request["mapping"],
        name=name,
        encoding=request["encoding"],
        dayfirst=request["dayfirst"],
    )
    rows = valid = rejected = 0
    preview: list[pd.DataFrame] = []
    shown_rejected: list[pd.DataFrame] = []
    actors: pd.Series | None = None
    warnings: list[str] = []
    warning_count = 0
    rejected_path = folder / "rejected.csv"
    for chunk in readers.read_incidents(
        path,
        format=detected.format,
        mapping=request["mapping"],
        name=name,
        encoding=detected.encoding,
        dayfirst=detected.dayfirst,
        party_mapping=scenario.party_mapping,
        parties={p.id for p in scenario.parties},
        bbox=scenario_bounds(scenario),
    ):
        rows += chunk.rows_read
        valid += len(chunk.frame)
        rejected += len(chunk.rejected)
        if sum(len(p) for p in preview) < PREVIEW_ROWS and len(chunk.frame):
            preview.append(chunk.frame.head(PREVIEW_ROWS))
        counts = chunk.frame.groupby(["actor", "party"], dropna=False).size() if len(chunk.frame) else None
        if counts is not None:
            actors = counts if actors is None else actors.add(counts, fill_value=0)
        if len(chunk.rejected):
            if sum(len(r) for r in shown_rejected) < SHOWN_REJECTED:
                shown_rejected.append(chunk.rejected.head(SHOWN_REJECTED))
            data = csv_bytes(chunk.rejected)
            with rejected_path.open("ab") as out:
                out.write(data if out.tell() == 0 else data.split(b"\r\n", 1)[1])
        warning_count += len(chunk.warnings)
        warnings += list(chunk.warnings)[: max(0, SHOWN_WARNINGS - len(warnings))]
        _write_progress(folder, rows, None, "checking")
    table = (
        actors.astype("int64").rename("rows").reset_index()
        if actors is not None
        else pd.DataFrame({"actor": [], "party": [], "rows": []})
    )
    return CheckResult(
        format=detected.format,
        layout=detected.layout or "standard",
        encoding=detected.encoding,
        delimiter=detected.delimiter,
        has_header=detected.has_header,
        dayfirst=detected.dayfirst,
        dates=detected.dates or "",
        detect_warnings=list(detected.warnings),
        rows_read=rows,
        valid=valid,
        rejected=rejected,
        preview=pd.concat(preview, ignore_index=True).head(PREVIEW_ROWS) if preview else pd.DataFrame(),
        actors=table,
        rejected_rows=pd.concat(shown_rejected, ignore_index=True).head(SHOWN_REJECTED)
        if shown_rejected
        else pd.DataFrame(),
        warnings=warnings,
        warning_count=warning_count,
    )


def commit(request: dict[str, Any], folder: Path) -> object:
    """Upload the file as one batch, reporting progress after each chunk."""
    store = open_store(request["store_url"])

    def progress(done: int, total: int | None, stage: str) -> None:
        if stage == "committing":
            _COMMITTING.set()  # a stop now waits for the commit and its outcome
        _write_progress(folder, done, total, stage)

    try:
        return ingest_file(
            store,
            Path(request["path"]),
            file_name=request["name"],
            format=request["format"],
            mapping=request["mapping"],
            actor=request["actor"],
            progress=progress,
            encoding=request["encoding"],
            dayfirst=request["dayfirst"],
        )
    finally:
        store.close()


_PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal this process gets when its parent ends."""


def _stop_with_parent() -> None:
    """
    End this worker (rolling back) when the server that started it is gone.

    On Linux the kernel sends SIGTERM the moment the server ends
    (``prctl(PR_SET_PDEATHSIG)``): an upload does not go on writing for up to a second
    after it. Elsewhere, and for a server gone before that was asked, a thread checks the
    parent every second.
    """
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no prctl (not Linux)
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="truceline-parent-watch").start()


_STOPPING = threading.Event()
"""Set when SIGTERM arrived: the unwinding that follows is the stop, not the file's fault."""
_COMMITTING = threading.Event()
"""Set once every row is written and the transaction commits next: too late to roll back."""


def _stop(*_: object) -> None:
    """
    SIGTERM: unwind (the transaction rolls back) and exit 143.

    Once the upload is committing, the stop waits: the commit ends, its outcome (stored,
    or failed) is written, and only then does the worker exit. Stopped there, the page
    would report "nothing stored" for rows that are stored.
    """
    _STOPPING.set()
    if not _COMMITTING.is_set():
        sys.exit(143)


def _failure(err: Exception, path: Path, name: str) -> dict[str, str]:
    """The outcome of a job that raised ``err``: its kind and one-line message."""
    if isinstance(err, DateOrderError):
        return {"kind": "date_order", "message": _message(err, path, name)}
    if isinstance(err, TrucelineError):
        kind = "layout" if "unknown layout" in str(err) or "missing column" in str(err) else "error"
        return {"kind": kind, "message": _message(err, path, name)}
    if isinstance(err, MemoryError):
        return {"kind": "error", "message": f"{printable(name)}: too large to read"}
    return {
        "kind": "error",
        "message": f"{printable(name)}: cannot be read ({type(err).__name__}: {_message(err, path, name)})",
    }


def main(folder: Path) -> int:
    """
    Run the job in ``folder``; the outcome is written there whatever happens.

    Except when the worker is stopped (SIGTERM: the page cancelled, or its server is gone)
    before a commit's last step: it then exits 143 without an outcome, even if the stop
    surfaced as another error (a database connection closed under a query), and the page
    reports the stop. Stopped while committing, it writes the outcome and then exits 143.
    """
    signal.signal(signal.SIGTERM, _stop)
    _stop_with_parent()
    with (folder / "request.pickle").open("rb") as src:
        request: dict[str, Any] = pickle.load(src)  # noqa: S301 - written by the page, in our folder
    path, name = Path(request["path"]), str(request["name"])
    try:
        result = check(request, folder) if request["task"] == "check" else commit(request, folder)
    except Exception as err:  # the page shows one line, never a traceback
        if _STOPPING.is_set() and not _COMMITTING.is_set():
            raise SystemExit(143) from err
        _outcome(folder, state="failed", **_failure(err, path, name))
    else:
        _outcome(folder, state="done", result=result)
    return 143 if _STOPPING.is_set() else 0


if __name__ == "__main__":
    os.nice(5)  # the server answers first
    sys.exit(main(Path(sys.argv[1])))
