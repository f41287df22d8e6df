"""The server store: PostgreSQL with PostGIS, selected by ``TRUCELINE_DB=postgresql://…``."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from geo.store._base import Store
from geo.store._codec import TIME_COLUMNS
from geo.store._tx import Tx

_INGEST_LOCK = 7_301_953  # advisory lock key that serialises uploads and rewrites
_ACCOUNTS_LOCK = 7_301_954  # advisory lock key that serialises sign-in counting and first-run setup


class PostGISStore(Store):
    """A store in a PostGIS database; several dashboard replicas can share it."""

    dialect = "postgis"

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True)

    def _idle(self, conn: psycopg.Connection) -> bool:
        return not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    def _begin(self, conn: psycopg.Connection) -> None:
        conn.execute("BEGIN")

    def _version(self, tx: Tx) -> int:
        if not tx.scalar("SELECT to_regclass('public.meta') IS NOT NULL"):
            return 0
        return int(tx.scalar("SELECT value FROM meta WHERE key = 'schema_version'") or 0)

    def lock_for_ingest(self, tx: Tx) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_INGEST_LOCK,))

    def settle_orphaned_commits(self, timeout_s: float) -> bool:
        """
        Wait until no upload or rewrite holds the ingest lock; ``False`` after ``timeout_s``.

        A commit whose client is gone still holds the lock until the server has ended it.
        """
        try:
            with self.write() as tx:
                tx.execute(f"SET LOCAL lock_timeout = {max(1, round(timeout_s * 1000))}")
                self.lock_for_ingest(tx)
        except psycopg.errors.LockNotAvailable:
            return False
        return True

    def lock_for_accounts(self, tx: Tx) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_ACCOUNTS_LOCK,))

    def analyze(self, tx: Tx, table: str) -> None:
        tx.execute(f"ANALYZE {table}")

    def sql(self, text: str) -> str:
        return text.replace("%", "%%").replace("?", "%s")

    def geom_param(self) -> str:
        return "ST_GeomFromWKB(?, 4326)"

    def geom_select(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def contains(self, column: str) -> str:
        return f"strpos({column}, ?) > 0"

    def encode_times(self, values: pd.Series) -> np.ndarray:
        ts = pd.to_datetime(pd.Series(values), utc=True)
        out = np.array(ts.dt.to_pydatetime(), dtype=object)
        out[ts.isna().to_numpy()] = None
        return out

    def decode_times(self, values: pd.Series) -> pd.Series:
        return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")

    def decode_time(self, value: Any) -> pd.Timestamp | None:
        return None if value is None else pd.Timestamp(value).tz_convert("UTC")

    def date_param(self, day: Any) -> Any:
        return day

    def bulk_insert(self, cursor: Any, table: str, columns: dict[str, list[Any]]) -> None:
        r"""
        ``COPY`` the rows in as CSV.

        Every value is quoted, so that a text reading ``\N`` stays text; only the columns
        that are not all text (numbers and times, which may be NULL) match the NULL marker.
        """
        data: dict[str, pd.Series] = {}
        nullable: list[str] = []
        for name, values in columns.items():
            if name in TIME_COLUMNS:
                data[name] = pd.Series([None if v is None else v.isoformat() for v in values], dtype=object)
                nullable.append(name)
            else:
                data[name] = pd.Series(values, dtype=object)  # never float-ify integers with a None
                if not all(type(v) is str for v in values):
                    nullable.append(name)
        buffer = io.StringIO()
        pd.DataFrame(data).to_csv(buffer, index=False, header=False, na_rep="\\N", quoting=csv.QUOTE_ALL)
        options = "FORMAT csv, NULL '\\N'"
        if nullable:
            options += f", FORCE_NULL ({', '.join(nullable)})"
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH ({options})") as copy:
            copy.write(buffer.getvalue())
