"""The store interface, written once over a small per-dialect layer.

SQL is written with ``?`` placeholders; the PostGIS dialect turns them into ``%s``.
Times are UTC: integer microseconds in SQLite, ``timestamptz`` in PostGIS.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
import shapely

from geo import clock
from geo._errors import NotFoundError, StoreError
from geo.core.auth import Principal
from geo.core.duplicates import groups
from geo.core.filters import SEARCHED, Filters
from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS, Line, Party, Rule, Scenario, Zone
from geo.store._schema import DIALECT_WORDS, SCHEMA_VERSION, migration_sql, statements

INCIDENT_COLUMNS_STORED: tuple[str, ...] = (
    "incident_id",
    *INCIDENT_COLUMNS,
    "content_hash",
    "batch_id",
    "ingested_at",
    *CLASSIFICATION_COLUMNS,
    "duplicate_group",
)
"""The columns of an incident view, in order: every stored column but the folded search text,
and ``duplicate_group`` (the lowest incident id of the linked group a report is counted in, or
its own id)."""
FOLDED_COLUMNS: tuple[str, ...] = tuple(f"{c}_folded" for c in SEARCHED)
"""Case-folded copies of the searched text, for the text filter (not part of incident views)."""
_COMPUTED = {
    "duplicate_group": (
        "COALESCE((SELECT g.group_id FROM incident_groups g WHERE g.incident_id = incidents.incident_id), "
        "incidents.incident_id) AS duplicate_group"
    ),
}
"""View columns that are not stored in ``incidents``, as SQL."""
TIME_COLUMNS = frozenset(
    {
        "occurred_at",
        "occurred_from",
        "occurred_to",
        "ingested_at",
        "started_at",
        "finished_at",
        "at",
        "created_at",
        "reviewed_at",
    }
)
COMPACT_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "occurred_at",
    "lon",
    "lat",
    "category",
    "source",
    "verification",
    "location_precision",
    "attributed_party",
    "attribution",
    "verdict",
    "zones",
    "rules",
    "distance_m",
    "side",
    "batch_id",
    "ingested_at",
)
"""The columns maps, trends and KPIs need: what the in-memory cache holds."""
CLASSIFICATION_UPDATE: tuple[str, ...] = ("incident_id", *CLASSIFICATION_COLUMNS)
_INT_COLUMNS = frozenset(
    {
        "incident_id",
        "batch_id",
        "other_id",
        "group_id",
        "unit_id",
        "duplicate_group",
        "fatalities",
        "rows_read",
        "accepted",
        "rejected",
        "duplicate",
        "near_duplicates",
        "lookalikes",
        "new_breaches",
        "line_no",
        "entry_id",
        "pos",
    }
)
_FLOAT_COLUMNS = frozenset({"lon", "lat", "location_uncertainty_m", "distance_m", "gap_s"})


@dataclass(frozen=True)
class Batch:
    """One upload, as the audit trail keeps it."""

    batch_id: int
    user_name: str
    file_name: str
    sha256: str
    format: str
    encoding: str
    source: str
    rows_read: int
    accepted: int
    rejected: int
    duplicate: int
    near_duplicates: int
    new_breaches: int
    warnings: list[str] = field(default_factory=list)
    status: str = "committed"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lookalikes: int = 0
    """Rows flagged as look-alikes of another report of their source under another id."""


def _to_us(values: pd.Series) -> np.ndarray:
    ts = pd.to_datetime(pd.Series(values), utc=True)
    out = ts.to_numpy(dtype="datetime64[us]").view(np.int64).astype(object)
    missing = ts.isna().to_numpy()
    if missing.any():
        out[missing] = None
    return out


def _numeric(values: pd.Series, kinds: str) -> bool:
    return values.dtype.kind in kinds and not isinstance(values.dtype, pd.CategoricalDtype)


def _encode_ints(values: pd.Series) -> list[Any]:
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iub":
        return values.to_numpy().astype(np.int64).tolist()
    return values.astype("Int64").to_numpy(dtype=object, na_value=None).tolist()


def _encode_floats(values: pd.Series) -> list[Any]:
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(arr)
    if not missing.any():
        return arr.tolist()
    out = arr.astype(object)
    out[missing] = None
    return out.tolist()


def _encode_text(values: pd.Series) -> list[Any]:
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.dtype.kind in "OTU":
        labels = np.append(values.cat.categories.to_numpy(dtype=object), "")
        return labels[values.cat.codes.to_numpy()].tolist()  # code -1 (missing) picks the ""
    if isinstance(values.dtype, pd.StringDtype):
        return values.to_numpy(dtype=object, na_value="").tolist()
    return values.astype(object).where(values.notna(), "").astype(str).tolist()


def redact(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _text_or_none(value: Any) -> str | None:
    return (
        None if value is None or (isinstance(value, float) and np.isnan(value)) or value == "" else str(value)
    )


class Tx:
    """An open write transaction: the primitives the pipelines in ``geo.services.ingest`` use."""

    def __init__(self, store: Store, cursor: Any) -> None:
        self.store = store
        self.cur = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement with ``?`` placeholders."""
        self.cur.execute(self.store.sql(sql), tuple(params))
        return self.cur

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query and return the first column of its first row (or ``None``)."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a query into a frame, converting stored times to UTC timestamps."""
        return self.store.decode(self.execute(sql, params))

    def next_id(self, table: str, column: str) -> int:
        """The next free id of ``table`` (call under the ingest lock)."""
        return int(self.scalar(f"SELECT COALESCE(MAX({column}), 0) + 1 FROM {table}"))

    def bulk_insert(self, table: str, frame: pd.DataFrame) -> None:
        """Insert every row of ``frame`` into ``table`` (columns by name)."""
        if len(frame):
            self.store.bulk_insert(self.cur, table, self.store.encode(frame))

    def insert_columns(self, table: str, columns: dict[str, list[Any]]) -> None:
        """Insert already-encoded columns (see :meth:`Store.encode`) into ``table``."""
        if columns and len(next(iter(columns.values()))):
            self.store.bulk_insert(self.cur, table, columns)

    def meta_set(self, key: str, value: str) -> None:
        """Set a ``meta`` value."""
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _next_audit_id(self) -> int:
        # Serialise audited writes so two transactions never take the same id (PostGIS:
        # an advisory lock, re-entrant within the transaction; SQLite: already one writer).
        self.store.lock_for_ingest(self)
        return self.next_id("audit_log", "entry_id")

    def audit(
        self, actor: Principal, action: str, target: str, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """Append an entry to the audit log, inside this transaction."""
        self.bulk_insert(
            "audit_log",
            pd.DataFrame(
                [
                    {
                        "entry_id": self._next_audit_id(),
                        "at": clock.now(),
                        "user_name": actor.name,
                        "action": action,
                        "target": target,
                        "before": json.dumps(before, sort_keys=True, default=str, ensure_ascii=False),
                        "after": json.dumps(after, sort_keys=True, default=str, ensure_ascii=False),
                    }
                ]
            ),
        )

    def touch(self, *, rewrite: bool) -> None:
        """Record a change: ``rewrite`` when existing rows changed (not only new rows)."""
        self.meta_set("changed_at", clock.now().isoformat())
        if rewrite:
            self.execute(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'"
            )


class Store(ABC):
    """
    The incident store: scenario, incidents with their classification, uploads.

    Use :func:`geo.store.open_store` to get one. Safe to share between threads: each
    thread gets its own connection.
    """

    dialect: ClassVar[str]

    def __init__(self, url: str) -> None:
        self.dsn = url
        """The URL to connect with (it may hold a password: never print it)."""
        self.url = redact(url)
        """The URL for messages and logs, its password masked."""
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._migrate()

    # -- dialect layer -------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new DB-API connection in autocommit mode."""

    @abstractmethod
    def _begin(self, conn: Any) -> None:
        """Start a write transaction."""

    @abstractmethod
    def bulk_insert(self, cursor: Any, table: str, columns: dict[str, list[Any]]) -> None:
        """Insert encoded columns (equal lengths, at least one row)."""

    @contextmanager
    def bulk(self, tx: Tx) -> Iterator[None]:
        """Tune the connection of ``tx`` for a large upload while the block runs."""
        del tx
        yield

    @abstractmethod
    def lock_for_ingest(self, tx: Tx) -> None:
        """Serialise uploads and rewrites (the caller is inside a write transaction)."""

    def sql(self, text: str) -> str:
        """Adapt ``?``-placeholder SQL to the dialect."""
        return text

    key_type: ClassVar[str] = "BIGINT PRIMARY KEY"
    """How a scratch table declares its integer key."""

    @property
    def time_type(self) -> str:
        """The SQL type of a stored time."""
        return DIALECT_WORDS[self.dialect]["TS"]

    def column_type(self, name: str) -> str:
        """The SQL type of an ``incidents`` column, for scratch tables shaped like it."""
        if name == "incident_id":
            return self.key_type
        if name in TIME_COLUMNS:
            return self.time_type
        if name in _INT_COLUMNS:
            return "BIGINT"
        if name in _FLOAT_COLUMNS:
            return DIALECT_WORDS[self.dialect]["REAL"]
        return "TEXT"

    def analyze(self, tx: Tx, table: str) -> None:
        """Refresh the planner's statistics of a table just filled (inside ``tx``)."""
        del tx, table

    def geom_param(self) -> str:
        """SQL for a WKB geometry parameter."""
        return "?"

    def contains(self, column: str) -> str:
        """SQL that is true when the text parameter occurs in ``column``, as it is (no wildcards)."""
        return f"instr({column}, ?) > 0"

    def geom_select(self, column: str) -> str:
        """SQL that selects a geometry column as WKB."""
        return column

    def encode_times(self, values: pd.Series) -> np.ndarray:
        """Stored form of a time column."""
        return _to_us(values)

    def decode_times(self, values: pd.Series) -> pd.Series:
        """UTC timestamps from a stored time column."""
        return pd.to_datetime(values, unit="us", utc=True).astype("datetime64[ns, UTC]")

    def date_param(self, day: date | None) -> Any:
        """Stored form of a date."""
        return day.isoformat() if day else None

    # -- connections -----------------------------------------------------------------
    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction: committed on success, rolled back on any error."""
        conn = self._conn()
        self._begin(conn)
        cur = conn.cursor()
        try:
            yield Tx(self, cur)
        except BaseException:
            conn.rollback() if self.dialect == "postgis" else cur.execute("ROLLBACK")
            raise
        else:
            conn.commit() if self.dialect == "postgis" else cur.execute("COMMIT")
        finally:
            cur.close()

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a read query into a frame."""
        cur = self._conn().cursor()
        try:
            cur.execute(self.sql(sql), tuple(params))
            return self.decode(cur)
        finally:
            cur.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a read query and return its first value."""
        cur = self._conn().cursor()
        try:
            cur.execute(self.sql(sql), tuple(params))
            row = cur.fetchone()
            return None if row is None else row[0]
        finally:
            cur.close()

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- encoding --------------------------------------------------------------------
    def encode(self, frame: pd.DataFrame) -> dict[str, list[Any]]:
        """
        Turn a frame into stored values, column by column.

        Times become the dialect's stored form, integers and floats Python numbers with
        ``None`` for missing, and text ``str`` with ``""`` for missing (text columns are
        ``NOT NULL``).
        """
        out: dict[str, list[Any]] = {}
        for col in frame.columns:
            values = frame[col]
            if col in TIME_COLUMNS:
                out[col] = self.encode_times(values).tolist()
            elif col in _INT_COLUMNS or (col not in _FLOAT_COLUMNS and _numeric(values, "iub")):
                out[col] = _encode_ints(values)
            elif col in _FLOAT_COLUMNS or _numeric(values, "f"):
                out[col] = _encode_floats(values)
            else:
                out[col] = _encode_text(values)
        return out

    def decode(self, cursor: Any) -> pd.DataFrame:
        """Read a cursor's rows into a frame with proper dtypes."""
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
        for col in names:
            if col in TIME_COLUMNS:
                frame[col] = self.decode_times(frame[col])
            elif col in _INT_COLUMNS:
                frame[col] = pd.array(frame[col], dtype="Int64")
            elif col in _FLOAT_COLUMNS:
                frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        return frame

    # -- schema ------------------------------------------------------------------------
    def _migrate(self) -> None:
        """
        Bring the store to :data:`SCHEMA_VERSION`, all steps in one transaction.

        A store already at this version is only read: opening it never waits for an
        upload that holds the write lock.
        """
        try:
            cur = self._conn().cursor()
            try:
                current = self._version(Tx(self, cur))
            finally:
                cur.close()
            self._check_version(current)
            if current == SCHEMA_VERSION:
                return
            with self.write() as tx:
                self.lock_for_ingest(tx)
                current = self._version(tx)  # again, under the lock: another process may have migrated
                self._check_version(current)
                from geo.store._migrate import DATA_STEPS

                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for stmt in statements(migration_sql(self.dialect, version)):
                        tx.execute(stmt)
                    if version in DATA_STEPS:
                        DATA_STEPS[version](tx)
                    if version == 1:
                        tx.meta_set("generation", "0")
                    tx.meta_set("schema_version", str(version))
        except StoreError:
            raise
        except Exception as err:
            msg = f"{self.url}: cannot open the store: {err}"
            raise StoreError(msg) from err

    def _check_version(self, current: int) -> None:
        if current > SCHEMA_VERSION:
            msg = f"{self.url}: schema version {current} is newer than this release ({SCHEMA_VERSION})"
            raise StoreError(msg)

    @abstractmethod
    def _version(self, tx: Tx) -> int:
        """The schema version of an open store (0 when empty)."""

    def schema_version(self) -> int:
        """The schema version of this store."""
        return int(self.scalar("SELECT value FROM meta WHERE key = 'schema_version'"))

    def meta(self, key: str) -> str | None:
        """A ``meta`` value."""
        return self.scalar("SELECT value FROM meta WHERE key = ?", (key,))

    def generation(self) -> int:
        """A counter that grows whenever stored incidents are rewritten or removed."""
        return int(self.meta("generation") or 0)

    def changed_at(self) -> datetime | None:
        """When the store last changed."""
        value = self.meta("changed_at")
        return datetime.fromisoformat(value) if value else None

    # -- scenario ----------------------------------------------------------------------
    def save_scenario(self, tx: Tx, scenario: Scenario, *, manifest: str = "") -> None:
        """Replace the stored scenario (inside ``tx``)."""
        for table in ("parties", "lines", "zones", "rules", "party_mapping"):
            tx.execute(f"DELETE FROM {table}")
        for i, p in enumerate(scenario.parties):
            tx.execute(
                "INSERT INTO parties VALUES (?, ?, ?, ?, ?)", (p.id, p.name, p.short_name, p.colour, i)
            )
        g = self.geom_param()
        for i, ln in enumerate(scenario.lines):
            tx.execute(
                f"INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {g})",
                (
                    ln.id,
                    ln.name,
                    ln.agreement,
                    ln.left_party,
                    ln.right_party,
                    self.date_param(ln.valid_from),
                    self.date_param(ln.valid_to),
                    ln.source,
                    i,
                    shapely.to_wkb(ln.geometry),
                ),
            )
        for i, z in enumerate(scenario.zones):
            tx.execute(
                f"INSERT INTO zones VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {g})",
                (
                    z.id,
                    z.name,
                    z.kind,
                    self.date_param(z.valid_from),
                    self.date_param(z.valid_to),
                    z.line,
                    z.width_m,
                    z.side,
                    z.source,
                    i,
                    shapely.to_wkb(z.geometry),
                ),
            )
        for i, r in enumerate(scenario.rules):
            tx.execute(
                "INSERT INTO rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.id,
                    r.zone,
                    json.dumps(r.prohibits),
                    json.dumps(r.parties),
                    r.severity,
                    r.text,
                    self.date_param(r.valid_from),
                    self.date_param(r.valid_to),
                    json.dumps(r.weapon_classes),
                    i,
                ),
            )
        for i, (pattern, match, party) in enumerate(scenario.party_mapping):
            tx.execute("INSERT INTO party_mapping VALUES (?, ?, ?, ?)", (i, pattern, match, party))
        tx.meta_set(
            "scenario",
            json.dumps(
                {
                    "name": scenario.name,
                    "description": scenario.description,
                    "synthetic": scenario.synthetic,
                    "manifest": manifest,
                    "repairs": list(scenario.repairs),
                    "loaded_at": clock.now().isoformat(),
                }
            ),
        )

    def scenario(self) -> Scenario | None:
        """The stored scenario, or ``None`` when none was loaded."""
        raw = self.meta("scenario")
        if raw is None:
            return None
        meta = json.loads(raw)

        def day(value: Any) -> date | None:
            if value is None or value == "" or (not isinstance(value, str | date) and pd.isna(value)):
                return None
            return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])

        parties = tuple(
            Party(r.id, r.name, r.short_name, r.colour)
            for r in self.frame("SELECT * FROM parties ORDER BY position").itertuples()
        )
        lines = tuple(
            Line(
                r.id,
                r.name,
                shapely.from_wkb(bytes(r.geometry)),
                _text_or_none(r.left_party),
                _text_or_none(r.right_party),
                r.agreement,
                day(r.valid_from),
                day(r.valid_to),
                r.source,
            )
            for r in self.frame(
                f"SELECT id, name, agreement, left_party, right_party, valid_from, valid_to, "
                f"source, {self.geom_select('geometry')} AS geometry FROM lines "
                "ORDER BY position"
            ).itertuples()
        )
        zones = tuple(
            Zone(
                r.id,
                r.name,
                r.kind,
                shapely.from_wkb(bytes(r.geometry)),
                day(r.valid_from),
                day(r.valid_to),
                _text_or_none(r.line),
                None if pd.isna(r.width_m) else float(r.width_m),
                _text_or_none(r.side),
                r.source,
            )
            for r in self.frame(
                f"SELECT id, name, kind, valid_from, valid_to, line, width_m, side, source, "
                f"{self.geom_select('geometry')} AS geometry FROM zones "
                "ORDER BY position"
            ).itertuples()
        )
        rules = tuple(
            Rule(
                r.id,
                r.zone,
                tuple(json.loads(r.prohibits)),
                tuple(json.loads(r.parties)),
                r.severity,
                r.text,
                day(r.valid_from),
                day(r.valid_to),
                tuple(json.loads(r.weapon_classes)),
            )
            for r in self.frame("SELECT * FROM rules ORDER BY position").itertuples()
        )
        mapping = tuple(
            (r.pattern, r.match, r.party)
            for r in self.frame("SELECT * FROM party_mapping ORDER BY position").itertuples()
        )
        return Scenario(
            meta["name"],
            meta["description"],
            bool(meta["synthetic"]),
            parties,
            lines,
            zones,
            rules,
            mapping,
            tuple(meta.get("repairs", ())),
        )

    # -- incidents -----------------------------------------------------------------------
    def _where(self, filters: Filters) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if filters.since is not None:
            clauses.append("occurred_at >= ?")
            params.append(self.encode_times(pd.Series([filters.since]))[0])
        if filters.until is not None:
            clauses.append("occurred_at < ?")
            params.append(self.encode_times(pd.Series([filters.until]))[0])
        for name, column in (
            ("parties", "attributed_party"),
            ("verdicts", "verdict"),
            ("categories", "category"),
            ("verifications", "verification"),
            ("sources", "source"),
        ):
            values = list(getattr(filters, name))
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += values
        if filters.zones:
            clauses.append(
                "incident_id IN (SELECT incident_id FROM incident_zones WHERE zone_id IN "
                f"({', '.join('?' * len(filters.zones))}))"
            )
            params += list(filters.zones)
        if filters.bbox:
            w, s, e, n = filters.bbox
            clauses.append("lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?")
            params += [s, n, w, e]
        if filters.text:
            clauses.append("(" + " OR ".join(self.contains(c) for c in FOLDED_COLUMNS) + ")")
            params += [filters.text.casefold()] * len(FOLDED_COLUMNS)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def query(
        self,
        filters: Filters | None = None,
        *,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        order: str = "occurred_at DESC, incident_id DESC",
    ) -> pd.DataFrame:
        """
        Incidents with their classification, filtered.

        Parameters
        ----------
        filters
            What to select; ``None`` selects everything.
        columns
            Columns to return (default: all stored columns).
        limit
            Most rows to return.
        order
            ``ORDER BY`` clause, over stored column names.

        Returns
        -------
        pandas.DataFrame
            An incident view.
        """
        where, params = self._where(filters or Filters())
        cols = ", ".join(_COMPUTED.get(c, c) for c in columns or INCIDENT_COLUMNS_STORED)
        sql = f"SELECT {cols} FROM incidents{where} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.frame(sql, params)

    def count(self, filters: Filters | None = None) -> int:
        """How many incidents pass ``filters``."""
        where, params = self._where(filters or Filters())
        return int(self.scalar(f"SELECT COUNT(*) FROM incidents{where}", params))

    def incidents_by_id(self, ids: Sequence[int]) -> pd.DataFrame:
        """Full rows of the given incidents (in no particular order)."""
        ids = [int(i) for i in ids]
        if not ids:
            return self.query(limit=0)
        cols = ", ".join(_COMPUTED.get(c, c) for c in INCIDENT_COLUMNS_STORED)
        sql = f"SELECT {cols} FROM incidents WHERE incident_id IN "
        parts = [
            self.frame(sql + f"({', '.join('?' * len(chunk))})", chunk)
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500))
        ]
        return pd.concat(parts, ignore_index=True)

    def incident(self, incident_id: int) -> pd.Series:
        """One incident."""
        frame = self.incidents_by_id([incident_id])
        if frame.empty:
            msg = f"incident {incident_id}: not found"
            raise NotFoundError(msg)
        return frame.iloc[0]

    def max_incident_id(self) -> int:
        """The highest incident id (0 when empty)."""
        return int(self.scalar("SELECT COALESCE(MAX(incident_id), 0) FROM incidents"))

    def compact(self, *, after_id: int = 0) -> pd.DataFrame:
        """The columns of :data:`COMPACT_COLUMNS` for incidents with a higher id."""
        return self.frame(
            f"SELECT {', '.join(COMPACT_COLUMNS)} FROM incidents WHERE incident_id > ? ORDER BY incident_id",
            (after_id,),
        )

    # -- uploads ----------------------------------------------------------------------------
    def batches(self) -> list[Batch]:
        """Every upload, newest first."""
        frame = self.frame("SELECT * FROM batches ORDER BY batch_id DESC")
        return [self._batch(row) for row in frame.to_dict("records")]

    def batch(self, batch_id: int) -> Batch:
        """One upload."""
        frame = self.frame("SELECT * FROM batches WHERE batch_id = ?", (int(batch_id),))
        if frame.empty:
            msg = f"batch {batch_id}: not found"
            raise NotFoundError(msg)
        return self._batch(frame.iloc[0].to_dict())

    @staticmethod
    def _batch(row: dict[str, Any]) -> Batch:
        def when(value: Any) -> datetime | None:
            return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()

        return Batch(
            batch_id=int(row["batch_id"]),
            user_name=row["user_name"],
            file_name=row["file_name"],
            sha256=row["sha256"],
            format=row["format"],
            encoding=row["encoding"],
            source=row["source"],
            rows_read=int(row["rows_read"]),
            accepted=int(row["accepted"]),
            rejected=int(row["rejected"]),
            duplicate=int(row["duplicate"]),
            near_duplicates=int(row["near_duplicates"]),
            lookalikes=int(row["lookalikes"]),
            new_breaches=int(row["new_breaches"]),
            warnings=json.loads(row["warnings"]),
            status=row["status"],
            started_at=when(row["started_at"]),
            finished_at=when(row["finished_at"]),
        )

    def rejected_rows(self, batch_id: int) -> pd.DataFrame:
        """The rejected rows of an upload, with line numbers and reasons."""
        return self.frame(
            "SELECT line_no, reason, raw FROM rejected_rows WHERE batch_id = ? ORDER BY line_no",
            (int(batch_id),),
        )

    def verification_history(self, incident_id: int) -> pd.DataFrame:
        """Every verification change of an incident, oldest first."""
        return self.frame(
            "SELECT old, new, user_name, at, note FROM verification_log WHERE incident_id = ? ORDER BY at",
            (int(incident_id),),
        )

    # -- links between reports of one event ----------------------------------------------------
    def links(
        self,
        *,
        incident_id: int | None = None,
        status: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """
        Links between reports that may be one event (see :mod:`geo.core.duplicates`).

        Parameters
        ----------
        incident_id
            Only the links of this incident, on either side.
        status, kind
            Only links with this review status, or of this kind.
        limit
            Most links to return.

        Returns
        -------
        pandas.DataFrame
            ``incident_id`` (the later report), ``other_id`` (the earlier one), ``kind``,
            ``status``, ``distance_m``, ``gap_s``, ``batch_id``, ``reviewed_by``,
            ``reviewed_at`` and ``note``, by ids.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if incident_id is not None:
            clauses.append("(incident_id = ? OR other_id = ?)")
            params += [int(incident_id), int(incident_id)]
        for column, value in (("status", status), ("kind", kind)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = (
            "SELECT incident_id, other_id, kind, status, distance_m, gap_s, batch_id, reviewed_by, "
            f"reviewed_at, note FROM incident_links{where} ORDER BY incident_id, other_id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.frame(sql, params)

    def groups(self) -> pd.DataFrame:
        """``incident_id``, ``group_id``, ``unit_id`` of every incident counted in a group of reports."""
        return self.frame("SELECT incident_id, group_id, unit_id FROM incident_groups ORDER BY incident_id")

    def group_of(self, incident_id: int) -> pd.DataFrame:
        """
        The reports of the group an incident is counted in; empty when it is in none.

        Columns ``incident_id``, ``source``, ``duplicate_group`` and ``duplicate_unit``:
        what :func:`geo.core.duplicates.count_events` reads.
        """
        return self.frame(
            "SELECT g.incident_id, i.source, g.group_id AS duplicate_group, g.unit_id AS duplicate_unit "
            "FROM incident_groups g JOIN incidents i ON i.incident_id = g.incident_id WHERE g.group_id = "
            "(SELECT group_id FROM incident_groups WHERE incident_id = ?) ORDER BY g.incident_id",
            (int(incident_id),),
        )

    def linked(self, incident_id: int) -> pd.DataFrame:
        """
        The reports linked to an incident, one row per link, by id.

        Columns ``other_id``, the link's ``kind``, ``status``, ``distance_m``, ``gap_s``,
        ``reviewed_by``, ``reviewed_at`` and ``note``, and the other report's ``source``,
        ``source_event_id``, ``occurred_at`` and ``category``.
        """
        other = "CASE WHEN l.incident_id = ? THEN l.other_id ELSE l.incident_id END"
        return self.frame(
            f"SELECT {other} AS other_id, l.kind, l.status, l.distance_m, l.gap_s, l.reviewed_by, "
            "l.reviewed_at, l.note, i.source, i.source_event_id, i.occurred_at, i.category "
            f"FROM incident_links l JOIN incidents i ON i.incident_id = {other} "
            "WHERE l.incident_id = ? OR l.other_id = ? ORDER BY other_id",
            (int(incident_id),) * 4,
        )

    def link_generation(self) -> int:
        """A counter that grows whenever the groups of linked reports change."""
        return int(self.meta("link_generation") or 0)

    def regroup(self, tx: Tx) -> None:
        """Recompute the groups of linked reports from the links (inside ``tx``)."""
        links = tx.frame("SELECT incident_id, other_id, kind, status FROM incident_links")
        tx.execute("DELETE FROM incident_groups")
        tx.bulk_insert("incident_groups", groups(links))
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('link_generation', '1') ON CONFLICT (key) DO UPDATE "
            "SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
        )
