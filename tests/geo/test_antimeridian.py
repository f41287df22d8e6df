"""A line across the antimeridian near Fiji: distances, sides and a derived zone, against Geod.

The line runs east along the parallel 17° S from 179.5° E to 179.5° W, 1° of longitude
(106.5 km). Its edges are straight in lon/lat, so it follows the parallel; the
perpendicular to a parallel is a meridian, so the distance from a point beside it is
the meridian arc to 17° S at the point's own longitude (``GEOD.inv``). North is on the
line's left.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, MultiLineString, Point

from geo.core.classify import classify
from geo.core.manifest import load_scenario
from geo.core.model import Line, Party, Rule, Scenario, Zone
from geo.core.zones import derive_zone_geometry, scenario_projection
from tests.conftest import write_geojson
from tests.geo.reference import GEOD, edge_distance, geodesic_distance_to_line, offset

LAT = -17.0
SPLIT = MultiLineString([[(179.5, LAT), (180.0, LAT)], [(-180.0, LAT), (-179.5, LAT)]])
FORMS = {
    "one edge across": LineString([(179.5, LAT), (-179.5, LAT)]),
    "past 180": LineString([(179.5, LAT), (180.5, LAT)]),
    "cut at 180": SPLIT,
}
PARTIES = (Party("n", "North", "N", "#aa0000"), Party("s", "South", "S", "#0000aa"))
WIDTH = 10_000.0
LONS = (179.6, 179.9, 179.999, -179.999, -179.9, -179.6)


def scenario(line: shapely.Geometry, zones: tuple[Zone, ...] = (), rules: tuple[Rule, ...] = ()) -> Scenario:
    return Scenario(
        "fiji", parties=PARTIES, lines=(Line("l", "Line", line, "n", "s"),), zones=zones, rules=rules
    )


def frame(points: list[tuple[float, float]], **extra: object) -> pd.DataFrame:
    lon, lat = zip(*points, strict=True)
    return pd.DataFrame(
        {"lon": lon, "lat": lat, "occurred_at": pd.Timestamp("2024-06-01", tz="UTC"), **extra}
    )


def beside() -> tuple[list[tuple[float, float]], np.ndarray]:
    """Points north and south of the line on both sides of 180°, and their signed distances."""
    points, want = [], []
    for lon in LONS:
        for metres in (1_000.0, 8_000.0, 30_000.0):
            for azimuth, sign in ((0.0, 1.0), (180.0, -1.0)):
                plon, plat = offset(lon, LAT, azimuth, metres)
                _, _, arc = GEOD.inv(plon, plat, plon, LAT)
                points.append((plon, plat))
                want.append(sign * arc)
    return points, np.array(want)


@pytest.mark.parametrize("form", list(FORMS))
def test_distances_and_sides_across_the_antimeridian(form: str) -> None:
    points, want = beside()
    got = classify(frame(points), scenario(FORMS[form]))
    error = got["distance_m"].to_numpy() - want
    assert np.all(np.abs(error) <= 1e-4 * np.abs(want)), (form, error)
    assert (got["side"].astype(str) == np.where(want > 0, "left", "right")).all()
    assert (got["side_party"].astype(str) == np.where(want > 0, "n", "s")).all()


def test_past_the_ends_the_nearest_point_is_the_end() -> None:
    # West of the start and east of the end, on both sides of the line's extension.
    points = [(179.3, LAT + 0.01), (179.3, LAT - 0.02), (-179.3, LAT + 0.02), (-179.3, LAT - 0.01)]
    ends = [(179.5, LAT), (179.5, LAT), (-179.5, LAT), (-179.5, LAT)]
    want = np.array([GEOD.inv(p[0], p[1], e[0], e[1])[2] for p, e in zip(points, ends, strict=True)])
    got = classify(frame(points), scenario(FORMS["one edge across"]))
    assert np.abs(got["distance_m"].to_numpy()) == pytest.approx(want, rel=1e-4)
    assert list(got["side"].astype(str)) == ["left", "right", "left", "right"]


def test_the_reference_and_the_projection_centre_agree_on_the_short_way() -> None:
    # Guards: the reference takes the short way too, and the scenario is centred on 180°.
    coords = np.array([(179.5, LAT), (-179.5, LAT)])
    _, _, arc = GEOD.inv(180.0, LAT + 0.05, 180.0, LAT)
    assert geodesic_distance_to_line(coords, 180.0, LAT + 0.05) == pytest.approx(arc, abs=0.1)
    projection = scenario_projection([FORMS["one edge across"]], [])
    assert abs((projection.lon0 + 180.0) % 360.0 - 180.0) > 179.9
    assert projection.lat0 == pytest.approx(LAT, abs=0.01)


def lonlat_ok(zone: shapely.Geometry) -> None:
    """Valid, every longitude within [-180, 180], cut at 180° into parts on both sides."""
    assert zone.is_valid
    lon = shapely.get_coordinates(zone)[:, 0]
    assert lon.min() >= -180.0
    assert lon.max() <= 180.0
    parts = shapely.get_parts(zone)
    assert any(p.bounds[2] == 180.0 for p in parts)
    assert any(p.bounds[0] == -180.0 for p in parts)


@pytest.mark.parametrize("side", ["both", "left", "right"])
def test_derived_zone_across_the_antimeridian(side: str) -> None:
    line = FORMS["one edge across"]
    zone = derive_zone_geometry(line, WIDTH, side, scenario_projection([line], []))
    lonlat_ok(zone)
    scen = scenario(line, (Zone("z", "Zone", "buffer_zone", zone, line="l", width_m=WIDTH, side=side),))
    points, expected = [], []
    for lon in LONS:
        for azimuth, where in ((0.0, "left"), (180.0, "right")):
            for share in (0.5, 0.999, 1.001):
                points.append(offset(lon, LAT, azimuth, share * WIDTH))
                expected.append(share < 1.0 and side in ("both", where))
    got = classify(frame(points), scen)["zones"].astype(str).to_numpy() == "z"
    drawn = np.array([zone.covers(Point(p)) for p in points])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(drawn, expected)


def test_zone_width_across_the_antimeridian_against_geod() -> None:
    line = FORMS["cut at 180"]
    zone = derive_zone_geometry(line, WIDTH, "both", scenario_projection([line], []))
    for lon in LONS:
        for azimuth in (0.0, 180.0):
            assert edge_distance(zone, lon, LAT, azimuth, 3 * WIDTH) == pytest.approx(WIDTH, rel=1e-3)
    # Round ends: past the start (west) and the end (east).
    assert edge_distance(zone, 179.5, LAT, 270.0, 3 * WIDTH) == pytest.approx(WIDTH, rel=1e-3)
    assert edge_distance(zone, -179.5, LAT, 90.0, 3 * WIDTH) == pytest.approx(WIDTH, rel=1e-3)


MANIFEST = """
[scenario]
name = "Fiji"

