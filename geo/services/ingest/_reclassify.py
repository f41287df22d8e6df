"""Rewrites of every verdict: reclassify against the stored scenario, or load a new one."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from geo.core.auth import OPERATOR, Principal, require
from geo.core.classify import classify, prepare
from geo.core.model import CLASSIFICATION_COLUMNS, Scenario
from geo.services.ingest._common import Progress, ReclassifySummary, no_progress, require_scenario, zone_links
from geo.store import Store, Tx

_CLASSIFY_INPUT = (
    "incident_id",
    "occurred_at",
    "occurred_from",
    "occurred_to",
    "lon",
    "lat",
    "location_precision",
    "location_uncertainty_m",
    "category",
    "weapon_class",
    "party",
    "verdict",
)


def _reclassify_in(
    tx: Tx, scenario: Scenario, progress: Progress, chunk_rows: int = 200_000
) -> ReclassifySummary:
    prep = prepare(scenario)
    sid = tx.store.scenario_id
    total = int(tx.scalar("SELECT COUNT(*) FROM incidents WHERE scenario_id = ?", (sid,)))
    done = changed = 0
    last = 0
    tx.execute(
        "DELETE FROM incident_zones WHERE incident_id IN "
        "(SELECT incident_id FROM incidents WHERE scenario_id = ?)",
        (sid,),
    )
    tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS new_classification ({', '.join(CLASSIFICATION_UPDATE_DDL)})")
    while True:
        frame = tx.frame(
            f"SELECT {', '.join(_CLASSIFY_INPUT)} FROM incidents WHERE scenario_id = ? AND incident_id > ? "
            f"ORDER BY incident_id LIMIT {chunk_rows}",
            (sid, last),
        )
        if frame.empty:
            break
        last = int(frame["incident_id"].iloc[-1])
        cls = classify(frame, prep)
        changed += int(
            (cls["verdict"].astype(str).to_numpy() != frame["verdict"].astype(str).to_numpy()).sum()
        )
        update = pd.concat([frame[["incident_id"]], cls], axis=1)
        tx.execute("DELETE FROM new_classification")
        tx.bulk_insert("new_classification", update)
        sets = ", ".join(f"{c} = n.{c}" for c in CLASSIFICATION_COLUMNS)
        ids = frame["incident_id"].to_numpy(dtype=np.int64)
        # The id range keeps SQLite from scanning the whole table for each chunk.
        tx.execute(
            f"UPDATE incidents SET {sets} FROM new_classification n "
            "WHERE incidents.incident_id = n.incident_id "
            "AND incidents.incident_id >= ? AND incidents.incident_id <= ?",
            (int(ids[0]), int(ids[-1])),
        )
        tx.insert_columns("incident_zones", zone_links(ids, cls["zones"]))
        done += len(frame)
        progress(done, total, "reclassified")
    tx.touch(rewrite=True)
    return ReclassifySummary(total=done, changed=changed)


CLASSIFICATION_UPDATE_DDL = (
    "incident_id BIGINT PRIMARY KEY",
    "zones TEXT",
    "nearest_line TEXT",
    "distance_m DOUBLE PRECISION",
    "side TEXT",
    "side_party TEXT",
    "attributed_party TEXT",
    "attribution TEXT",
    "verdict TEXT",
    "rules TEXT",
    "verdict_reason TEXT",
)


def reclassify(
    store: Store, *, actor: Principal = OPERATOR, progress: Progress = no_progress
) -> ReclassifySummary:
    """Recompute every stored classification against the stored scenario, in one transaction."""
    require(actor, "reclassify")
    scenario = require_scenario(store)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        result = _reclassify_in(tx, scenario, progress)
        tx.audit(actor, "reclassify", "incidents", {}, {"total": result.total, "changed": result.changed})
    return result


def load_scenario_into_store(
    store: Store,
    scenario: Scenario,
    *,
    manifest: str = "",
    actor: Principal = OPERATOR,
    progress: Progress = no_progress,
) -> ReclassifySummary:
    """Replace the stored scenario and reclassify every incident, in one transaction."""
    require(actor, "edit_scenario")
    before = store.scenario()
    with store.write() as tx:
        store.lock_for_ingest(tx)
        store.save_scenario(tx, scenario, manifest=manifest)
        result = _reclassify_in(tx, scenario, progress)
        tx.audit(actor, "scenario_load", scenario.name, _scenario_digest(before), _scenario_digest(scenario))
    return result


def _scenario_digest(scenario: Scenario | None) -> dict[str, Any]:
    if scenario is None:
        return {}
    return {
        "name": scenario.name,
        "zones": {
            z.id: {
                "kind": z.kind,
                "valid_from": str(z.valid_from),
                "valid_to": str(z.valid_to),
                "width_m": z.width_m,
                "side": z.side,
                "wkb_sha256": hashlib.sha256(z.geometry.wkb).hexdigest()[:16],
            }
            for z in scenario.zones
        },
        "rules": {
            r.id: {
                "zone": r.zone,
                "prohibits": list(r.prohibits),
                "parties": list(r.parties),
                "severity": r.severity,
                "text": r.text,
            }
            for r in scenario.rules
        },
    }
