"""Derived zones are W ± 0.1 % wide all along their line, at any latitude."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from shapely import LineString

from geo.core.zones import derive_zone_geometry, scenario_projection
from tests.geo.reference import GEOD, edge_distance


def curving_line(lat0: float, length_m: float = 120_000, step_m: float = 4_000) -> LineString:
    lon, lat, az = [10.0], [lat0], 70.0
    for _ in range(int(length_m / step_m)):
        az += 1.5  # a gentle bend: 45 degrees over the whole line
        lo, la, _ = GEOD.fwd(lon[-1], lat[-1], az, step_m)
        lon.append(lo)
        lat.append(la)
    return LineString(zip(lon, lat, strict=True))


def probes(line: LineString) -> list[tuple[float, float, float]]:
    """Mid-points of the line's segments (away from its ends) and the azimuth there."""
    c = np.asarray(line.coords)
    out = []
    for a, b in itertools.pairwise(c[1:-1]):
        az, _, _ = GEOD.inv(a[0], a[1], b[0], b[1])
        mid = (a + b) / 2
        out.append((mid[0], mid[1], az))
    return out


@pytest.mark.parametrize("lat0", [0.0, 35.0, 60.0, 69.0])
@pytest.mark.parametrize("width", [2_000.0, 15_000.0])
def test_both_sides_width(lat0: float, width: float) -> None:
    line = curving_line(lat0)
    zone = derive_zone_geometry(line, width, "both", scenario_projection([line], []))
    assert zone.is_valid
    for lon, lat, az in probes(line):
        for turn in (-90.0, 90.0):
            got = edge_distance(zone, lon, lat, az + turn, 3 * width)
            assert got == pytest.approx(width, rel=1e-3), (lat0, lon, lat, turn)


@pytest.mark.parametrize("lat0", [0.0, 60.0])
def test_one_side_has_its_width_on_that_side_only(lat0: float) -> None:
    line = curving_line(lat0)
    left = derive_zone_geometry(line, 5_000.0, "left", scenario_projection([line], []))
    for lon, lat, az in probes(line)[::4]:
        assert edge_distance(left, lon, lat, az - 90.0, 15_000) == pytest.approx(5_000.0, rel=1e-3)
        # Heading right the ray leaves the zone at once (within a meter).
        assert edge_distance(left, lon, lat, az + 90.0, 15_000) < 1.0


def test_round_ends_reach_width_past_the_end() -> None:
    line = curving_line(45.0)
    zone = derive_zone_geometry(line, 3_000.0, "both", scenario_projection([line], []))
    c = np.asarray(line.coords)
    az, _, _ = GEOD.inv(c[-2][0], c[-2][1], c[-1][0], c[-1][1])
    for turn in (0.0, 45.0, -60.0):
        assert edge_distance(zone, c[-1][0], c[-1][1], az + turn, 9_000) == pytest.approx(3_000.0, rel=1e-3)
