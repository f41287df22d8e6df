"""Independent references on the WGS84 ellipsoid (pyproj Geod), for geometry tests.

Nothing here uses geo's own projection or formulas.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import shapely
from pyproj import Geod
from shapely import Point

GEOD = Geod(ellps="WGS84")


def _sample(coords: np.ndarray, step_m: float) -> np.ndarray:
    """Points along a lon/lat path (edges straight in lon/lat) at most ``step_m`` apart."""
    return _sample_cached(np.ascontiguousarray(coords, dtype=float).tobytes(), step_m)


@functools.lru_cache(maxsize=16)
def _sample_cached(raw: bytes, step_m: float) -> np.ndarray:
    return _resample(np.frombuffer(raw, dtype=float).reshape(-1, 2), step_m)


def _resample(coords: np.ndarray, step_m: float) -> np.ndarray:
    out = [coords[:1]]
    for a, b in itertools.pairwise(coords):
        _, _, seg = GEOD.inv(a[0], a[1], b[0], b[1])
        k = max(int(np.ceil(seg / step_m)), 1)
        t = np.linspace(0, 1, k + 1)[1:, None]
        out.append(a + (b - a) * t)
    return np.vstack(out)


def _to(lon: float, lat: float, pts: np.ndarray) -> np.ndarray:
    n = len(pts)
    _, _, d = GEOD.inv(np.full(n, lon), np.full(n, lat), pts[:, 0], pts[:, 1])
    return np.asarray(d)


def geodesic_distance_to_line(
    coords: np.ndarray, lon: float, lat: float, *, coarse_m: float = 100.0, fine_m: float = 0.2
) -> float:
    """
    The least ellipsoidal distance from a point to a path whose edges are straight in lon/lat.

    The path is sampled every ``coarse_m`` to find the nearest stretch, then resampled
    every ``fine_m`` around it: the error is below ``fine_m**2 / (8 d)`` (under 0.1 m).
    An edge spanning more than 180° of longitude is taken the short way, across ±180°.
    """
    coords = np.array(coords, dtype=float)
    coords[:, 0] = np.degrees(np.unwrap(np.radians(coords[:, 0])))  # the short way across ±180
    coarse = _sample(coords, coarse_m)
    d = _to(lon, lat, coarse)
    i = int(np.argmin(d))
    fine = _sample(coarse[max(i - 2, 0) : i + 3], fine_m)
    return float(min(_to(lon, lat, fine).min(), d.min()))


def edge_distance(zone: shapely.Geometry, lon: float, lat: float, azimuth: float, limit: float) -> float:
    """Geodesic distance from (lon, lat) along ``azimuth`` to where the ray leaves the zone."""
    lo, hi = 0.0, limit
    for _ in range(60):
        mid = (lo + hi) / 2
        plon, plat, _ = GEOD.fwd(lon, lat, azimuth, mid)
        if zone.covers(Point(plon, plat)):
            lo = mid
        else:
            hi = mid
    return lo


def offset(lon: float, lat: float, azimuth: float, distance: float) -> tuple[float, float]:
    """The point ``distance`` meters from (lon, lat) along ``azimuth``, longitude in [-180, 180)."""
    plon, plat, _ = GEOD.fwd(lon, lat, azimuth, distance)
    return (float(plon) + 180.0) % 360.0 - 180.0, float(plat)
