"""The small map of two reports that may be one event: both places, their uncertainty, the gap between."""

from __future__ import annotations

import folium
import pandas as pd
import shapely

from geo.core.categories import vocabulary
from geo.core.model import Scenario
from geo.core.surroundings import disk
from geo.i18n import _
from geo.render.around import centre_lon, gather, near_lon
from geo.render.palette import LINE_COLOUR, UNATTRIBUTED_COLOUR, VERDICT_COLOURS, zone_style
from geo.render.webmap.assets import STATIC_URL
from geo.render.webmap.base import blank_map
from geo.render.webmap.basemap import BASEMAP_PATH, add_countries
from geo.render.webmap.escape import template_html
from geo.render.webmap.layers import incident_layers
from geo.render.webmap.places import add_places_and_rivers
from geo.render.webmap.shapes import feature

_MIN_SPAN_M = 1500.0
"""The map shows at least this far around the pair."""
_LABEL_STYLE = "font:bold 13px sans-serif;margin:-26px 0 0 12px"
PAIR_LABELS = ("A", "B")
"""How the map and the page name the two reports: A the earlier, B the later."""


def _uncertainty(report: pd.Series) -> float:
    given = report.get("location_uncertainty_m")
    if given is not None and not pd.isna(given):
        return float(given)
    defaults = vocabulary().uncertainty_m
    return float(defaults.get(str(report.get("location_precision") or ""), defaults["region"]))


def pair_map(
    earlier: pd.Series, later: pd.Series, scenario: Scenario, *, static_url: str = STATIC_URL
) -> folium.Map:
    """
    Build the small map of two linked reports.

    Each report is its usual marker (with its popup), ringed and labelled A (the earlier)
    or B (the later), with its location uncertainty as a shaded geodesic disk; a dashed
    line joins them. The scenario's lines and zones near them are drawn for orientation.

    Parameters
    ----------
    earlier, later
        The two reports: incident-view rows (``lon``, ``lat``, ``verdict`` at least).
    scenario
        The scenario: zone styles, lines, party colours.
    static_url
        Where the vendored assets are served.

    Returns
    -------
    folium.Map
        Fitted to both uncertainty disks.
    """
    lon0 = centre_lon(scenario)
    reports = [earlier, later]
    disks = [
        gather(disk(float(r["lon"]), float(r["lat"]), max(_uncertainty(r), _MIN_SPAN_M / 2)), lon0)
        for r in reports
    ]
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.bounds(shapely.union_all(disks)))
    m = blank_map((ymin + ymax) / 2, (xmin + xmax) / 2, zoom=12, static_url=static_url)
    add_countries(m, BASEMAP_PATH, (xmin, ymin, xmax, ymax), show=True)
    add_places_and_rivers(m, (xmin, ymin, xmax, ymax))
    view = shapely.box(xmin, ymin, xmax, ymax).buffer(max(xmax - xmin, ymax - ymin))
    for zone in sorted(scenario.zones, key=lambda z: -z.geometry.area):
        shape = gather(zone.geometry, lon0)
        if not shape.intersects(view):
            continue
        options = zone_style(zone.kind).options()
        layer = folium.GeoJson(
            feature(shape.intersection(view), tolerance=1e-4),
            style_function=lambda _, o=options: o,
            control=False,
        )
        folium.Tooltip(template_html(zone.name), sticky=True).add_to(layer)
        layer.add_to(m)
    for line in scenario.lines:
        shape = gather(line.geometry, lon0)
        if not shape.intersects(view):
            continue
        layer = folium.GeoJson(
            feature(shape.intersection(view)),
            style_function=lambda _: {"color": LINE_COLOUR, "weight": 4, "opacity": 1.0},
            control=False,
        )
        folium.Tooltip(template_html(line.name), sticky=True).add_to(layer)
        layer.add_to(m)
    points = [[float(r["lat"]), float(near_lon(float(r["lon"]), lon0))] for r in reports]
    for report, label in zip(reports, PAIR_LABELS, strict=True):
        colour = VERDICT_COLOURS.get(str(report.get("verdict")), UNATTRIBUTED_COLOUR)
        if _uncertainty(report) >= 1.0:
            real = gather(disk(float(report["lon"]), float(report["lat"]), _uncertainty(report)), lon0)
            style = {
                "color": colour,
                "weight": 1.5,
                "dashArray": "4 3",
                "fillColor": colour,
                "fillOpacity": 0.18,
            }
            layer = folium.GeoJson(feature(real), style_function=lambda _, s=style: s, control=False)
            tip = _("Report {label}: location uncertain by up to {radius} m").format(
                label=label, radius=f"{_uncertainty(report):,.0f}"
            )
            folium.Tooltip(template_html(tip), sticky=True).add_to(layer)
            layer.add_to(m)
    folium.PolyLine(points, color="#000000", weight=2, dash_array="6 4", class_name="tl-pair").add_to(m)
    frame = pd.DataFrame(reports).reset_index(drop=True)
    for group in incident_layers(frame, scenario):
        group.add_to(m)
    for (lat, lon), label in zip(points, PAIR_LABELS, strict=True):
        folium.CircleMarker(
            [lat, lon],
            radius=13,
            color="#000000",
            weight=3,
            fill=False,
            interactive=False,
            class_name="tl-focus",
        ).add_to(m)
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(html=f'<div class="tl-pair-label" style="{_LABEL_STYLE}">{label}</div>'),
            interactive=False,
        ).add_to(m)
    m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return m
