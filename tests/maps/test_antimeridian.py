"""The web map of a scenario across the antimeridian: one place, not two ends of the world.

A line near Fiji runs 1° of longitude along 17° S, from 179.5° E to 179.5° W, with a
10 km band around it; it is stored cut at 180°. Its map must fit about 1.2° of
longitude (the line and the band's round ends), draw the line and the band with
continuous longitudes, and put the incidents on both sides of 180° beside them. The
expected extents come from pyproj ``Geod``, not from the code under test.
"""

from __future__ import annotations

import re

import folium
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape

from geo import Scenario
from geo.render.webmap import base_map, build_map, export_html, incident_layers
from geo.render.webmap.elements import IncidentMarkers
from geo.render.webmap.shapes import feature
from tests.maps.helpers import (
    FIJI_INSIDE,
    FIJI_LAT,
    FIJI_OUTSIDE,
    FIJI_WIDTH_M,
    cells_of,
    corners,
)
from tests.maps.test_maps import groups_of, of_type

GEOD = Geod(ellps="WGS84")


def east_of(lon: np.ndarray | float, west: float) -> np.ndarray:
    """Degrees east of ``west``, in [0, 360): the same place whatever turn it is written in."""
    return (np.asarray(lon, dtype=float) - west) % 360.0


def apart(a: float, b: float) -> float:
    """How far apart two longitudes are, the short way round, in degrees."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def expected_extent() -> tuple[float, float, float, float]:
    """The band's extent on the ellipsoid: 10 km past each end of the line, 10 km north and south."""
    west, _, _ = GEOD.fwd(179.5, FIJI_LAT, 270.0, FIJI_WIDTH_M)
    east, _, _ = GEOD.fwd(-179.5, FIJI_LAT, 90.0, FIJI_WIDTH_M)
    _, north, _ = GEOD.fwd(180.0, FIJI_LAT, 0.0, FIJI_WIDTH_M)
    _, south, _ = GEOD.fwd(180.0, FIJI_LAT, 180.0, FIJI_WIDTH_M)
    return float(west), float(south), float(east), float(north)


def fitted(m: folium.Map) -> tuple[float, float, float, float]:
    (fit,) = of_type(m, folium.FitBounds)
    (south, west), (north, east) = fit.bounds
    return west, south, east, north


def scenario_layers(m: folium.Map) -> dict[str, dict]:
    """The GeoJSON of the zone and line layers, keyed by layer name."""
    groups = groups_of(m)
    return {
        name: layer.data
        for name, group in groups.items()
        if name.startswith("Zones:") or name == "Demarcation lines"
        for layer in of_type(group, folium.GeoJson)
    }


def rings(data: dict) -> list[np.ndarray]:
    """Every ring and path of a GeoJSON FeatureCollection, as (n, 2) arrays."""
    out = []
    for feat in data["features"]:
        geom = shape(feat["geometry"])
        for part in shapely.get_parts(geom):
            if isinstance(part, shapely.Polygon):
                out += [np.asarray(r.coords) for r in (part.exterior, *part.interiors)]
            else:
                out.append(np.asarray(part.coords))
    return out


def test_the_map_fits_the_band_not_the_world(fiji: Scenario) -> None:
    west, south, east, north = fitted(base_map(fiji))
    want_w, want_s, want_e, want_n = expected_extent()
    assert east - west == pytest.approx(east_of(want_e, want_w), abs=2e-3)  # about 1.19°, not 360°
    assert 1.1 < east - west < 1.3
    assert apart(west, want_w) < 2e-3
    assert (south, north) == pytest.approx((want_s, want_n), abs=1e-3)


def test_line_and_band_are_drawn_with_continuous_longitudes(fiji: Scenario) -> None:
    m = base_map(fiji)
    west, _, east, _ = fitted(m)
    layers = scenario_layers(m)
    assert set(layers) == {"Zones: Buffer zone", "Demarcation lines"}
    for name, data in layers.items():
        for coords in rings(data):
            steps = np.abs(np.diff(coords[:, 0]))
            assert steps.max() <= 1.0 + 1e-9, name  # no jump of ~360° between vertices
            assert west - 1e-6 <= coords[:, 0].min() and coords[:, 0].max() <= east + 1e-6, name
    band = shape(layers["Zones: Buffer zone"]["features"][0]["geometry"])
    assert isinstance(band, shapely.Polygon)  # the halves cut at 180° are one polygon again
    assert band.area == pytest.approx(fiji.zone("band").geometry.area, rel=1e-3)
    line = shape(layers["Demarcation lines"]["features"][0]["geometry"])
    assert line.length == pytest.approx(1.0, abs=1e-9)
    start, end = shapely.get_coordinates(line)[[0, -1], 0]
    assert end - start == pytest.approx(1.0)  # runs east, across 180°, as drawn in the manifest
    assert apart(start, 179.5) < 1e-9


def test_side_labels_spread_along_the_whole_line(fiji: Scenario) -> None:
    """Labels at 20, 50 and 80 % of the line joined again (not of its longer half)."""
    lines = groups_of(base_map(fiji))["Demarcation lines"]
    labels = [(m.location, m.icon.options["html"]) for m in of_type(lines, folium.Marker)]
    assert len(labels) == 6
    for party, above in (("North side", True), ("South side", False)):
        lats = [loc[0] for loc, html in labels if party in html]
        lons = np.sort([east_of(loc[1], 179.5) for loc, html in labels if party in html])
        assert lons == pytest.approx([0.2, 0.5, 0.8], abs=0.02)
        assert all((lat > FIJI_LAT) == above for lat in lats)
    west, _, east, _ = fitted(base_map(fiji))
    assert all(west < loc[1] < east for loc, _ in labels)


