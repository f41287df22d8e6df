"""Migration steps that need Python as well as SQL: run after their version's SQL, in its transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import numpy as np

from geo.core.duplicates import content_hash, hash_event_ids
from geo.core.filters import SEARCHED, fold
from geo.store._audit import rechain
from geo.store._columns import FOLDED_COLUMNS
from geo.store._schema import AUDIT_TRIGGERS, statements
from geo.store._tx import Tx

_CHUNK = 100_000


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


def chain_the_audit_log(tx: Tx) -> None:
    """Version 6: hash-chain the audit entries already there, then create the triggers refusing rewrites."""
    rechain(tx)
    for stmt in statements(AUDIT_TRIGGERS[tx.store.dialect]):
        tx.execute(stmt)


DATA_STEPS: dict[int, Callable[[Tx], None]] = {4: rehash_and_fold, 5: name_the_store, 6: chain_the_audit_log}
"""``DATA_STEPS[v]`` runs after the SQL of migration ``v``."""
