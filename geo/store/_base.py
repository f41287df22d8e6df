"""The store interface, written once over a small per-dialect layer.

SQL is written with ``?`` placeholders; the PostGIS dialect turns them into ``%s``.
Times are UTC: integer microseconds in SQLite, ``timestamptz`` in PostGIS.

This module holds the core (connections, write transactions, reads, encoding, schema
migrations, ``meta``); the rest of the interface delegates to one module per concern:
:mod:`geo.store._scenario_io`, :mod:`geo.store._incidents`, :mod:`geo.store._links`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd

from geo._errors import StoreError
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.store import _incidents, _links, _scenario_io
from geo.store._codec import FLOAT_COLUMNS, INT_COLUMNS, TIME_COLUMNS, decode, encode, micros, redact
from geo.store._incidents import Batch
from geo.store._migrate import DEFAULT_SCENARIO
from geo.store._schema import DIALECT_WORDS, SCHEMA_VERSION, migration_sql, statements
from geo.store._tx import Tx


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
        self._connections: list[tuple[threading.Thread, Any]] = []  # each with the thread it serves
        self._lock = threading.Lock()
        self._scenario_id: str | None = None
        self._migrate()

    # -- scenarios side by side ----------------------------------------------------------
    @property
    def scenario_id(self) -> str:
        """
        The scenario this handle reads and writes.

        The one chosen with :meth:`using`, else the store's default (``meta.default_scenario``:
        the first one loaded), else ``default``.
        """
        if self._scenario_id is not None:
            return self._scenario_id
        return self.meta("default_scenario") or DEFAULT_SCENARIO

    def using(self, scenario_id: str | None) -> Store:
        """
        A handle on the same store (same connections) that reads and writes one scenario.

        Every query, upload, export and audit entry made through it belongs to
        ``scenario_id``; ``None`` gives the default scenario.
        """
        view = copy.copy(self)
        view._scenario_id = scenario_id
        return view

    def scenario_ids(self) -> list[str]:
        """The ids of the scenarios the store holds, in the order they were added."""
        rows = self.records("SELECT scenario_id FROM scenarios ORDER BY position, scenario_id")
        return [str(r["scenario_id"]) for r in rows]

    def has_scenario(self, scenario_id: str) -> bool:
        """Whether the store holds a scenario with this id."""
        return bool(self.scalar("SELECT COUNT(*) FROM scenarios WHERE scenario_id = ?", (scenario_id,)))

    def scenario_meta(self) -> dict[str, Any]:
        """The current scenario's stored metadata (name, manifest, data kind, ...); empty if none."""
        raw = self.scalar("SELECT meta FROM scenarios WHERE scenario_id = ?", (self.scenario_id,))
        return json.loads(raw) if raw else {}

    # -- dialect layer -------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new DB-API connection in autocommit mode."""

    @abstractmethod
    def _idle(self, conn: Any) -> bool:
        """Whether a connection is open and outside any transaction (so another thread may use it)."""

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

    def settle_orphaned_commits(self, timeout_s: float) -> bool:
        """
        Wait for a commit whose writer is gone to end; ``False`` when it takes over ``timeout_s``.

        SQLite never has one: a writer that is gone has rolled back. PostgreSQL finishes a
        COMMIT it has received whether or not its client is still there (see the PostGIS store).
        """
        del timeout_s
        return True

    @abstractmethod
    def lock_for_accounts(self, tx: Tx) -> None:
        """Serialise sign-in counting and first-run setup (not uploads) until ``tx`` ends."""

    def sql(self, text: str) -> str:
        """Adapt ``?``-placeholder SQL to the dialect."""
        return text

    key_type: ClassVar[str] = "BIGINT PRIMARY KEY"
    """How a scratch table declares its integer key."""
    missing_number: ClassVar[float | None] = None
    """What :meth:`encode` binds for a missing number (NaN where the database stores it as NULL)."""

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
        if name in INT_COLUMNS:
            return "BIGINT"
        if name in FLOAT_COLUMNS:
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
        return micros(values)

    def decode_times(self, values: pd.Series) -> pd.Series:
        """UTC timestamps from a stored time column."""
        return pd.to_datetime(values, unit="us", utc=True).astype("datetime64[ns, UTC]")

    def decode_time(self, value: Any) -> pd.Timestamp | None:
        """A UTC timestamp from one stored time (``None`` where missing)."""
        return None if value is None else pd.Timestamp(int(value), unit="us", tz="UTC")

    def date_param(self, day: date | None) -> Any:
        """Stored form of a date."""
        return day.isoformat() if day else None

    # -- connections -----------------------------------------------------------------
    def _conn(self) -> Any:
        """
        The calling thread's connection: one an ended thread left idle, else a new one.

        A connection serves one thread at a time. A Streamlit server runs every page run
        in a new thread: the connection of a thread that has ended passes to the next
        thread that asks (no new session with the database per page run), and the ended
        threads' other connections are closed then, so a server holds about as many
        connections as it has live threads. A connection left inside a transaction is
        closed, never passed on.
        """
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            kept: list[tuple[threading.Thread, Any]] = []
            ended: list[Any] = []
            for thread, held in self._connections:  # each thread asked once: one may end meanwhile
                if thread.is_alive():
                    kept.append((thread, held))
                else:
                    ended.append(held)
            conn = next((held for held in ended if self._idle(held)), None)
            self._connections = kept
        for old in ended:
            if old is not conn:
                with contextlib.suppress(Exception):  # a connection the server already dropped
                    old.close()
        if conn is None:
            conn = self._connect()
        self._local.conn = conn
        with self._lock:
            self._connections.append((threading.current_thread(), conn))
        return conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction: committed on success, rolled back on any error."""
        conn = self._conn()
        self._begin(conn)
        cur = conn.cursor()
        tx = Tx(self, cur)
        try:
            yield tx
        except BaseException:
            conn.rollback() if self.dialect == "postgis" else cur.execute("ROLLBACK")
            raise
        else:
            conn.commit() if self.dialect == "postgis" else cur.execute("COMMIT")
        finally:
            cur.close()
        for action in tx.committed:
            action()

    @contextmanager
    def _read(self, sql: str, params: Sequence[Any]) -> Iterator[Any]:
        """A cursor of the calling thread's connection that has run a read query, closed after."""
        cur = self._conn().cursor()
        try:
            cur.execute(self.sql(sql), tuple(params))
            yield cur
        finally:
            cur.close()

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a read query into a frame."""
        with self._read(sql, params) as cur:
            return self.decode(cur)

    def records(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """
        Run a read query into one dict per row, its time columns as UTC timestamps.

        For the few rows a page reads at every run (the session, the scenarios): no frame
        is built, which costs a millisecond even for one row.
        """
        with self._read(sql, params) as cur:
            rows = cur.fetchall()
            names = [d[0] for d in cur.description]
        times = [name in TIME_COLUMNS for name in names]
        return [
            {
                name: self.decode_time(value) if is_time else value
                for name, value, is_time in zip(names, row, times, strict=True)
            }
            for row in rows
        ]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a read query and return its first value."""
        with self._read(sql, params) as cur:
            row = cur.fetchone()
        return None if row is None else row[0]

    def release(self) -> None:
        """Close the calling thread's connection, if it has one (for a thread about to end)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._lock:
            self._connections = [pair for pair in self._connections if pair[1] is not conn]
        conn.close()

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for _thread, conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def connections(self) -> int:
        """How many connections this store holds open."""
        with self._lock:
            return len(self._connections)

    # -- encoding --------------------------------------------------------------------
    def encode(self, frame: pd.DataFrame) -> dict[str, list[Any]]:
        """
        Turn a frame into stored values, column by column.

        Times become the dialect's stored form, integers and floats Python numbers with
        :attr:`missing_number` for missing, and text ``str`` with ``""`` for missing (text columns are
        ``NOT NULL``).
        """
        return encode(frame, self.encode_times, missing=self.missing_number)

    def decode(self, cursor: Any) -> pd.DataFrame:
        """Read a cursor's rows into a frame with proper dtypes."""
        return decode(cursor, self.decode_times)

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
        return cast("str | None", self.scalar("SELECT value FROM meta WHERE key = ?", (key,)))

    def generation(self) -> int:
        """A counter that grows whenever stored incidents are rewritten or removed."""
        return int(self.meta("generation") or 0)

    def store_id(self) -> str:
        """A random id given to the store when it was created (or migrated to version 5)."""
        return self.meta("store_id") or ""

    def local_path(self) -> Path | None:
        """The store's file, when it is one on this machine (files derived from it may sit beside it)."""
        return None

    def changed_at(self) -> datetime | None:
        """When the store last changed."""
        value = self.meta("changed_at")
        return datetime.fromisoformat(value) if value else None

    # -- scenario ----------------------------------------------------------------------
    def save_scenario(self, tx: Tx, scenario: Scenario, *, manifest: str = "") -> None:
        """Replace the current scenario (:attr:`scenario_id`), or add it, inside ``tx``."""
        _scenario_io.save_scenario(tx, scenario, manifest=manifest)

    def scenario(self) -> Scenario | None:
        """The current scenario (:attr:`scenario_id`), or ``None`` when the store holds none by that id."""
        return _scenario_io.load_scenario(self)

    # -- incidents -----------------------------------------------------------------------
    def query(
        self,
        filters: Filters | None = None,
        *,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        order: str = "occurred_at DESC, incident_id DESC",
        after_id: int | None = None,
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
        after_id
            Only incidents with a larger id (a page after the one ending at this id).

        Returns
        -------
        pandas.DataFrame
            An incident view.
        """
        return _incidents.query(self, filters, columns=columns, limit=limit, order=order, after_id=after_id)

    def count(self, filters: Filters | None = None) -> int:
        """How many incidents pass ``filters``."""
        return _incidents.count(self, filters)

    def incidents_by_id(self, ids: Sequence[int]) -> pd.DataFrame:
        """Full rows of the given incidents (in no particular order)."""
        return _incidents.incidents_by_id(self, ids)

    def incident(self, incident_id: int) -> pd.Series:
        """One incident."""
        return _incidents.incident(self, incident_id)

    def max_incident_id(self) -> int:
        """The highest incident id (0 when empty)."""
        return int(self.scalar("SELECT COALESCE(MAX(incident_id), 0) FROM incidents"))

    def compact(self, *, after_id: int = 0, limit: int | None = None) -> pd.DataFrame:
        """:data:`geo.store.COMPACT_COLUMNS` of incidents with a higher id, by id (the first ``limit``)."""
        return _incidents.compact(self, after_id=after_id, limit=limit)

    def max_scenario_incident_id(self) -> int:
        """The highest incident id of the current scenario (0 when it has none)."""
        sql = "SELECT COALESCE(MAX(incident_id), 0) FROM incidents WHERE scenario_id = ?"
        return int(self.scalar(sql, (self.scenario_id,)))

    # -- uploads ----------------------------------------------------------------------------
    def batches(self) -> list[Batch]:
        """Every upload, newest first."""
        return _incidents.batches(self)

    def batch(self, batch_id: int) -> Batch:
        """One upload."""
        return _incidents.batch(self, batch_id)

    def rejected_rows(self, batch_id: int) -> pd.DataFrame:
        """The rejected rows of an upload of the current scenario, with line numbers and reasons."""
        return self.frame(
            "SELECT line_no, reason, raw FROM rejected_rows WHERE batch_id = ? AND batch_id IN "
            "(SELECT batch_id FROM batches WHERE scenario_id = ?) ORDER BY line_no",
            (int(batch_id), self.scenario_id),
        )

    def verification_history(self, incident_id: int) -> pd.DataFrame:
        """Every verification change of an incident of the current scenario, oldest first."""
        return self.frame(
            "SELECT old, new, user_name, at, note FROM verification_log WHERE incident_id = ? "
            "AND incident_id IN (SELECT incident_id FROM incidents WHERE scenario_id = ?) ORDER BY at",
            (int(incident_id), self.scenario_id),
        )

    # -- links between reports of one event ----------------------------------------------------
    def links(
        self,
        *,
        incident_id: int | None = None,
        status: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> pd.DataFrame:
        """
        Links between reports that may be one event (see :mod:`geo.core.duplicates`).

        Parameters
        ----------
        incident_id
            Only the links of this incident, on either side.
        status, kind
            Only links with this review status, or of this kind.
        limit, offset
            Most links to return, after skipping ``offset`` of them (a page of a review queue).
        newest_first
            Order by the later report's id, newest first (default: oldest first).

        Returns
        -------
        pandas.DataFrame
            ``incident_id`` (the later report), ``other_id`` (the earlier one), ``kind``,
            ``status``, ``distance_m``, ``gap_s``, ``batch_id``, ``reviewed_by``,
            ``reviewed_at`` and ``note``, by ids.
        """
        return _links.links(
            self,
            incident_id=incident_id,
            status=status,
            kind=kind,
            limit=limit,
            offset=offset,
            newest_first=newest_first,
        )

    def link_counts(self, *, kind: str | None = None) -> dict[str, int]:
        """How many links have each review status (statuses with none are left out)."""
        return _links.link_counts(self, kind=kind)

    def groups(self) -> pd.DataFrame:
        """``incident_id``, ``group_id``, ``unit_id`` of every incident counted in a group of reports."""
        return _links.groups(self)

    def group_of(self, incident_id: int) -> pd.DataFrame:
        """
        The reports of the group an incident is counted in; empty when it is in none.

        Columns ``incident_id``, ``source``, ``duplicate_group`` and ``duplicate_unit``:
        what :func:`geo.core.duplicates.count_events` reads.
        """
        return _links.group_of(self, incident_id)

    def linked(self, incident_id: int) -> pd.DataFrame:
        """
        The reports linked to an incident, one row per link, by id.

        Columns ``other_id``, the link's ``kind``, ``status``, ``distance_m``, ``gap_s``,
        ``reviewed_by``, ``reviewed_at`` and ``note``, and the other report's ``source``,
        ``source_event_id``, ``occurred_at`` and ``category``.
        """
        return _links.linked(self, incident_id)

    def link_generation(self) -> int:
        """A counter that grows whenever the groups of linked reports change."""
        return int(self.meta("link_generation") or 0)

    def regroup(self, tx: Tx) -> None:
        """Recompute the groups of linked reports from the links (inside ``tx``)."""
        _links.regroup(tx)
