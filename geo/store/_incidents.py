"""Reading incidents (filtered views, by id, the cache's compact columns) and the upload history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo._errors import NotFoundError
from geo.core.filters import Filters
from geo.core.grading import allowed_for
from geo.store._columns import COMPACT_COLUMNS, FOLDED_COLUMNS, INCIDENT_COLUMNS_STORED, selected

if TYPE_CHECKING:
    from geo.store._base import Store

_ID_CHUNK = 500
"""Ids bound in one ``IN (…)`` list."""


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
    upload_key: str = ""
    """The file's digest with the options it was read with and the scenario it was read against
    (empty for uploads stored before schema version 5)."""


def where(store: Store, filters: Filters) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause and its parameters that select what ``filters`` pass, in the store's scenario."""
    clauses: list[str] = ["scenario_id = ?"]
    params: list[Any] = [store.scenario_id]
    if filters.since is not None:
        clauses.append("occurred_at >= ?")
        params.append(store.encode_times(pd.Series([filters.since]))[0])
    if filters.until is not None:
        clauses.append("occurred_at < ?")
        params.append(store.encode_times(pd.Series([filters.until]))[0])
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
        clauses.append("(" + " OR ".join(store.contains(c) for c in FOLDED_COLUMNS) + ")")
        params += [filters.text.casefold()] * len(FOLDED_COLUMNS)
    if filters.grade:
        reliability, credibility = allowed_for(filters.grade)
        clauses.append(
            f"source_reliability IN ({', '.join('?' * len(reliability))}) "
            f"AND info_credibility IN ({', '.join('?' * len(credibility))})"
        )
        params += [*reliability, *credibility]
    return " WHERE " + " AND ".join(clauses), params


def query(
    store: Store,
    filters: Filters | None = None,
    *,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    order: str = "occurred_at DESC, incident_id DESC",
    after_id: int | None = None,
) -> pd.DataFrame:
    """Incidents with their classification, filtered (see :meth:`geo.store.Store.query`)."""
    clause, params = where(store, filters or Filters())
    if after_id is not None:
        clause += " AND incident_id > ?"
        params.append(int(after_id))
    sql = f"SELECT {selected(columns or INCIDENT_COLUMNS_STORED)} FROM incidents{clause} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store.frame(sql, params)


def count(store: Store, filters: Filters | None = None) -> int:
    """How many incidents pass ``filters``."""
    clause, params = where(store, filters or Filters())
    return int(store.scalar(f"SELECT COUNT(*) FROM incidents{clause}", params))


def incidents_by_id(store: Store, ids: Sequence[int]) -> pd.DataFrame:
    """Full rows of the given incidents (in no particular order)."""
    ids = [int(i) for i in ids]
    if not ids:
        return query(store, limit=0)
    sql = (
        f"SELECT {selected(INCIDENT_COLUMNS_STORED)} FROM incidents WHERE scenario_id = ? AND incident_id IN "
    )
    parts = [
        store.frame(sql + f"({', '.join('?' * len(chunk))})", [store.scenario_id, *chunk])
        for chunk in (ids[i : i + _ID_CHUNK] for i in range(0, len(ids), _ID_CHUNK))
    ]
    return pd.concat(parts, ignore_index=True)


def incident(store: Store, incident_id: int) -> pd.Series:
    """One incident; :class:`NotFoundError` when there is none with that id."""
    frame = incidents_by_id(store, [incident_id])
    if frame.empty:
        msg = f"incident {incident_id}: not found"
        raise NotFoundError(msg)
    return frame.iloc[0]


def compact(store: Store, *, after_id: int = 0, limit: int | None = None) -> pd.DataFrame:
    """The columns of :data:`COMPACT_COLUMNS` for incidents with a higher id, by id (the first ``limit``)."""
    return store.frame(
        f"SELECT {', '.join(COMPACT_COLUMNS)} FROM incidents WHERE scenario_id = ? AND incident_id > ? "
        f"ORDER BY incident_id{'' if limit is None else f' LIMIT {int(limit)}'}",
        (store.scenario_id, after_id),
    )


def batches(store: Store) -> list[Batch]:
    """Every upload, newest first."""
    frame = store.frame(
        "SELECT * FROM batches WHERE scenario_id = ? ORDER BY batch_id DESC", (store.scenario_id,)
    )
    return [_batch(row) for row in frame.to_dict("records")]


def batch(store: Store, batch_id: int) -> Batch:
    """One upload; :class:`NotFoundError` when there is none with that id."""
    frame = store.frame(
        "SELECT * FROM batches WHERE batch_id = ? AND scenario_id = ?", (int(batch_id), store.scenario_id)
    )
    if frame.empty:
        msg = f"batch {batch_id}: not found"
        raise NotFoundError(msg)
    return _batch(frame.iloc[0].to_dict())


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
        upload_key=row["upload_key"],
    )