def test_markers_sit_beside_the_line(fiji: Scenario, fiji_incidents: pd.DataFrame) -> None:
    m = build_map(fiji, fiji_incidents)
    west, _, east, _ = fitted(m)
    layers = of_type(m, IncidentMarkers)
    lon = np.concatenate([layer.data["lon"] for layer in layers])
    lat = np.concatenate([layer.data["lat"] for layer in layers])
    assert len(lon) == len(fiji_incidents)
    assert ((lon > west) & (lon < east)).all()
    # The same places, written in the map's turn: a whole number of turns from the stored ones.
    stored = {(round(a % 360.0, 5), b) for a, b in (*FIJI_INSIDE, *FIJI_OUTSIDE)}
    assert {(round(a % 360.0, 5), b) for a, b in zip(lon, lat, strict=True)} == stored
    # Beside the line as drawn, in the same turn: not 360° away from it.
    line = shape(scenario_layers(m)["Demarcation lines"]["features"][0]["geometry"])
    assert lon.max() - lon.min() == pytest.approx(0.7)  # 179.6° E to 179.7° W
    near = [line.distance(shapely.Point(a, b)) for a, b in zip(lon, lat, strict=True)]
    assert max(near) < 0.31  # the farthest incidents are 33 km (0.3°) from the line


def test_cells_sit_beside_the_line(fiji: Scenario, fiji_incidents: pd.DataFrame) -> None:
    data = cells_of(fiji_incidents, fiji, cell_m=2_000)
    west, _, east, _ = fitted(base_map(fiji))
    assert int(np.sum(data["counts"])) == len(fiji_incidents)
    clon = np.asarray(data["lon"])
    assert ((clon > west) & (clon < east)).all()
    assert clon.max() - clon.min() < 1.0  # beside one another, not at the two ends of the map
    lon, lat = corners(data)
    assert (lon.max(axis=1) - lon.min(axis=1) < 0.05).all()  # 2 km cells, whole
    # Each incident lies in one hexagon drawn around it (the browser's corners, as sent),
    # in whichever turn the map writes it.
    hexagons = [shapely.Polygon(np.column_stack([a, b])) for a, b in zip(lon, lat, strict=True)]
    for a, b in zip(fiji_incidents["lon"], fiji_incidents["lat"], strict=True):
        holders = [
            h for h in hexagons for turn in (-360.0, 0.0, 360.0) if h.contains(shapely.Point(a + turn, b))
        ]
        assert len(holders) == 1, (a, b)


def test_countries_are_drawn_whole_beside_the_band(fiji: Scenario) -> None:
    (countries,) = of_type(groups_of(base_map(fiji))["Countries (Natural Earth)"], folium.GeoJson)
    west, _, east, _ = fitted(base_map(fiji))
    geoms = [shape(f["geometry"]) for f in countries.data["features"]]
    assert geoms
    middle = (west + east) / 2.0
    for geom in geoms:  # nothing from the far side of the world
        gw, _, ge, _ = geom.bounds
        assert middle - 180.0 <= gw and ge <= middle + 180.0
    # Fiji (cut at 180° in Natural Earth) is one shape across the map's 180° meridian.
    meridian = 180.0 + 360.0 * round((middle - 180.0) / 360.0)
    across = [g for g in geoms if g.bounds[0] < meridian - 0.1 and g.bounds[2] > meridian + 0.1]
    assert across
    assert all(g.bounds[3] < -15 for g in across)  # Fiji, around 17° S


def test_the_standalone_export_fits_the_band(fiji: Scenario, fiji_incidents: pd.DataFrame) -> None:
    page = export_html(build_map(fiji, fiji_incidents))
    (bounds,) = re.findall(r"map_\w+\.fitBounds\(\s*(\[\[.*?\]\])", page, flags=re.DOTALL)
    (south, west), (north, east) = eval(bounds)  # noqa: S307 - two pairs of numbers from our own page
    assert 1.1 < east - west < 1.3
    assert north - south < 0.2


def test_the_korean_demo_is_drawn_as_before(scenario: Scenario, view_400: pd.DataFrame) -> None:
    """Away from the antimeridian nothing moves: bounds, shapes and markers are the stored ones."""
    m = base_map(scenario)
    geoms = np.asarray([ln.geometry for ln in scenario.lines] + [z.geometry for z in scenario.zones])
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    assert fitted(m) == (xmin, ymin, xmax, ymax)
    drawn = [layer.data for layer in of_type(m, folium.GeoJson) if len(layer.data.get("features", [])) == 1]
    expected = [
        feature(z.geometry, tolerance=1e-4) for z in sorted(scenario.zones, key=lambda z: -z.geometry.area)
    ]
    expected += [feature(ln.geometry) for ln in scenario.lines]
    wrapped = [{"type": "FeatureCollection", "features": [{**f, "id": "0"}]} for f in expected]
    assert drawn == wrapped
    layers = [
        e for g in incident_layers(view_400, scenario, max_markers=400) for e in of_type(g, IncidentMarkers)
    ]
    assert sorted(lon for layer in layers for lon in layer.data["lon"]) == sorted(
        np.round(view_400["lon"].to_numpy(), 5).tolist()
    )
