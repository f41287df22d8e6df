"""Start a throwaway PostgreSQL + PostGIS server on 127.0.0.1 for the tests."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def bindir() -> Path | None:
    """The PostgreSQL server binaries (Debian keeps them off PATH)."""
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def missing_reason() -> str | None:
    """Why a PostGIS server cannot be started here, or ``None`` if it can."""
    bins = bindir()
    if bins is None:
        return "PostgreSQL server binaries not found (apt-get install postgresql postgresql-15-postgis-3)"
    share = (
        subprocess.run(
            [str(bins / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if (bins / "pg_config").exists()
        else ""
    )
    controls = list(Path(share or "/nonexistent").glob("extension/postgis.control")) or list(
        Path("/usr/share/postgresql").glob("*/extension/postgis.control")
    )
    if not controls:
        return "PostGIS extension not installed (apt-get install postgresql-15-postgis-3)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgis_server() -> Iterator[str]:
    """Yield ``postgresql://postgres@127.0.0.1:PORT`` for a fresh server; stop it after."""
    bins = bindir()
    assert bins is not None
    base = Path(tempfile.mkdtemp(prefix="truceline-pg-"))
    data = base / "data"
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:  # initdb refuses to run as root
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            str(bins / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
    )
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*prefix, str(bins / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*prefix, str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
