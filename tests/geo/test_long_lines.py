"""A 20 km zone derived from a 2,000 km line is 20 km wide ± 0.1 % everywhere, ends included.

Measured with pyproj Geod, never with geo's projection: the distance from the drawn
edge to the line, rays from the line's ends, and points at 0.999 and 1.001 of the
width, which the polygon and the classification must place alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point

from geo.core.classify import classify
from geo.core.model import Line, Party, Scenario, Zone
from geo.core.zones import derive_zone_geometry, scenario_projection
from tests.geo.reference import GEOD, edge_distance, geodesic_distance_to_line, offset

WIDTH = 20_000.0


def meridian() -> LineString:
    """30° E from 36° N to 54° N: 2,000.4 km, along a geodesic."""
    return LineString([(30.0, lat) for lat in np.linspace(36.0, 54.0, 19)])


def diagonal() -> LineString:
    """A geodesic leaving (10° E, 38° N) north-east, in 4 km steps: 2,000 km."""
    lon, lat, azimuth = [10.0], [38.0], 45.0
    for _ in range(500):
        lo, la, back = GEOD.fwd(lon[-1], lat[-1], azimuth, 4_000.0)
        lon.append(lo)
        lat.append(la)
        azimuth = back + 180.0
    return LineString(zip(lon, lat, strict=True))


@pytest.fixture(scope="module", params=["meridian", "diagonal"])
def case(request: pytest.FixtureRequest) -> tuple[np.ndarray, dict[str, shapely.Geometry], Scenario]:
    line = {"meridian": meridian, "diagonal": diagonal}[request.param]()
    coords = np.asarray(line.coords)
    _, _, length = GEOD.inv(*coords[0], *coords[-1])
    assert length == pytest.approx(2_000_000.0, rel=1e-3)
    projection = scenario_projection([line], [])
    zones = {side: derive_zone_geometry(line, WIDTH, side, projection) for side in ("both", "left")}
    scen = Scenario(
        "long",
        parties=(Party("a", "A", "A", "#aa0000"), Party("b", "B", "B", "#0000aa")),
        lines=(Line("l", "Long line", line, "a", "b"),),
        zones=tuple(
            Zone(side, side, "buffer_zone", geom, line="l", width_m=WIDTH, side=side)
            for side, geom in zones.items()
        ),
    )
    return coords, zones, scen


def test_the_drawn_edge_is_the_width_from_the_line(case) -> None:
    coords, zones, _ = case
    edge = shapely.get_coordinates(zones["both"].exterior)
    ends = np.zeros(len(edge), dtype=bool)
    for end in (coords[0], coords[-1]):
        _, _, d = GEOD.inv(edge[:, 0], edge[:, 1], np.full(len(edge), end[0]), np.full(len(edge), end[1]))
        ends |= d < 1.5 * WIDTH
    # 200 vertices spread along the whole edge, and every 4th one around the round ends.
    sample = np.union1d(np.linspace(0, len(edge) - 1, 200).astype(int), np.flatnonzero(ends)[::4])
    got = np.array(
        [geodesic_distance_to_line(coords, *edge[i], coarse_m=1_000.0, fine_m=2.0) for i in sample]
    )
    error = (got - WIDTH) / WIDTH
    assert np.abs(error).max() <= 1e-3, (error.min(), error.max())
    assert ends[sample].sum() > 50  # the ends were really measured


def test_rays_from_the_ends_leave_the_zone_at_its_width(case) -> None:
    coords, zones, _ = case
    for end, before in ((coords[-1], coords[-2]), (coords[0], coords[1])):
        onward, _, _ = GEOD.inv(*end, *before)
        onward += 180.0  # the line's direction, continued past this end
        for turn in (0.0, 30.0, -30.0, 90.0, -90.0):
            got = edge_distance(zones["both"], *end, onward + turn, 3 * WIDTH)
            assert got == pytest.approx(WIDTH, rel=1e-3), (end, turn)


def probes(coords: np.ndarray) -> tuple[list[tuple[float, float]], list[float], list[str]]:
    """Points beside the line and past its ends at 0.999 and 1.001 of the width."""
    points, shares, sides = [], [], []
    for k in np.linspace(0, len(coords) - 1, 12).astype(int):
        a, b = (coords[k], coords[k + 1]) if k + 1 < len(coords) else (coords[k - 1], coords[k])
        heading, _, _ = GEOD.inv(*a, *b)
        for turn, side in ((-90.0, "left"), (90.0, "right")):
            for share in (0.999, 1.001):
                points.append(offset(*coords[k], heading + turn, share * WIDTH))
                shares.append(share)
                sides.append(side)
    for end, before in ((coords[-1], coords[-2]), (coords[0], coords[1])):
        onward, _, _ = GEOD.inv(*end, *before)
        for share in (0.999, 1.001):
            points.append(offset(*end, onward + 180.0, share * WIDTH))
            shares.append(share)
            sides.append("end")
    return points, shares, sides


def test_points_just_inside_and_outside_agree_with_the_polygon(case) -> None:
    coords, zones, scen = case
    points, shares, sides = probes(coords)
    frame = pd.DataFrame(
        {
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
            "occurred_at": pd.Timestamp("2024-06-01", tz="UTC"),
        }
    )
    got = classify(frame, scen)
    distance = got["distance_m"].abs().to_numpy()
    np.testing.assert_allclose(distance, np.array(shares) * WIDTH, rtol=1e-4)
    held = got["zones"].astype(str).str.split(";")
    for side, zone in zones.items():
        want = [s < 1.0 and side in ("both", where) for s, where in zip(shares, sides, strict=True)]
        classified = [side in h for h in held]
        drawn = [zone.covers(Point(p)) for p in points]
        # Past the ends, the one-sided zone's cut runs along the extended line: leave those out.
        keep = [side == "both" or where != "end" for where in sides]
        assert [c for c, k in zip(classified, keep, strict=True) if k] == [
            w for w, k in zip(want, keep, strict=True) if k
        ], side
        assert [d for d, k in zip(drawn, keep, strict=True) if k] == [
            w for w, k in zip(want, keep, strict=True) if k
        ], side
