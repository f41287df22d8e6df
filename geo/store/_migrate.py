"""Migration steps that need Python as well as SQL: run after their version's SQL, in its transaction."""

from __future__ import annotations

import json
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from geo._paths import DATA
from geo.core.duplicates import content_hash, hash_event_ids
from geo.core.filters import SEARCHED, fold
from geo.store._audit import rechain
from geo.store._columns import FOLDED_COLUMNS
from geo.store._schema import AUDIT_TRIGGERS, statements
from geo.store._tx import Tx

_CHUNK = 100_000
DEFAULT_SCENARIO = "default"
"""The id of a migrated store's scenario when it was loaded from no shipped pack."""


def rehash_and_fold(tx: Tx) -> None:
    """
    Version 4: rehash every incident, rename the event ids made from the old hashes, fold the text.

    A row stored without an event id was keyed ``sha:`` and the first 20 digits of its
    old content hash; it gets the same form of its new hash, so that uploading its file
    again finds it. Rows with their own event ids keep them. Then the links carried over
    from the near-duplicate flags are grouped.
    """
    store = tx.store
    columns = ("content_hash", "source_event_id", *FOLDED_COLUMNS)
    tx.execute(
        f"CREATE TEMP TABLE rehashed (incident_id {store.key_type}, "
        + ", ".join(f"{c} TEXT" for c in columns)
        + ")"
    )
    last = 0
    while True:
        frame = tx.frame(
            "SELECT incident_id, source, source_event_id, content_hash, occurred_at, lon, lat, category, "
            f"actor, party, fatalities, description FROM incidents WHERE incident_id > ? "
            f"ORDER BY incident_id LIMIT {_CHUNK}",
            (last,),
        )
        if frame.empty:
            break
        ids = frame["incident_id"].to_numpy(dtype=np.int64)
        last = int(ids[-1])
        old_ids = frame["source_event_id"].astype(str)
        made = (old_ids == hash_event_ids(frame["content_hash"])).to_numpy()
        new_hash = frame.assign(content_hash=content_hash(frame))["content_hash"]
        event_ids = old_ids.where(~made, hash_event_ids(new_hash))
        tx.execute("DELETE FROM rehashed")
        tx.insert_columns(
            "rehashed",
            {
                "incident_id": ids.tolist(),
                "content_hash": new_hash.tolist(),
                "source_event_id": event_ids.tolist(),
                **{f"{c}_folded": fold(frame[c]).tolist() for c in SEARCHED},
            },
        )
        sets = ", ".join(f"{c} = n.{c}" for c in columns)
        tx.execute(
            f"UPDATE incidents SET {sets} FROM rehashed n WHERE incidents.incident_id = n.incident_id "
            "AND incidents.incident_id >= ? AND incidents.incident_id <= ?",
            (int(ids[0]), last),
        )
    tx.execute("DROP TABLE rehashed")
    store.regroup(tx)


def name_the_store(tx: Tx) -> None:
    """Version 5: a random id for the store, which files derived from it (the cache's) carry."""
    tx.meta_set("store_id", uuid.uuid4().hex)


def adopted_scenario_id(meta: dict[str, Any]) -> str:
    """
    The id an existing store's one scenario takes: the shipped pack it came from, else ``default``.

    A pack (``data/scenarios/ID/pack.toml``) is recognised by its manifest's file name, as
    recorded when the scenario was loaded, or by the scenario's name.
    """
    manifest = Path(str(meta.get("manifest", ""))).name
    for spec in sorted((DATA / "scenarios").glob("*/pack.toml")):
        pack = tomllib.loads(spec.read_text(encoding="utf-8")).get("pack", {})
        file = spec.parent / str(pack.get("manifest", f"{spec.parent.name}.toml"))
        if manifest and manifest == file.name:
            return spec.parent.name
        name = tomllib.loads(file.read_text(encoding="utf-8")).get("scenario", {}).get("name", "")
        name = name.get("en", "") if isinstance(name, dict) else str(name)
        if name and meta.get("name") == name:
            return spec.parent.name
    return DEFAULT_SCENARIO


def scenarios_side_by_side(tx: Tx) -> None:
    """
    Version 8: the store's one scenario (if any) gets an id, and every row of it is stamped with it.

    Its metadata moves from ``meta.scenario`` to the ``scenarios`` table; ``meta.default_scenario``
    names it, so that commands given no scenario keep working on it.
    """
    raw = tx.scalar("SELECT value FROM meta WHERE key = 'scenario'")
    if raw is None:
        return
    meta = json.loads(raw)
    scenario_id = adopted_scenario_id(meta)
    # The audit log is append-only: its earlier entries stay store-wide (scenario_id '').
    for table in ("parties", "lines", "zones", "rules", "party_mapping", "incidents", "batches"):
        tx.execute(f"UPDATE {table} SET scenario_id = ? WHERE scenario_id = ''", (scenario_id,))
    tx.execute("INSERT INTO scenarios (scenario_id, position, meta) VALUES (?, 0, ?)", (scenario_id, raw))
    tx.execute("DELETE FROM meta WHERE key = 'scenario'")
    tx.meta_set("default_scenario", scenario_id)


def chain_the_audit_log(tx: Tx) -> None:
    """Version 9: hash-chain the audit entries already there, then create the triggers refusing rewrites."""
    rechain(tx)
    for stmt in statements(AUDIT_TRIGGERS[tx.store.dialect]):
        tx.execute(stmt)



DATA_STEPS: dict[int, Callable[[Tx], None]] = {
    4: rehash_and_fold,
    5: name_the_store,
    8: scenarios_side_by_side,
    9: chain_the_audit_log,
}
"""``DATA_STEPS[v]`` runs after the SQL of migration ``v``."""
