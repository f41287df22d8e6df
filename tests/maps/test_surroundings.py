"""An incident's place: geodesic disks, the incidents and zones around, and the small map drawn of it.

Distances are checked with pyproj's Geod, independently of the projection that draws the disks;
the map is checked by inspecting the folium objects built.
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.geometry
from pyproj import Geod

from geo import Scenario
from geo.core.surroundings import disk, place, search_box, uncertainty_radius
from geo.render.webmap import surroundings_map
from geo.render.webmap.elements import IncidentMarkers, Legend
from tests.maps.helpers import fiji_scenario, make_view

GEOD = Geod(ellps="WGS84")


def of_type(element: object, cls: type) -> list:
    found = [element] if isinstance(element, cls) else []
    for child in getattr(element, "_children", {}).values():
        found += of_type(child, cls)
    return found


def distances(lon: float, lat: float, coords: np.ndarray) -> np.ndarray:
    _, _, d = GEOD.inv(np.full(len(coords), lon), np.full(len(coords), lat), coords[:, 0], coords[:, 1])
    return np.asarray(d)


@pytest.mark.parametrize(
    ("lon", "lat", "radius"), [(127.0, 38.0, 250.0), (126.5, 37.9, 25_000.0), (20.0, 70.0, 2_000.0)]
)
def test_a_disk_is_geodesic_every_vertex_at_the_radius(lon: float, lat: float, radius: float) -> None:
    coords = shapely.get_coordinates(disk(lon, lat, radius))
    assert np.abs(distances(lon, lat, coords) - radius).max() < radius * 1e-9 + 1e-6
    # Not a circle in degrees: at 70 N a degree of longitude is a third of a degree of latitude.
    span = coords.max(axis=0) - coords.min(axis=0)
    assert span[0] / span[1] == pytest.approx(1 / np.cos(np.radians(lat)), rel=0.02)


def test_a_disk_across_the_antimeridian_stays_whole_and_its_search_box_reaches_both_sides() -> None:
    shape = disk(179.99, -17.0, 5_000.0)
    lons = shapely.get_coordinates(shape)[:, 0]
    assert lons.min() < 180.0 < lons.max() and shape.is_valid
    west, _, east, _ = search_box(179.99, -17.0, 5_000.0)
    assert (west, east) == (-180.0, 180.0)


def test_the_uncertainty_radius_is_the_given_one_else_the_precisions_default() -> None:
    assert uncertainty_radius({"location_uncertainty_m": 250.0, "location_precision": "area"}) == 250.0
    assert uncertainty_radius({"location_uncertainty_m": np.nan, "location_precision": "near"}) == 2_000.0
    assert uncertainty_radius({"location_uncertainty_m": None, "location_precision": "area"}) == 25_000.0
    assert uncertainty_radius({"location_precision": "exact"}) == 0.0


@pytest.fixture(scope="module")
def view(scenario: Scenario) -> pd.DataFrame:
    return make_view(scenario, 1500, seed=4)


def test_place_keeps_the_incidents_within_the_radius_by_geodesic_distance(
    scenario: Scenario, view: pd.DataFrame
) -> None:
    row = view.iloc[10]
    found = place(row, view, scenario, radius_m=10_000.0)
    d = distances(float(row["lon"]), float(row["lat"]), view[["lon", "lat"]].to_numpy())
    expected = set(view["incident_id"][(d <= 10_000.0)]) - {row["incident_id"]}
    assert set(found.others["incident_id"]) == expected and expected
    assert found.others["distance_from_m"].is_monotonic_increasing
    assert found.line is not None and found.line.id == "mdl"
    near = {z.id for z in found.zones}
    search = disk(float(row["lon"]), float(row["lat"]), 10_000.0)
    assert near == {z.id for z in scenario.zones if z.geometry.intersects(search)}


def test_the_small_map_shows_the_incident_its_disk_the_line_and_the_incidents_around(
    scenario: Scenario, view: pd.DataFrame
) -> None:
    row = view[(view["location_precision"] == "near") & (view["verdict"] == "possible_breach")].iloc[0]
    found = place(row, view, scenario, radius_m=25_000.0)
    m = surroundings_map(found, scenario)
    lon, lat = float(row["lon"]), float(row["lat"])
    shapes = {}
    for layer in of_type(m, folium.GeoJson):
        style = layer.style_function(None)
        if isinstance(style, dict) and style.get("className"):
            data = layer.data["features"][0] if "features" in layer.data else layer.data
            shapes[style["className"]] = np.asarray(data["geometry"]["coordinates"][0])
    assert np.abs(distances(lon, lat, shapes["tl-uncertainty"]) - 2_000.0).max() < 2.0  # 1e-5 degree rounding
    assert np.abs(distances(lon, lat, shapes["tl-search"]) - 25_000.0).max() < 2.0
    (ring,) = [c for c in of_type(m, folium.CircleMarker) if c.options.get("className") == "tl-focus"]
    assert ring.location == [lat, lon]
    (connector,) = [p for p in of_type(m, folium.PolyLine) if p.options.get("className") == "tl-connector"]
    (a, b) = connector.locations
    assert a == [lat, lon]
    _, _, length = GEOD.inv(a[1], a[0], b[1], b[0])
    assert length == pytest.approx(abs(float(row["distance_m"])), rel=1e-3, abs=1.0)
    mdl = scenario.line("mdl").geometry
    assert mdl.distance(shapely.Point(b[1], b[0])) < 1e-6  # it ends on the line
    markers = of_type(m, IncidentMarkers)
    drawn = sum(e.count for e in markers)
    assert drawn == len(found.others) + 1
    assert any(e.count == 1 and e.data["lat"] == [round(lat, 5)] for e in markers)
    (legend,) = of_type(m, Legend)
    assert "This incident" in legend.html and "within 25 km" in legend.html
    assert "Location uncertain by up to 2 km (near)" in legend.html


def test_an_exact_location_has_no_disk_and_a_map_across_the_antimeridian_keeps_its_place(tmp_path) -> None:
    scenario = fiji_scenario(tmp_path)
    row = pd.Series(
        {
            "incident_id": 1,
            "lon": -179.99,
            "lat": -17.02,
            "location_precision": "exact",
            "location_uncertainty_m": np.nan,
            "verdict": "breach",
            "attributed_party": "north",
            "nearest_line": "l",
            "distance_m": -2226.0,
            "occurred_at": pd.Timestamp("2025-06-01T00:00:00Z"),
        }
    )
    found = place(row, pd.DataFrame(columns=row.index), scenario, radius_m=5_000.0)
    m = surroundings_map(found, scenario)
    classes = {
        layer.style_function(None).get("className")
        for layer in of_type(m, folium.GeoJson)
        if isinstance(layer.style_function(None), dict)
    }
    assert "tl-uncertainty" not in classes and "tl-search" in classes
    (ring,) = [c for c in of_type(m, folium.CircleMarker) if c.options.get("className") == "tl-focus"]
    # Gathered with the line around the scenario's centre: one place, not two ends of the world.
    line = next(g for g in of_type(m, folium.GeoJson) if g.style_function(None).get("weight") == 4)
    data = line.data["features"][0] if "features" in line.data else line.data
    line_lons = shapely.get_coordinates(shapely.geometry.shape(data["geometry"]))[:, 0]
    assert line_lons.min() < ring.location[1] < line_lons.max()
    assert line_lons.max() - line_lons.min() < 2.0


def test_the_small_map_names_the_places_around_the_incident(scenario: Scenario, view: pd.DataFrame) -> None:
    from geo.render.webmap.places import PlaceLabels

    row = view.iloc[0]
    m = surroundings_map(place(row, view, scenario, radius_m=10_000.0), scenario)
    (labels,) = of_type(m, PlaceLabels)
    lon = np.array(labels.data["lon"])
    lat = np.array(labels.data["lat"])
    near = distances(float(row["lon"]), float(row["lat"]), np.column_stack([lon, lat])) <= 30_000.0
    assert near.sum() >= 3  # the towns and villages within 30 km are there to be labelled
