"""The server store: PostgreSQL with PostGIS, selected by ``TRUCELINE_DB=postgresql://…``."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from geo.store._base import Store, Tx

_INGEST_LOCK = 7_301_953  # advisory lock key that serialises uploads and rewrites


class PostGISStore(Store):
    """A store in a PostGIS database; several dashboard replicas can share it."""

    dialect = "postgis"

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def _begin(self, conn: psycopg.Connection) -> None:
        conn.execute("BEGIN")

    def _version(self, tx: Tx) -> int:
        if not tx.scalar("SELECT to_regclass('public.meta') IS NOT NULL"):
            return 0
        return int(tx.scalar("SELECT value FROM meta WHERE key = 'schema_version'") or 0)

    def lock_for_ingest(self, tx: Tx) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_INGEST_LOCK,))

    def sql(self, text: str) -> str:
        return text.replace("%", "%%").replace("?", "%s")

    def geom_param(self) -> str:
        return "ST_GeomFromWKB(?, 4326)"

    def geom_select(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def encode_times(self, values: pd.Series) -> np.ndarray:
        ts = pd.to_datetime(pd.Series(values), utc=True)
        out = np.array(ts.dt.to_pydatetime(), dtype=object)
        out[ts.isna().to_numpy()] = None
        return out

    def decode_times(self, values: pd.Series) -> pd.Series:
        return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")

    def date_param(self, day: Any) -> Any:
        return day

    def bulk_insert(self, cursor: Any, table: str, frame: pd.DataFrame) -> None:
        buffer = io.StringIO()
        text = frame.copy()
        for col in text.columns:
            if text[col].dtype == object and len(text) and hasattr(text[col].iloc[0], "isoformat"):
                text[col] = [None if v is None else v.isoformat() for v in text[col]]
        text.to_csv(buffer, index=False, header=False, na_rep="\\N")
        with cursor.copy(
            f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy:
            copy.write(buffer.getvalue())
