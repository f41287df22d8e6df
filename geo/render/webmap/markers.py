"""Incidents drawn one by one: the marker payload, and marker layers within a size bound."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import folium
import numpy as np
import pandas as pd

from geo.core.model import ATTRIBUTIONS, VERDICTS, Scenario
from geo.i18n import _, language, plural_forms
from geo.render.around import centre_lon, near_lon
from geo.render.palette import (
    ATTRIBUTION_DASHES,
    NEW_COLOUR,
    NEW_LABEL,
    UNATTRIBUTED_COLOUR,
    VERDICT_COLOURS,
    VERDICT_LABELS,
    party_colour,
    text_on,
)
from geo.render.webmap.columns import codes, encode, text_col
from geo.render.webmap.elements import IncidentMarkers
from geo.render.webmap.escape import html_text
from geo.render.webmap.popups import FIELDS, FREE_TEXT, incident_fields

MAX_MARKER_BYTES = 3_000_000
"""Marker payloads above this get shorter popup texts, then give way to cells: the map stays < 5 MB."""
_TEXT_CAPS = (2000, 400, 100)


def style_payload(scenario: Scenario) -> dict[str, Any]:
    """The palette as the map scripts read it: verdict and party colours, labels, dashes."""
    return {
        "verdictIds": list(VERDICTS),
        "verdictLabels": [_(VERDICT_LABELS[v]) for v in VERDICTS],
        "verdictColours": [VERDICT_COLOURS[v] for v in VERDICTS],
        "verdictText": [text_on(VERDICT_COLOURS[v]) for v in VERDICTS],
        "partyColours": [party_colour(p.colour, i) for i, p in enumerate(scenario.parties)],
        "unattributedColour": UNATTRIBUTED_COLOUR,
        "newColour": NEW_COLOUR,
        "newLabel": _(NEW_LABEL),
        "locale": language(),
        "texts": {
            "incidentForms": plural_forms("{count} incident", "{count} incidents"),
            "fresh": _("({count} new)"),
            "byParty": _("By party: {parties}"),
        },
        "attributions": list(ATTRIBUTIONS),
        "dashes": [ATTRIBUTION_DASHES[a] for a in ATTRIBUTIONS],
    }


def marker_payload(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    new_since: datetime | pd.Timestamp | str | None,
    cap: int,
) -> dict[str, Any]:
    """The JSON ``markers.js`` draws: positions, codes, flags and popup text cut at ``cap``.

    Longitudes are gathered around the scenario's centre, so that incidents on both sides
    of ±180° sit next to its lines (the popups keep the stored coordinates).
    """
    fields = incident_fields(view, scenario, is_new, new_since, cap)
    attribution = codes(view["attribution"], ATTRIBUTIONS) if "attribution" in view else np.full(len(view), 2)
    party = (
        codes(view["attributed_party"], [p.id for p in scenario.parties])
        if "attributed_party" in view
        else np.full(len(view), -1)
    )
    return {
        **style_payload(scenario),
        "lat": np.round(view["lat"].to_numpy(dtype=np.float64), 5).tolist(),
        "lon": np.round(near_lon(view["lon"].to_numpy(dtype=np.float64), centre_lon(scenario)), 5).tolist(),
        "v": verdict.tolist(),
        "p": party.tolist(),
        "a": np.where(attribution < 0, 2, attribution).tolist(),
        "isNew": is_new.astype(int).tolist(),
        "fields": [[key, _(label)] for key, label in FIELDS],
        "f": {k: encode(v) for k, v in fields.items()},
    }


def marker_groups(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    new_since: datetime | pd.Timestamp | str | None,
    layers: list[tuple[str, np.ndarray]],
) -> list[folium.FeatureGroup] | None:
    """One marker layer per (name, rows), within :data:`MAX_MARKER_BYTES`; None if they cannot fit.

    Popup free text is cut shorter until the payload fits; caps whose raw text alone
    would not fit are skipped without building anything.
    """
    rows = np.concatenate([r for _, r in layers]) if layers else np.zeros(0, dtype=np.int64)
    lengths = [text_col(view.iloc[rows], c).str.len().to_numpy() for c in FREE_TEXT if c in view]
    for cap in _TEXT_CAPS:
        if sum(int(np.minimum(length, cap).sum()) for length in lengths) > MAX_MARKER_BYTES:
            continue
        groups, size = [], 0
        for name, part in layers:
            element = IncidentMarkers(
                marker_payload(view.iloc[part], scenario, verdict[part], is_new[part], new_since, cap)
            )
            size += len(element.payload.encode())
            group = folium.FeatureGroup(name=html_text(name))
            group.add_child(element)
            groups.append(group)
        if size <= MAX_MARKER_BYTES:
            return groups
    return None
