"""The stored scenario: parties, lines, zones, rules and the party mapping, saved and loaded."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import shapely

from geo import clock
from geo.core.model import Line, Party, Rule, Scenario, Side, Zone
from geo.store._codec import text_or_none

if TYPE_CHECKING:
    from geo.store._base import Store
    from geo.store._tx import Tx

_TABLES = ("parties", "lines", "zones", "rules", "party_mapping")


def save_scenario(tx: Tx, scenario: Scenario, *, manifest: str = "") -> None:
    """Replace the store's current scenario (``tx.store.scenario_id``) inside ``tx``, or add it."""
    store = tx.store
    sid = store.scenario_id
    for table in _TABLES:
        tx.execute(f"DELETE FROM {table} WHERE scenario_id = ?", (sid,))
    for i, p in enumerate(scenario.parties):
        tx.execute(
            "INSERT INTO parties (scenario_id, id, name, short_name, colour, position) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (sid, p.id, p.name, p.short_name, p.colour, i),
        )
    g = store.geom_param()
    for i, ln in enumerate(scenario.lines):
        tx.execute(
            "INSERT INTO lines (scenario_id, id, name, agreement, left_party, right_party, valid_from, "
            f"valid_to, source, position, geometry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {g})",
            (
                sid,
                ln.id,
                ln.name,
                ln.agreement,
                ln.left_party,
                ln.right_party,
                store.date_param(ln.valid_from),
                store.date_param(ln.valid_to),
                ln.source,
                i,
                shapely.to_wkb(ln.geometry),
            ),
        )
    for i, z in enumerate(scenario.zones):
        tx.execute(
            "INSERT INTO zones (scenario_id, id, name, kind, valid_from, valid_to, line, width_m, side, "
            f"source, position, geometry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {g})",
            (
                sid,
                z.id,
                z.name,
                z.kind,
                store.date_param(z.valid_from),
                store.date_param(z.valid_to),
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
            "INSERT INTO rules (scenario_id, id, zone, prohibits, parties, severity, text, valid_from, "
            "valid_to, weapon_classes, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                r.id,
                r.zone,
                json.dumps(r.prohibits),
                json.dumps(r.parties),
                r.severity,
                r.text,
                store.date_param(r.valid_from),
                store.date_param(r.valid_to),
                json.dumps(r.weapon_classes),
                i,
            ),
        )
    for i, (pattern, match, party) in enumerate(scenario.party_mapping):
        tx.execute(
            "INSERT INTO party_mapping (scenario_id, position, pattern, match, party) VALUES (?, ?, ?, ?, ?)",
            (sid, i, pattern, match, party),
        )
    meta = json.dumps(
        {
            "name": scenario.name,
            "description": scenario.description,
            "synthetic": scenario.synthetic,
            "manifest": manifest,
            "repairs": list(scenario.repairs),
            "loaded_at": clock.now().isoformat(),
            "data": scenario.data,
            "attribution": scenario.attribution,
            "caveats": list(scenario.caveats),
            "translations": scenario.translations,
            "deadlines": {r.id: r.deadline.isoformat() for r in scenario.rules if r.deadline},
        }
    )
    if tx.scalar("SELECT COUNT(*) FROM scenarios WHERE scenario_id = ?", (sid,)):
        tx.execute("UPDATE scenarios SET meta = ? WHERE scenario_id = ?", (meta, sid))
    else:
        position = int(tx.scalar("SELECT COALESCE(MAX(position) + 1, 0) FROM scenarios"))
        tx.execute(
            "INSERT INTO scenarios (scenario_id, position, meta) VALUES (?, ?, ?)", (sid, position, meta)
        )
    if tx.scalar("SELECT value FROM meta WHERE key = 'default_scenario'") is None:
        tx.meta_set("default_scenario", sid)


def _day(value: Any) -> date | None:
    if value is None or value == "" or (not isinstance(value, str | date) and pd.isna(value)):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def load_scenario(store: Store) -> Scenario | None:
    """The store's current scenario (``store.scenario_id``), or ``None`` when it holds none by that id."""
    sid = store.scenario_id
    raw = store.scalar("SELECT meta FROM scenarios WHERE scenario_id = ?", (sid,))
    if raw is None:
        return None
    mine = (sid,)
    meta = json.loads(raw)
    deadlines = meta.get("deadlines", {})
    parties = tuple(
        Party(r.id, r.name, r.short_name, r.colour)
        for r in store.frame(
            "SELECT * FROM parties WHERE scenario_id = ? ORDER BY position", mine
        ).itertuples()
    )
    lines = tuple(
        Line(
            r.id,
            r.name,
            shapely.from_wkb(bytes(r.geometry)),
            text_or_none(r.left_party),
            text_or_none(r.right_party),
            r.agreement,
            _day(r.valid_from),
            _day(r.valid_to),
            r.source,
        )
        for r in store.frame(
            f"SELECT id, name, agreement, left_party, right_party, valid_from, valid_to, "
            f"source, {store.geom_select('geometry')} AS geometry FROM lines "
            "WHERE scenario_id = ? ORDER BY position",
            mine,
        ).itertuples()
    )
    zones = tuple(
        Zone(
            r.id,
            r.name,
            r.kind,
            shapely.from_wkb(bytes(r.geometry)),
            _day(r.valid_from),
            _day(r.valid_to),
            text_or_none(r.line),
            None if pd.isna(r.width_m) else float(r.width_m),
            cast("Side | None", text_or_none(r.side)),
            r.source,
        )
        for r in store.frame(
            f"SELECT id, name, kind, valid_from, valid_to, line, width_m, side, source, "
            f"{store.geom_select('geometry')} AS geometry FROM zones "
            "WHERE scenario_id = ? ORDER BY position",
            mine,
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
            _day(r.valid_from),
            _day(r.valid_to),
            tuple(json.loads(r.weapon_classes)),
            _day(deadlines.get(r.id)),
        )
        for r in store.frame("SELECT * FROM rules WHERE scenario_id = ? ORDER BY position", mine).itertuples()
    )
    mapping = tuple(
        (r.pattern, r.match, r.party)
        for r in store.frame(
            "SELECT * FROM party_mapping WHERE scenario_id = ? ORDER BY position", mine
        ).itertuples()
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
        data=meta.get("data", ""),
        attribution=meta.get("attribution", ""),
        caveats=tuple(meta.get("caveats", ())),
        translations=meta.get("translations", {}),
    )
