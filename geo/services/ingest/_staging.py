"""The staging tables of an upload: a chunk written compactly, then moved into ``incidents`` by SQL.

Binding values one by one is most of what writing a chunk costs in Python, and most
columns repeat: a report's source, category, precision and verification, and its
classification (zones, nearest line, side, party, verdict, rules and reason) come in a
few hundred combinations. Each such group of columns is staged once per combination, in
a small lookup table, and each row carries the combination's code; the move joins them
back, and a zone link is made for each zone of a row's combination. Missing numbers are
bound as NaN, which the database stores as NULL (binding ``None`` costs five times more).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS
from geo.store import FOLDED_COLUMNS, Tx

STORED: tuple[str, ...] = (
    "incident_id",
    *INCIDENT_COLUMNS,
    "content_hash",
    "batch_id",
    "ingested_at",
    *CLASSIFICATION_COLUMNS,
    *FOLDED_COLUMNS,
    "scenario_id",
)
"""Every stored column of ``incidents``, in the order the move writes them."""
UPLOAD_CONSTANTS = {"batch_id": "?", "ingested_at": "?", "scenario_id": "?"}
"""Stored columns that are the same for every row of an upload: bound once, not staged."""
REPORTED = (
    "source",
    "date_precision",
    "location_precision",
    "category",
    "sub_category",
    "weapon_class",
    "party",
    "party_basis",
    "verification",
    "source_reliability",
    "info_credibility",
)
"""Reported columns staged once per combination (table ``stage_reported``)."""
CLASSIFIED = tuple(c for c in CLASSIFICATION_COLUMNS if c != "distance_m")
"""Classification columns staged once per combination (table ``stage_classified``)."""
_LOOKUPS = {"stage_reported": ("reported", REPORTED), "stage_classified": ("classified", CLASSIFIED)}
"""Lookup table -> (the code column of ``stage_incidents``, the columns it holds)."""
ROW_COLUMNS = tuple(
    c for c in STORED if c not in UPLOAD_CONSTANTS and c not in REPORTED and c not in CLASSIFIED
)
"""The columns staged for every row, beside the two codes."""

Encode = Callable[[pd.DataFrame], dict[str, list[Any]]]


def create(tx: Tx) -> None:
    """The per-connection staging tables (temporary: gone with the connection)."""
    store = tx.store
    rows = ", ".join(f"{c} {store.column_type(c)}" for c in ROW_COLUMNS)
    tx.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS stage_incidents ({rows}, reported BIGINT, classified BIGINT)"
    )
    for table, (_, columns) in _LOOKUPS.items():
        text = ", ".join(f"{c} TEXT" for c in columns)
        tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (code {store.key_type}, {text})")
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS stage_zones (classified BIGINT, zone_id TEXT, "
        "PRIMARY KEY (classified, zone_id))"
    )


def combinations(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """
    Each row's code for its combination of values in ``columns``, and the first row of each code.

    Codes are dense (0 .. n-1, in order of first appearance); missing values are a value.
    """
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        values, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * (len(uniques) + 1) + values.astype(np.int64))
        codes = codes.astype(np.int64)
    first = np.unique(codes, return_index=True)[1] if len(codes) else np.zeros(0, dtype=np.int64)
    return codes, first


@dataclass
class Encoded:
    """A chunk's staged form: the rows, the lookup tables, and the zones of each classification."""

    rows: dict[str, list[Any]]
    lookups: dict[str, dict[str, list[Any]]]
    zones: dict[str, list[Any]]

    @classmethod
    def of(cls, ids: np.ndarray, frame: pd.DataFrame, verdicts: pd.DataFrame, encode: Encode) -> Encoded:
        """Encode hashed rows (``frame``) and their classification (``verdicts``), in row order."""
        both = pd.concat([frame.reset_index(drop=True), verdicts.reset_index(drop=True)], axis=1)
        rows: dict[str, list[Any]] = {"incident_id": ids.tolist()}
        rows.update(encode(both[[c for c in ROW_COLUMNS if c != "incident_id"]]))
        lookups: dict[str, dict[str, list[Any]]] = {}
        for table, (code_column, columns) in _LOOKUPS.items():
            codes, first = combinations(both, columns)
            rows[code_column] = codes.tolist()
            lookups[table] = {"code": list(range(len(first))), **encode(both[list(columns)].iloc[first])}
        zones = _zone_sets(lookups["stage_classified"]["zones"])
        return cls(rows, lookups, zones)

    def stage(self, tx: Tx) -> None:
        """Replace the staging tables' rows with this chunk's."""
        for table in ("stage_incidents", *_LOOKUPS, "stage_zones"):
            tx.execute(f"DELETE FROM {table}")
        tx.insert_columns("stage_incidents", self.rows)
        for table, columns in self.lookups.items():
            tx.insert_columns(table, columns)
        tx.insert_columns("stage_zones", self.zones)


def _zone_sets(zones: list[Any]) -> dict[str, list[Any]]:
    """``classified`` code, ``zone_id``: one row per zone of each classification's ``;``-separated zones."""
    codes: list[int] = []
    ids: list[str] = []
    for code, value in enumerate(zones):
        for zone_id in dict.fromkeys(z for z in str(value).split(";") if z):
            codes.append(code)
            ids.append(zone_id)
    return {"classified": codes, "zone_id": ids}


def move(tx: Tx, ids: np.ndarray, batch_id: int, ingested_at: Any) -> int:
    """
    Move the staged chunk into ``incidents`` and its zone links into ``incident_zones``.

    Rows whose source and event id are already stored stay out (``ON CONFLICT DO NOTHING``).
    Returns how many rows went in.
    """
    lookup = {
        c: f"{alias}.{c}" for alias, (_, cols) in zip("rc", _LOOKUPS.values(), strict=True) for c in cols
    }
    picked = ", ".join(UPLOAD_CONSTANTS.get(c) or lookup.get(c) or f"s.{c}" for c in STORED)
    # CROSS JOIN keeps the staged rows as the outer loop in SQLite, in id order.
    moved = tx.execute(
        f"INSERT INTO incidents ({', '.join(STORED)}) SELECT {picked} FROM stage_incidents s "
        "CROSS JOIN stage_reported r CROSS JOIN stage_classified c "
        "WHERE r.code = s.reported AND c.code = s.classified ORDER BY s.incident_id ON CONFLICT DO NOTHING",
        (int(batch_id), ingested_at, tx.store.scenario_id),
    ).rowcount
    links = (
        "INSERT INTO incident_zones (zone_id, incident_id) SELECT z.zone_id, s.incident_id "
        "FROM stage_incidents s CROSS JOIN stage_zones z WHERE z.classified = s.classified"
    )
    if moved == len(ids):
        tx.execute(links)
    else:  # only the links of incidents that went in
        tx.execute(
            f"{links} AND EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = s.incident_id "
            "AND i.incident_id >= ? AND i.incident_id <= ?)",
            (int(ids[0]), int(ids[-1])),
        )
    return int(moved)


def stayed_out(tx: Tx) -> np.ndarray:
    """The ids of the staged rows that :func:`move` left out (their key was already stored)."""
    rows = tx.execute(
        "SELECT s.incident_id FROM stage_incidents s "
        "WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = s.incident_id)"
    ).fetchall()
    return np.asarray([row[0] for row in rows], dtype=np.int64)
