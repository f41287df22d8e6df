"""
Upload workers forked from a preloaded process: a job starts in milliseconds, not a second.

A fresh ``python -m geo.services._upload_worker`` spends about a second importing pandas,
GEOS, PROJ and the readers before it reads a row; every check and every commit paid it.
Instead one *fork server* per dashboard process (``python -m geo.services._fork_server``,
started on the first job) imports them once and then forks a worker per job:

- the dashboard writes a job's folder and environment on the server's stdin, one JSON line
  per job (never on disk: the environment may hold secrets), and reads back the worker's
  process id;
- the worker (a child of the fork server, never of the threaded dashboard: forking a
  threaded process is unsafe) takes that environment, writes its errors to ``worker.log``,
  lowers its priority and runs :func:`_upload_worker.main`;
- the fork server records each worker's exit code in ``exit_code`` in the job's folder
  before it reaps it, and ends when the dashboard goes away (its stdin closes); its workers
  then stop too, rolling back (they watch their parent).

:class:`ForkedWorker` is the dashboard's handle on one worker, with the part of
``subprocess.Popen``'s interface that :class:`~geo.services.upload_jobs.UploadJob` uses.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, NoReturn

EXIT_FILE = "exit_code"
_POLL_S = 0.02


class ForkedWorker:
    """A worker forked by the fork server: poll, wait, signal it like a ``subprocess.Popen``."""

    def __init__(self, pid: int, folder: Path, server: subprocess.Popen[bytes]) -> None:
        self.pid = pid
        self.folder = folder
        self.returncode: int | None = None
        self._server = server

    def poll(self) -> int | None:
        """The exit code once the worker has ended, else None."""
        if self.returncode is None:
            try:
                self.returncode = int((self.folder / EXIT_FILE).read_text(encoding="ascii"))
            except (OSError, ValueError):
                if self._server.poll() is not None and not _alive(self.pid):
                    self.returncode = -signal.SIGKILL  # its fork server is gone, and so is it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the worker to end; ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"upload worker {self.pid}", timeout or 0)
            time.sleep(_POLL_S)
        return code

    def send_signal(self, sig: int) -> None:
        """Signal the worker if it still runs."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        """Kill the worker (SIGKILL) if it still runs."""
        self.send_signal(signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def module_env(repo: Path) -> dict[str, str]:
    """The environment of the calling process, ``repo`` first on ``PYTHONPATH`` (for ``python -m geo...``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo), env.get("PYTHONPATH", "")) if p)
    return env


class ForkServer:
    """The dashboard's side: start the fork server once, ask it for workers."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "geo.services._fork_server"],
                env=module_env(self._repo),
                cwd=str(self._repo),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        return self._process

    def fork(self, folder: Path, env: dict[str, str]) -> ForkedWorker:
        """A worker for the job in ``folder``, run with ``env``; ``OSError`` if the server does not answer."""
        with self._lock:
            for attempt in (1, 2):  # a fork server that died is started again, once
                server = self._started()
                stdin, stdout = _pipes(server)
                try:
                    stdin.write(json.dumps({"folder": str(folder), "env": env}).encode() + b"\n")
                    stdin.flush()
                    answer = stdout.readline()
                except (BrokenPipeError, ValueError):
                    answer = b""
                if answer.strip().isdigit():
                    return ForkedWorker(int(answer), folder, server)
                server.kill()
                server.wait()
                if attempt == 2:
                    break
        msg = f"the upload fork server did not answer for {folder}"
        raise OSError(msg)

    def stop(self) -> None:
        """End the fork server (its running workers stop too)."""
        with self._lock:
            if self._process is not None:
                stdin, stdout = _pipes(self._process)
                stdin.close()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
                stdout.close()
            self._process = None


def _pipes(server: subprocess.Popen[bytes]) -> tuple[IO[bytes], IO[bytes]]:
    assert server.stdin is not None and server.stdout is not None  # noqa: S101 - opened with PIPE
    return server.stdin, server.stdout


# -- the fork server itself -------------------------------------------------------------------
def _child(folder: Path, env: dict[str, str]) -> NoReturn:
    """In the forked worker: settle its files, environment and priority, run the job, exit."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        log = os.open(folder / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 2)
        from geo.services import _upload_worker

        os.environ.clear()
        os.environ.update(env)
        os.nice(5)  # the dashboard answers first
        code = _upload_worker.main(folder)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - the worker's last word goes to its log
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


def _record_ended(children: dict[int, Path]) -> None:
    """Write each ended worker's exit code to its folder, then reap it (its pid stays taken until then)."""
    while children:
        try:
            ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if ended is None:
            return
        pid = ended.si_pid
        code = ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status  # killed: -signal
        folder = children.pop(pid, None)
        if folder is not None:
            with contextlib.suppress(OSError):
                tmp = folder / f"{EXIT_FILE}.tmp"
                tmp.write_text(str(code), encoding="ascii")
                tmp.replace(folder / EXIT_FILE)
        os.waitpid(pid, 0)  # only now may the pid be reused: a dashboard never signals a stranger


def serve() -> int:
    """Fork a worker for each job read on stdin; answer each with its pid; stop at end of input."""
    from geo.services import _upload_worker  # noqa: F401 - imported once, for every worker

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the dashboard's Ctrl-C ends it through stdin
    children: dict[int, Path] = {}
    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        _record_ended(children)
        if not ready:
            continue
        data = os.read(0, 65536)
        if not data:
            return 0
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            job = json.loads(line)
            folder = Path(job["folder"])
            pid = os.fork()
            if pid == 0:
                _child(folder, job["env"])
            children[pid] = folder
            os.write(1, f"{pid}\n".encode())


if __name__ == "__main__":
    sys.exit(serve())
