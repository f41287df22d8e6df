"""Distances agree with the ellipsoid (pyproj Geod) within 0.1 % or 1 m, whichever is larger."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString

from geo.core.classify import classify
from geo.core.model import Line, Party, Scenario
from tests.geo.reference import GEOD, geodesic_distance_to_line


@st.composite
def line_and_points(draw: st.DrawFn) -> tuple[LineString, np.ndarray]:
    lat0 = draw(st.floats(0.0, 70.0))
    lon0 = draw(st.floats(-180.0, 180.0))  # lines near ±180 cross it
    n_seg = draw(st.integers(1, 4))
    lon, lat = [lon0], [lat0]
    az = draw(st.floats(0.0, 360.0))
    for _ in range(n_seg):
        az += draw(st.floats(-60.0, 60.0))
        length = draw(st.floats(1_000.0, 30_000.0))
        lo, la, _ = GEOD.fwd(lon[-1], lat[-1], az, length)
        lon.append(lo)
        lat.append(la)
    line = LineString(zip(lon, lat, strict=True))
    pts = []
    for _ in range(draw(st.integers(1, 6))):
        t = draw(st.floats(0.0, 1.0))
        base = line.interpolate(t, normalized=True)
        d = draw(st.one_of(st.floats(0.0, 2_000.0), st.floats(0.0, 200_000.0)))
        plo, pla, _ = GEOD.fwd(base.x, base.y, draw(st.floats(0.0, 360.0)), d)
        pts.append((plo, pla))
    return line, np.array(pts)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line_and_points())
def test_distance_matches_geodesic(case: tuple[LineString, np.ndarray]) -> None:
    line, pts = case
    scen = Scenario(
        name="t",
        parties=(Party("a", "A", "A", "#000000"), Party("b", "B", "B", "#ffffff")),
        lines=(Line("l", "L", line, "a", "b"),),
    )
    frame = pd.DataFrame(
        {"lon": pts[:, 0], "lat": pts[:, 1], "occurred_at": pd.Timestamp("2024-01-01", tz="UTC")}
    )
    got = np.abs(classify(frame, scen)["distance_m"].to_numpy())
    want = np.array([geodesic_distance_to_line(np.asarray(line.coords), lo, la) for lo, la in pts])
    tolerance = np.maximum(1.0, 1e-3 * want)
    assert np.all(np.abs(got - want) <= tolerance), (got, want)


def test_reference_itself_is_right_at_the_equator():
    # Guard the reference: 0.01 degrees north of an equatorial line is 1105.74 m.
    line = LineString([(-0.5, 0.0), (0.5, 0.0)])
    assert abs(geodesic_distance_to_line(np.asarray(line.coords), 0.0, 0.01) - 1105.742) < 0.05
