"""The incident layers of a view: markers up to a threshold, hex cells beyond it."""

from __future__ import annotations

from datetime import datetime

import folium
import numpy as np
import pandas as pd

from geo.core.model import VERDICTS, Scenario
from geo.i18n import _, number
from geo.render.palette import VERDICT_PLURALS
from geo.render.webmap.cells import cell_payload
from geo.render.webmap.columns import codes, new_mask
from geo.render.webmap.elements import HexCells
from geo.render.webmap.escape import html_text
from geo.render.webmap.markers import marker_groups
from geo.render.webmap.shapes import shapes

DEFAULT_MAX_MARKERS = 3000
"""Up to this many incidents are drawn as individual markers; beyond, as hex cells."""
DEFAULT_MAX_CELLS = 20_000
"""At most this many hex cells are shipped: the cells grow until the count fits."""


def _km(width_m: float) -> str:
    return f"{width_m / 1000:g} km" if width_m >= 1000 else f"{width_m:.0f} m"


def incident_layers(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    new_since: datetime | pd.Timestamp | str | None = None,
    max_markers: int = DEFAULT_MAX_MARKERS,
    cell_m: float | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> list[folium.FeatureGroup]:
    """
    Build the incident layers of a view.

    Parameters
    ----------
    view
        Incidents with their classification (``lon``, ``lat`` and ``verdict`` at
        least; the other columns of the incident view fill the popups).
    scenario
        The scenario the view was classified against (names, rule texts, colours).
    new_since
        Incidents ingested after this instant (``ingested_at``, or ``occurred_at``
        when the view has no ``ingested_at``) are highlighted. Naive times are UTC.
    max_markers
        Up to this many incidents, draw one marker each, in one layer per verdict.
        Beyond, draw hexagonal cells with counts, plus the new incidents as markers
        if there are no more than ``max_markers`` of them. Popup free text is cut
        shorter, then markers give way to cells, if their payload would pass
        :data:`~geo.render.webmap.markers.MAX_MARKER_BYTES`.
    cell_m
        Distance between neighbouring cell centres, in meters (default: a round
        width giving about 3000 cells over the scenario's extent).
    max_cells
        Cells grow until at most this many are occupied, which bounds the payload.

    Returns
    -------
    list of folium.FeatureGroup
        Least severe first, so breaches draw on top. Pass them to
        ``st_folium(feature_group_to_add=...)`` or add them to a map.
    """
    missing = [c for c in ("lon", "lat", "verdict") if c not in view]
    if missing:
        msg = f"incident_layers: view: column {missing[0]!r} missing"
        raise ValueError(msg)
    if max_markers < 0 or max_cells < 1:
        msg = "incident_layers: max_markers must be >= 0 and max_cells >= 1"
        raise ValueError(msg)
    verdict = codes(view["verdict"], VERDICTS)
    is_new = new_mask(view, new_since)
    n = len(view)

    if n <= max_markers:
        layers = [
            (
                f"{_(VERDICT_PLURALS[VERDICTS[code]])} ({number(int(np.count_nonzero(verdict == code)))})",
                np.flatnonzero(verdict == code),
            )
            for code in range(len(VERDICTS) - 1, -1, -1)
        ]
        groups = marker_groups(view, scenario, verdict, is_new, new_since, layers)
        if groups is not None:
            return groups

    width = float(cell_m) if cell_m else shapes(scenario).cell_width_m
    payload, width = cell_payload(view, scenario, verdict, is_new, width, max_cells)
    group = folium.FeatureGroup(
        name=html_text(_("Incidents: {count} in {width} hex cells").format(count=number(n), width=_km(width)))
    )
    group.add_child(HexCells(payload))
    groups = [group]
    fresh = np.flatnonzero(is_new)
    if 0 < fresh.size <= max_markers:
        groups += (
            marker_groups(
                view,
                scenario,
                verdict,
                is_new,
                new_since,
                [(_("New incidents ({count})").format(count=number(fresh.size)), fresh)],
            )
            or []
        )
    return groups
