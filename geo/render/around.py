"""Maps across the antimeridian: everything a map draws, gathered around its centre longitude.

Lines and zones are stored cut at ±180° (RFC 7946), and incidents and the Natural Earth
countries have longitudes in [-180, 180]. Drawn as they are, a scenario across the
antimeridian falls apart: a bounding box of its pieces spans the globe, and its halves
land at the two ends of a web map. So every output moves what it draws by whole turns
to lie within half a turn of the map's centre longitude (cut geometries joined again,
see :func:`geo.core._antimeridian.near`). Leaflet draws longitudes past ±180 where they are,
and the projection of the map image reduces them, so nothing else changes.

Geometry and longitudes already within half a turn of the centre come back as they
are, bit for bit: a map away from the antimeridian is drawn exactly as before.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.core._antimeridian import near
from geo.core.classify import prepare
from geo.core.model import Scenario

FloatArray = NDArray[np.float64]


def centre_lon(scenario: Scenario) -> float:
    """
    The longitude a scenario's maps gather around: its projection's centre.

    That centre is the mean direction of its lines and drawn zones, so a scenario across
    ±180° is centred on it (see ``geo.core._metric.LocalProjection.around``).
    """
    return prepare(scenario).projection.lon0


def points_centre_lon(lon: ArrayLike, lat: ArrayLike) -> float:
    """
    The longitude of the mean direction of points (the projection's centre, for points).

    Parameters
    ----------
    lon, lat
        Degrees, finite.

    Returns
    -------
    float
        Degrees in [-180, 180]; 0 when there are no points or their directions cancel out.
    """
    lam, phi = np.radians(np.asarray(lon, dtype=np.float64)), np.radians(np.asarray(lat, dtype=np.float64))
    x, y = float(np.sum(np.cos(phi) * np.cos(lam))), float(np.sum(np.cos(phi) * np.sin(lam)))
    if math.hypot(x, y) <= 1e-9 * max(lam.size, 1):
        return 0.0
    return math.degrees(math.atan2(y, x))


def turns_to(lon: ArrayLike, lon0: float) -> FloatArray:
    """The whole turns, in degrees (0, ±360, ...), bringing each longitude within half a turn of ``lon0``."""
    values = np.asarray(lon, dtype=np.float64)
    return -360.0 * np.round((values - lon0) / 360.0)


def near_lon(lon: ArrayLike, lon0: float) -> FloatArray:
    """
    Longitudes moved by whole turns to within half a turn of ``lon0``.

    Parameters
    ----------
    lon
        Degrees.
    lon0
        The centre longitude.

    Returns
    -------
    numpy.ndarray
        ``lon0 + wrap(lon - lon0)`` up to rounding; a longitude that needs no move is
        returned unchanged, bit for bit.
    """
    return np.asarray(lon, dtype=np.float64) + turns_to(lon, lon0)


def gather(geometry: shapely.Geometry, lon0: float) -> shapely.Geometry:
    """
    A lon/lat line or polygon drawn whole around ``lon0``.

    Parameters
    ----------
    geometry
        Lines or polygons, possibly cut at ±180° or with edges read across it.
    lon0
        The centre longitude.

    Returns
    -------
    shapely.Geometry
        :func:`geo.core._antimeridian.near`: continuous longitudes, every part within half a
        turn of ``lon0``, polygons cut at ±180° joined again. ``geometry`` itself when
        it already lies within half a turn of ``lon0`` and no edge of it spans half a
        turn (nothing would move).
    """
    if geometry is None or geometry.is_empty:
        return geometry
    west, _, east, _ = shapely.bounds(geometry)
    if east - west < 180.0 and lon0 - 180.0 < west and east < lon0 + 180.0:
        return geometry
    return near(geometry, lon0)


def lon_window(west: float, east: float) -> tuple[float, float]:
    """``(west, east)`` narrowed to at most one turn about its middle (longitudes may pass ±180)."""
    if east - west <= 360.0:
        return west, east
    middle = (west + east) / 2.0
    return middle - 180.0, middle + 180.0


def clip_around(
    geometries: NDArray[np.object_], box: tuple[float, float, float, float]
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """
    Clip lon/lat geometries (longitudes in [-180, 180]) to a box that may run past ±180.

    Each turn the box reaches into is clipped and moved onto the box's longitudes; the
    pieces of one geometry from two turns (Fiji, Chukotka: countries cut at ±180°) are
    joined again.

    Parameters
    ----------
    geometries
        Polygons in lon/lat.
    box
        ``(west, south, east, north)`` degrees, at most one turn wide.

    Returns
    -------
    tuple of numpy.ndarray
        The index of each geometry that reaches into the box, in order, and its piece
        inside the box. With the box within [-180, 180], the pieces are
        ``shapely.clip_by_rect(geometries, *box)``, unchanged.
    """
    west, south, east, north = box
    pieces: dict[int, list[shapely.Geometry]] = defaultdict(list)
    first = math.floor((west + 180.0) / 360.0)
    last = math.ceil((east - 180.0) / 360.0)
    for turn in range(first, last + 1):
        shift = 360.0 * turn
        clipped = shapely.clip_by_rect(geometries, west - shift, south, east - shift, north)
        found = np.flatnonzero(~shapely.is_empty(clipped))
        moved = clipped[found]
        if shift:
            moved = shapely.transform(moved, lambda c, dx=shift: c + np.array([dx, 0.0]))
        for i, piece in zip(found.tolist(), moved, strict=True):
            pieces[i].append(piece)
    index = np.array(sorted(pieces), dtype=np.int64)
    out = np.empty(len(index), dtype=object)
    for k, i in enumerate(index.tolist()):
        parts = pieces[i]
        out[k] = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    return index, out
