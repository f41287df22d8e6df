"""An incident's place, read from a store: what the Incident page's small map shows."""

from __future__ import annotations

import pandas as pd

from geo._errors import InputError, StoreError
from geo.core.auth import Principal, require
from geo.core.filters import Filters
from geo.core.surroundings import Place, place, search_box
from geo.store import Store

MAX_RADIUS_M = 200_000.0


def incident_place(
    store: Store, incident_id: int, *, actor: Principal, radius_m: float = 10_000.0, days: float | None = 7.0
) -> Place:
    """
    An incident, the zones and line near it, and the other incidents around it.

    Parameters
    ----------
    store
        The store.
    incident_id
        The incident.
    actor
        Who asks (needs ``view``).
    radius_m
        How far around it to look (geodesic meters, at most 200 km).
    days
        Only incidents this many days either side of it; ``None``: any time.

    Returns
    -------
    Place

    Raises
    ------
    NotFoundError
        No such incident.
    """
    require(actor, "view")
    if not 0 < radius_m <= MAX_RADIUS_M:
        msg = f"incident {incident_id}: radius: must be in (0, {MAX_RADIUS_M:,.0f}] m, got {radius_m}"
        raise InputError(msg)
    scenario = store.scenario()
    if scenario is None:
        msg = f"{store.url}: no scenario loaded"
        raise StoreError(msg)
    row = store.incident(incident_id)
    filters = Filters(bbox=search_box(float(row["lon"]), float(row["lat"]), radius_m))
    if days is not None:
        when = pd.Timestamp(row["occurred_at"])
        span = pd.Timedelta(days=days)
        filters = filters.with_(since=(when - span).to_pydatetime(), until=(when + span).to_pydatetime())
    return place(row, store.query(filters), scenario, radius_m=radius_m)
