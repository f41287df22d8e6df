"""Helpers shared by several test packages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.core.model import INCIDENT_COLUMNS


def hand_incidents(
    rows: list[dict], *, now: pd.Timestamp, verification: str = "reported", id_prefix: str = "H"
) -> pd.DataFrame:
    """Normalised incidents from a few hand-written rows (unlisted columns get neutral values)."""
    defaults = {
        "source": "monitor-team",
        "source_event_id": "",
        "occurred_at": now - pd.Timedelta(days=2),
        "date_precision": "exact",
        "location_precision": "exact",
        "location_uncertainty_m": np.nan,
        "location_name": "",
        "category": "artillery_fire",
        "sub_category": "",
        "weapon_class": "",
        "actor": "",
        "target": "",
        "party": "north",
        "party_basis": "source",
        "fatalities": 0,
        "description": "",
        "verification": verification,
        "source_reliability": "",
        "info_credibility": "",
    }
    frame = pd.DataFrame([{**defaults, **row} for row in rows])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["occurred_from"] = frame["occurred_at"]
    frame["occurred_to"] = frame["occurred_at"]
    missing = frame["source_event_id"] == ""
    frame.loc[missing, "source_event_id"] = [f"{id_prefix}-{i + 1}" for i in np.flatnonzero(missing)]
    return frame[list(INCIDENT_COLUMNS)].astype(INCIDENT_COLUMNS)
