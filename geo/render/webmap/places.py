"""Places and rivers on the live map and in its standalone export (:mod:`geo.render.places`).

Rivers are a GeoJSON layer in the background pane. Places go to the browser as one JSON
payload, biggest first, with the zoom from which each may be labelled; ``places.js``
labels those in view from that zoom on, leaving out labels that would overlap a bigger
place's, and sets the names with ``textContent``. The credit line goes to Leaflet's
attribution control.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement

from geo.i18n import _
from geo.render.around import lon_window
from geo.render.places import attribution, places_in, rivers_in
from geo.render.webmap.basemap import PANE as BACKGROUND_PANE
from geo.render.webmap.escape import html_text, script_json
from geo.render.webmap.resources import template
from geo.render.webmap.shapes import feature

PLACES_PANE = "tlPlaces"
"""Place labels go above the background and zones, under the incidents."""
RIVER_COLOUR = "#6a9fd4"
MIN_MARGIN_DEG = 1.0


class PlaceLabels(MacroElement):
    """Place labels by zoom level (see ``places.js``); the parent is a feature group on the map."""

    _template = template("places.html.j2")

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PlaceLabels"
        self.data = payload
        self.payload = script_json(payload)


def places_payload(box: tuple[float, float, float, float], credit: str) -> dict[str, Any]:
    """The JSON the browser gets: the places in ``box``, biggest first, and the credit line (HTML)."""
    found = places_in(box)
    return {
        "name": [p.name for p in found],
        "local": [p.local for p in found],
        "lat": [round(p.lat, 5) for p in found],
        "lon": [round(p.lon, 5) for p in found],
        "zoom": [p.min_zoom for p in found],
        "pane": PLACES_PANE,
        "attribution": html_text(credit),
    }


def add_places_and_rivers(m: folium.Map, bounds: tuple[float, float, float, float]) -> None:
    """Add the rivers and the place labels around ``bounds`` (lon/lat, possibly past ±180)."""
    xmin, ymin, xmax, ymax = bounds
    margin = max(MIN_MARGIN_DEG, 0.5 * max(xmax - xmin, ymax - ymin))
    west, east = lon_window(xmin - margin, xmax + margin)
    box = (west, max(ymin - margin, -90.0), east, min(ymax + margin, 90.0))
    rivers, osm = rivers_in((max(west, -180.0), box[1], min(east, 180.0), box[3]))
    found = places_in(box)
    credit = attribution(places=bool(found), rivers=bool(rivers), osm=osm)
    if rivers:
        group = folium.FeatureGroup(name=html_text(_("Rivers")), show=True)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [feature(g, tolerance=0.0005) for g in rivers]},
            style_function=lambda _f: {"color": RIVER_COLOUR, "weight": 1.4, "opacity": 0.9},
            interactive=False,
            control=False,
            pane=BACKGROUND_PANE,
        ).add_to(group)
        group.add_to(m)
    if found:
        folium.map.CustomPane(PLACES_PANE, z_index=390, pointer_events=False).add_to(m)
        group = folium.FeatureGroup(name=html_text(_("Places")), show=True)
        group.add_child(PlaceLabels(places_payload(box, credit)))
        group.add_to(m)
