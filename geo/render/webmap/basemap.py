"""The map's background: the shipped Natural Earth countries, clipped around the scenario.

The clip box may run past ±180 (a scenario across the antimeridian): the countries are
then taken from both sides and moved next to the scenario (:func:`geo.render.around.clip_around`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import folium
import shapely

from geo._paths import DATA
from geo.i18n import _
from geo.render.around import clip_around, lon_window
from geo.render.palette import COUNTRY_BORDER, LAND
from geo.render.webmap.escape import html_text
from geo.render.webmap.shapes import feature

BASEMAP_PATH = DATA / "basemap" / "naturalearth_lowres.shp"
PANE = "tlBasemap"
"""Countries go in a pane under the overlay pane, so that canvas-drawn cells show above them."""


@cache
def countries(path: Path, box: tuple[float, float, float, float]) -> tuple[dict[str, Any], ...]:
    """Natural Earth countries clipped to ``box`` (lon/lat, at most one turn wide), as GeoJSON features."""
    from pyogrio.raw import read

    _, _, wkb, _ = read(str(path), columns=[])
    _, geoms = clip_around(shapely.from_wkb(wkb), box)
    return tuple(feature(g, tolerance=0.005) for g in geoms)


def add_countries(
    m: folium.Map, path: str | Path, bounds: tuple[float, float, float, float], *, show: bool
) -> None:
    """Add the countries around ``bounds`` (lon/lat, possibly past ±180) as a layer in their own pane."""
    xmin, ymin, xmax, ymax = bounds
    margin = max(15.0, 3.0 * max(xmax - xmin, ymax - ymin))
    west, east = lon_window(xmin - margin, xmax + margin)
    box = (west, max(ymin - margin, -90.0), east, min(ymax + margin, 90.0))
    group = folium.FeatureGroup(name=html_text(_("Countries (Natural Earth)")), show=show)
    folium.map.CustomPane(PANE, z_index=250, pointer_events=False).add_to(m)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": list(countries(Path(path), box))},
        style_function=lambda _: {
            "color": COUNTRY_BORDER,
            "weight": 0.8,
            "fillColor": LAND,
            "fillOpacity": 1.0,
        },
        interactive=False,
        control=False,
        pane=PANE,
    ).add_to(group)
    group.add_to(m)