[[party]]
id = "n"
name = "North"
colour = "#aa0000"

[[party]]
id = "s"
name = "South"
colour = "#0000aa"

[[line]]
id = "l"
name = "Line"
file = "line.geojson"
left_party = "n"
right_party = "s"

[[zone]]
id = "band"
name = "Band"
kind = "buffer_zone"
line = "l"
width_m = 10000

[[zone]]
id = "box"
name = "Box"
kind = "restricted_area"
file = "box.geojson"

[[rule]]
id = "r"
zone = "box"
prohibits = ["artillery_fire"]
parties = ["*"]
severity = "high"
text = "No fire in the box."
"""


def write_manifest(folder: Path, line: dict, box: dict) -> Path:
    write_geojson(folder / "line.geojson", [line])
    write_geojson(folder / "box.geojson", [box])
    path = folder / "fiji.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


LINE_FILES = {
    "one edge across": {"type": "LineString", "coordinates": [[179.5, LAT], [-179.5, LAT]]},
    "past 180": {"type": "LineString", "coordinates": [[179.5, LAT], [180.5, LAT]]},
    "cut at 180": {
        "type": "MultiLineString",
        "coordinates": [[[179.5, LAT], [180, LAT]], [[-180, LAT], [-179.5, LAT]]],
    },
    "cut at 180, parts swapped": {
        "type": "MultiLineString",
        "coordinates": [[[-180, LAT], [-179.5, LAT]], [[179.5, LAT], [180, LAT]]],
    },
}
BOX_PAST_180 = {
    "type": "Polygon",
    "coordinates": [[[179.8, -17.2], [180.2, -17.2], [180.2, -16.8], [179.8, -16.8], [179.8, -17.2]]],
}


@pytest.mark.parametrize("form", list(LINE_FILES))
def test_manifest_stores_lines_and_zones_cut_at_180(tmp_path: Path, form: str) -> None:
    scen = load_scenario(write_manifest(tmp_path, LINE_FILES[form], BOX_PAST_180))
    line = scen.line("l").geometry
    assert isinstance(line, MultiLineString)
    assert [list(p.coords) for p in line.geoms] == [
        [(179.5, LAT), (180.0, LAT)],
        [(-180.0, LAT), (-179.5, LAT)],
    ]
    box = scen.zone("box").geometry
    lonlat_ok(box)
    assert box.area == pytest.approx(0.4 * 0.4)
    lonlat_ok(scen.zone("band").geometry)
    points, want = beside()
    got = classify(frame(points), scen)
    assert np.all(np.abs(got["distance_m"].to_numpy() - want) <= 1e-4 * np.abs(want))


def test_drawn_zone_across_180_holds_points_on_both_sides_and_has_no_edge_at_180(tmp_path: Path) -> None:
    scen = load_scenario(write_manifest(tmp_path, LINE_FILES["cut at 180"], BOX_PAST_180))
    points = [
        (179.9, -17.0),
        (-179.9, -17.0),
        (179.999, -16.9),
        (-179.999, -17.1),
        (179.7, -17.0),
        (-179.7, -17.0),
    ]
    # A 2 km uncertainty around points 100 m from 180°: the cut at 180° is no edge, so
    # the whole disk is inside the box (its real edges are 21 km away).
    got = classify(
        frame(points, category="artillery_fire", location_uncertainty_m=2_000.0, location_precision="near"),
        scen,
    )
    assert list(got["zones"].astype(str).str.contains("box")) == [True, True, True, True, False, False]
    assert list(got["verdict"].astype(str)[:4]) == ["breach"] * 4
