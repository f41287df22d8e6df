"""Hex cells: binned and drawn with the scenario's one projection (geo.core._metric.LocalProjection)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geo import VERDICTS, Scenario
from geo.core.classify import prepare
from geo.render.webmap.cells import bin_points, cell_centres
from geo.render.webmap.projected import approximate_forward
from tests.maps.helpers import cells_of, corners, make_view

RENDER = Path(__file__).resolve().parents[2] / "geo" / "render"
WGS84 = Geod(ellps="WGS84")


def lattice_key(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    return (q.astype(np.int64) << 32) + (r.astype(np.int64) + (1 << 31))


def edge_points(scenario: Scenario, radius: float, n: int, rng: np.random.Generator, inside: bool) -> tuple:
    """Points 0.5 m inside (or outside) an edge of a lattice cell, in lon/lat, and the key of their cell."""
    projection = prepare(scenario).projection
    q = rng.integers(-60, 60, n)
    r = rng.integers(-40, 40, n)
    cx, cy = cell_centres(lattice_key(q, r), radius)
    k = rng.integers(0, 6, n)  # which edge: its outward normal points at 60k degrees
    along = rng.uniform(-0.45, 0.45, n) * radius  # somewhere along the edge, not at a corner
    apothem = radius * math.sqrt(3) / 2 + (-0.5 if inside else 0.5)
    angle = np.radians(60.0 * k)
    x = cx + apothem * np.cos(angle) - along * np.sin(angle)
    y = cy + apothem * np.sin(angle) + along * np.cos(angle)
    lon, lat = projection.inverse(x, y)
    # The neighbour across edge k, in axial coordinates (pointy-top lattice).
    step = np.array([(1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1)])[k]
    expected = lattice_key(q, r) if inside else lattice_key(q + step[:, 0], r + step[:, 1])
    return lon, lat, expected


@pytest.mark.parametrize("width", [500.0, 5_000.0, 50_000.0])
def test_points_at_a_cell_edge_fall_on_the_right_side(scenario: Scenario, width: float) -> None:
    """Among 300k points (so positions are interpolated), those 0.5 m from an edge land as projected."""
    rng = np.random.default_rng(int(width))
    radius = width / math.sqrt(3)
    inner = edge_points(scenario, radius, 2_000, rng, inside=True)
    outer = edge_points(scenario, radius, 2_000, rng, inside=False)
    filler_lon, filler_lat = rng.uniform(124.0, 131.0, 300_000), rng.uniform(35.0, 41.0, 300_000)
    lon = np.concatenate([inner[0], outer[0], filler_lon])
    lat = np.concatenate([inner[1], outer[1], filler_lat])
    cell, keys, used = bin_points(prepare(scenario).projection, lon, lat, width, 10**9)
    assert used == width
    got = keys[cell]
    np.testing.assert_array_equal(got[:2_000], inner[2])
    np.testing.assert_array_equal(got[2_000:4_000], outer[2])


@pytest.mark.parametrize(
    ("west", "east", "south", "north"), [(125.5, 129.5, 36.5, 40.0), (-180.0, 180.0, -85.0, 85.0)]
)
def test_binning_equals_binning_every_point_projected(scenario: Scenario, west, east, south, north) -> None:
    projection = prepare(scenario).projection
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(west, east, 400_000), rng.uniform(south, north, 400_000)
    x, y = projection.forward(lon, lat)
    _, _, bound = approximate_forward(projection, lon, lat)
    assert np.isfinite(bound).mean() > 0.8  # most points were interpolated, not projected
    for width in (2_000.0, 100_000.0):
        cell, keys, _ = bin_points(projection, lon, lat, width, 10**9)
        radius = width / math.sqrt(3)
        # Independent assignment: the nearest lattice centre among the candidates around the point.
        r0 = np.round(y / (1.5 * radius))
        best = np.full(len(x), np.inf)
        want = np.zeros(len(x), dtype=np.int64)
        for dr in (-1, 0, 1):
            r = r0 + dr
            q0 = np.round(x / (radius * math.sqrt(3)) - r / 2)
            for dq in (-1, 0, 1):
                q = q0 + dq
                cx, cy = radius * math.sqrt(3) * (q + r / 2), 1.5 * radius * r
                d = np.hypot(x - cx, y - cy)
                closer = d < best
                best = np.where(closer, d, best)
                want = np.where(closer, lattice_key(q, r), want)
        np.testing.assert_array_equal(keys[cell], want)


def test_drawn_cells_hold_their_incidents(scenario: Scenario) -> None:
    """Each incident lies inside the hexagon the browser draws for its cell (decoded corners)."""
    view = make_view(scenario, 3_000, seed=5)
    data = cells_of(view, scenario, cell_m=5_000)
    lon, lat = corners(data)
    polygons = shapely.polygons(np.stack([lon, lat], axis=-1))
    tree = shapely.STRtree(polygons)
    points = shapely.points(view["lon"].to_numpy(), view["lat"].to_numpy())
    slack = 2 * data["ringScale"]  # the corners are rounded to this many degrees
    hit_point, hit_cell = tree.query(points, predicate="dwithin", distance=slack)
    held = np.zeros(len(view), dtype=int)
    np.add.at(held, hit_point, 1)
    assert (held >= 1).all()
    counts = np.asarray(data["counts"]).reshape(-1, len(VERDICTS)).sum(axis=1)
    inside = np.bincount(tree.query(points, predicate="intersects")[1], minlength=len(polygons))
    assert (inside <= counts + np.bincount(hit_cell, minlength=len(polygons))).all()
    assert counts.sum() == len(view)


def test_corners_are_a_regular_hexagon_on_the_ground(scenario: Scenario) -> None:
    """Checked with geodesics (pyproj Geod), not with the projection that drew them."""
    view = make_view(scenario, 3_000, seed=6)
    data = cells_of(view, scenario, cell_m=5_000)
    lon, lat = corners(data)
    clon = np.repeat(np.asarray(data["lon"]), 6)
    clat = np.repeat(np.asarray(data["lat"]), 6)
    azimuth, _, dist = WGS84.inv(clon, clat, lon.ravel(), lat.ravel())
    radius = 5_000 / math.sqrt(3)
    assert np.abs(dist / radius - 1).max() < 0.005
    turns = np.diff(np.unwrap(np.radians(azimuth.reshape(-1, 6)), axis=1), axis=1)
    assert np.abs(np.degrees(np.abs(turns)) - 60).max() < 1.0


def test_cells_across_the_antimeridian_stay_whole(scenario: Scenario) -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    view = pd.DataFrame(
        {
            "lon": rng.uniform(-180, 180, n),
            "lat": rng.uniform(-80, 80, n),
            "verdict": pd.Categorical.from_codes(rng.integers(0, 4, n), categories=list(VERDICTS)),
        }
    )
    data = cells_of(view, scenario, max_cells=5_000)
    lon, lat = corners(data)
    assert np.isfinite(lon).all() and np.isfinite(lat).all()
    spread = lon.max(axis=1) - lon.min(axis=1)
    assert (spread < 180).all()
    assert ((lon > 180) | (lon < -180)).any(
        axis=1
    ).sum() > 0  # some cells straddle the antimeridian, unwrapped


def test_one_projection_code_path() -> None:
    """No hand-written projection and no meters-per-degree anywhere in render, Python or JavaScript."""
    for path in RENDER.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"Math\.(sin|cos|tan|PI)\b", text), path
    for path in [*RENDER.rglob("*.py"), *RENDER.rglob("*.js")]:
        text = path.read_text(encoding="utf-8").replace("_", "")
        assert not re.search(r"(?<![#\w])(111\d{3}|6371\d*|6378\d*)\b", text), path  # not #111111
