"""The small map of an incident's place: its uncertainty disk, nearest line, the zones and incidents around.

Drawn for the Incident page with the same scripts, styles and escaping as the live map:
the disks are geodesic (:func:`geo.core.surroundings.disk`), the distance to the line is
the classified one, and the incidents around are the usual markers with their popups.
"""

from __future__ import annotations

import folium
import numpy as np
import shapely
import shapely.ops

from geo.core._metric import LocalProjection
from geo.core.model import Scenario
from geo.core.surroundings import Place, disk
from geo.core.zones import metric_line
from geo.i18n import _
from geo.render.around import centre_lon, gather, near_lon
from geo.render.palette import LINE_COLOUR, UNATTRIBUTED_COLOUR, VERDICT_COLOURS, zone_style
from geo.render.webmap.assets import STATIC_URL
from geo.render.webmap.base import blank_map, layer_control_for
from geo.render.webmap.basemap import BASEMAP_PATH, add_countries
from geo.render.webmap.elements import BindPopup, Legend
from geo.render.webmap.escape import html_text, template_html
from geo.render.webmap.layers import incident_layers
from geo.render.webmap.legend import place_legend_html
from geo.render.webmap.places import add_places_and_rivers
from geo.render.webmap.popups import line_popup, zone_popup
from geo.render.webmap.shapes import feature

_PRECISE_M = 1.0
"""Below this uncertainty the location is taken as exact: no disk is drawn."""
LEGEND_WIDE_FROM = 900
"""The small map's legend opens by itself only on a map at least this wide (px)."""


def _km(metres: float) -> str:
    return f"{metres / 1000:,.3g} km" if metres >= 1000 else f"{metres:,.0f} m"


def _outline(m: folium.Map, geom: shapely.Geometry, style: dict[str, object], tip: str) -> None:
    layer = folium.GeoJson(feature(geom), style_function=lambda _, s=style: s, control=False)
    folium.Tooltip(template_html(tip), sticky=True).add_to(layer)
    layer.add_to(m)


def _connector(m: folium.Map, place: Place, lon0: float) -> None:
    """A dashed line from the incident to the nearest point of its line, labelled with the distance."""
    line, row = place.line, place.incident
    distance = row.get("distance_m")
    if line is None or distance is None or not np.isfinite(float(distance)):
        return
    projection = LocalProjection(float(row["lon"]), float(row["lat"]))
    metric = metric_line(line.geometry, projection, where=f"line[{line.id}]")
    x, y = projection.forward(np.array([float(row["lon"])]), np.array([float(row["lat"])]))
    _here, nearest = shapely.ops.nearest_points(shapely.Point(x[0], y[0]), metric)
    lon, lat = projection.inverse(np.array([nearest.x]), np.array([nearest.y]))
    here = [float(row["lat"]), float(near_lon(float(row["lon"]), lon0))]
    there = [float(lat[0]), float(near_lon(float(lon[0]), lon0))]
    tip = _("{distance} to {line}").format(distance=_km(abs(float(distance))), line=line.name)
    folium.PolyLine(
        [here, there],
        color=LINE_COLOUR,
        weight=2,
        dash_array="5 5",
        tooltip=folium.Tooltip(template_html(tip)),
        class_name="tl-connector",
    ).add_to(m)


def surroundings_map(place: Place, scenario: Scenario, *, static_url: str = STATIC_URL) -> folium.Map:
    """
    Build the small map of an incident's place.

    Parameters
    ----------
    place
        From :func:`geo.core.surroundings.place` (or :func:`geo.services.surroundings.incident_place`).
    scenario
        The scenario: zone styles, names and popups, party colours.
    static_url
        Where the vendored assets are served.

    Returns
    -------
    folium.Map
        Fitted to the search disk.
    """
    row = place.incident
    lon0 = centre_lon(scenario)
    lon, lat = float(near_lon(float(row["lon"]), lon0)), float(row["lat"])
    search = gather(disk(float(row["lon"]), lat, place.radius_m), lon0)
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.bounds(search))
    m = blank_map(lat, lon, zoom=11, static_url=static_url)
    add_countries(m, BASEMAP_PATH, (xmin, ymin, xmax, ymax), show=True)
    add_places_and_rivers(m, (xmin, ymin, xmax, ymax))
    for zone in sorted(place.zones, key=lambda z: -z.geometry.area):
        options = zone_style(zone.kind).options()
        layer = folium.GeoJson(
            feature(gather(zone.geometry, lon0), tolerance=1e-4),
            style_function=lambda _, o=options: o,
            control=False,
        )
        folium.Tooltip(template_html(zone.name), sticky=True).add_to(layer)
        layer.add_child(BindPopup(zone_popup(scenario, zone)))
        layer.add_to(m)
    if place.line is not None:
        layer = folium.GeoJson(
            feature(gather(place.line.geometry, lon0)),
            style_function=lambda _: {"color": LINE_COLOUR, "weight": 4, "opacity": 1.0},
            control=False,
        )
        folium.Tooltip(template_html(place.line.name), sticky=True).add_to(layer)
        layer.add_child(BindPopup(line_popup(scenario, place.line)))
        layer.add_to(m)
    radius_text = _("Other incidents within {radius}").format(radius=_km(place.radius_m))
    _outline(
        m,
        search,
        {"color": "#444444", "weight": 1.5, "dashArray": "6 4", "fill": False, "className": "tl-search"},
        radius_text,
    )
    colour = VERDICT_COLOURS.get(str(row.get("verdict")), UNATTRIBUTED_COLOUR)
    precision = str(row.get("location_precision") or "")
    if place.uncertainty_m >= _PRECISE_M:
        uncertainty_text = _("Location uncertain by up to {radius} ({precision})").format(
            radius=_km(place.uncertainty_m), precision=precision
        )
        style = {
            "color": colour,
            "weight": 1.5,
            "dashArray": "4 3",
            "fillColor": colour,
            "fillOpacity": 0.22,
            "className": "tl-uncertainty",
        }
        _outline(m, gather(disk(float(row["lon"]), lat, place.uncertainty_m), lon0), style, uncertainty_text)
    else:
        uncertainty_text = _("Location exact: no uncertainty disk")
    _connector(m, place, lon0)
    others = place.others
    for group in incident_layers(others, scenario) if len(others) else []:
        group.add_to(m)
    folium.CircleMarker(
        [lat, lon], radius=13, color="#000000", weight=3, fill=False, interactive=False, class_name="tl-focus"
    ).add_to(m)
    for group in incident_layers(row.to_frame().T.reset_index(drop=True), scenario):
        group.layer_name = html_text(_("This incident"))
        group.add_to(m)
    kinds = list(dict.fromkeys(z.kind for z in place.zones))
    m.add_child(
        Legend(
            place_legend_html(
                str(row.get("verdict")), kinds, radius_text=radius_text, uncertainty_text=uncertainty_text
            ),
            wide_from=LEGEND_WIDE_FROM,
        )
    )
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    layer_control_for().add_to(m)
    return m
