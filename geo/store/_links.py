"""Links between reports that may be one event, and the groups they are counted in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from geo.core.duplicates import groups as link_groups

if TYPE_CHECKING:
    from geo.store._base import Store
    from geo.store._tx import Tx


_MINE = "SELECT incident_id FROM incidents WHERE scenario_id = ?"
"""The ids of the store's current scenario (one parameter: its id)."""


def links(
    store: Store,
    *,
    incident_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> pd.DataFrame:
    """The links, filtered (see :meth:`geo.store.Store.links`)."""
    clauses: list[str] = [f"incident_id IN ({_MINE})"]
    params: list[Any] = [store.scenario_id]
    if incident_id is not None:
        clauses.append("(incident_id = ? OR other_id = ?)")
        params += [int(incident_id), int(incident_id)]
    for column, value in (("status", status), ("kind", kind)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = " WHERE " + " AND ".join(clauses)
    sql = (
        "SELECT incident_id, other_id, kind, status, distance_m, gap_s, batch_id, reviewed_by, "
        f"reviewed_at, note FROM incident_links{where} ORDER BY "
        + ("incident_id DESC, other_id DESC" if newest_first else "incident_id, other_id")
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if offset:
        if limit is None and store.dialect == "sqlite":
            sql += " LIMIT -1"  # SQLite takes OFFSET only after a LIMIT
        sql += f" OFFSET {int(offset)}"
    return store.frame(sql, params)


def link_counts(store: Store, *, kind: str | None = None) -> dict[str, int]:
    """How many links have each review status (see :meth:`geo.store.Store.link_counts`)."""
    where, params = f"WHERE incident_id IN ({_MINE})", [store.scenario_id]
    if kind is not None:
        where, params = f"{where} AND kind = ?", [*params, kind]
    found = store.frame(f"SELECT status, COUNT(*) AS n FROM incident_links {where} GROUP BY status", params)
    return {str(s): int(n) for s, n in zip(found["status"], found["n"], strict=True)}


def groups(store: Store) -> pd.DataFrame:
    """``incident_id``, ``group_id``, ``unit_id`` of every incident counted in a group of reports."""
    return store.frame(
        f"SELECT incident_id, group_id, unit_id FROM incident_groups WHERE incident_id IN ({_MINE}) "
        "ORDER BY incident_id",
        (store.scenario_id,),
    )


def group_of(store: Store, incident_id: int) -> pd.DataFrame:
    """The reports of the group an incident is counted in (see :meth:`geo.store.Store.group_of`)."""
    return store.frame(
        "SELECT g.incident_id, i.source, g.group_id AS duplicate_group, g.unit_id AS duplicate_unit "
        "FROM incident_groups g JOIN incidents i ON i.incident_id = g.incident_id WHERE g.group_id = "
        "(SELECT group_id FROM incident_groups WHERE incident_id = ?) AND i.scenario_id = ? "
        "ORDER BY g.incident_id",
        (int(incident_id), store.scenario_id),
    )


def linked(store: Store, incident_id: int) -> pd.DataFrame:
    """The reports linked to an incident (see :meth:`geo.store.Store.linked`)."""
    other = "CASE WHEN l.incident_id = ? THEN l.other_id ELSE l.incident_id END"
    return store.frame(
        f"SELECT {other} AS other_id, l.kind, l.status, l.distance_m, l.gap_s, l.reviewed_by, "
        "l.reviewed_at, l.note, i.source, i.source_event_id, i.occurred_at, i.category "
        f"FROM incident_links l JOIN incidents i ON i.incident_id = {other} "
        "WHERE (l.incident_id = ? OR l.other_id = ?) AND i.scenario_id = ? ORDER BY other_id",
        (*(int(incident_id),) * 4, store.scenario_id),
    )


def regroup(tx: Tx) -> None:
    """Recompute the groups of linked reports from the links (inside ``tx``)."""
    found = tx.frame("SELECT incident_id, other_id, kind, status FROM incident_links")
    tx.execute("DELETE FROM incident_groups")
    tx.bulk_insert("incident_groups", link_groups(found))
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('link_generation', '1') ON CONFLICT (key) DO UPDATE "
        "SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
    )
