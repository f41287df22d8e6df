"""The write transaction: the primitives the pipelines in ``geo.services`` use, and the audit log."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo import clock
from geo.core.auth import Principal
from geo.core.names import MAX_AUDIT_FIELD, clip
from geo.store import _audit

if TYPE_CHECKING:
    from geo.store._base import Store


class Tx:
    """
    An open write transaction (see :meth:`geo.store.Store.write`).

    Parameters
    ----------
    store
        The store it writes to.
    cursor
        A cursor of the connection that holds the transaction.
    """

    def __init__(self, store: Store, cursor: Any) -> None:
        self.store = store
        self.cur = cursor
        self.committed: list[Callable[[], None]] = []
        """What to run once the transaction has committed (never when it rolls back)."""

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this transaction has committed."""
        self.committed.append(action)

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
        """Insert already-encoded columns (see :meth:`geo.store.Store.encode`) into ``table``."""
        if columns and len(next(iter(columns.values()))):
            self.store.bulk_insert(self.cur, table, columns)

    def meta_set(self, key: str, value: str) -> None:
        """Set a ``meta`` value."""
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def audit(
        self,
        actor: Principal,
        action: str,
        target: str,
        before: dict[str, Any],
        after: dict[str, Any],
        *,
        store_wide: bool = False,
    ) -> None:
        """
        Append an entry to the audit log, inside this transaction, extending its hash chain.

        The entry belongs to the store's current scenario, unless ``store_wide`` (accounts,
        settings): those show in every scenario's audit. The user name and target are
        clipped to :data:`geo.core.names.MAX_AUDIT_FIELD` characters (a sign-in form accepts
        anything as a name).
        """
        self.store.lock_for_ingest(self)  # one appender at a time: the chain has one head
        _audit.append(
            self,
            {
                "at": clock.now(),
                "user_name": clip(str(actor.name), MAX_AUDIT_FIELD),
                "action": action,
                "target": clip(str(target), MAX_AUDIT_FIELD),
                "before": json.dumps(before, sort_keys=True, default=str, ensure_ascii=False),
                "after": json.dumps(after, sort_keys=True, default=str, ensure_ascii=False),
                "scenario_id": "" if store_wide else self.store.scenario_id,
            },
        )

    def touch(self, *, rewrite: bool) -> None:
        """Record a change: ``rewrite`` when existing rows changed (not only new rows)."""
        self.meta_set("changed_at", clock.now().isoformat())
        if rewrite:
            self.execute(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'"
            )
