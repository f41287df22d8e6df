"""The embedded store: one SQLite file in WAL mode."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from geo._errors import StoreError
from geo.store._base import Store, Tx

BUSY_TIMEOUT_S = 120.0
"""How long a writer waits for another writer before giving up (an upload can take a while)."""


class SQLiteStore(Store):
    """A store in one SQLite file; readers never wait for writers (WAL)."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            msg = f"{self.path}: cannot create the store's folder: {err}"
            raise StoreError(msg) from err
        super().__init__(f"sqlite:///{self.path}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def _version(self, tx: Tx) -> int:
        exists = tx.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
        if not exists:
            return 0
        return int(tx.scalar("SELECT value FROM meta WHERE key = 'schema_version'") or 0)

    def lock_for_ingest(self, tx: Tx) -> None:
        """``BEGIN IMMEDIATE`` already holds the only write lock."""

    def bulk_insert(self, cursor: Any, table: str, frame: pd.DataFrame) -> None:
        cols = ", ".join(frame.columns)
        marks = ", ".join("?" * len(frame.columns))
        rows = zip(*(frame[c].tolist() for c in frame.columns), strict=True)
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
