"""Longitudes across the antimeridian: unwrap, bring near a centre, split at ±180°.

Edges are straight in lon/lat, and an edge whose ends are more than 180° of longitude
apart is read the short way, across the antimeridian: ``(179.5, -17)`` to
``(-179.5, -17)`` is 1° long, not 359°. Stored geometries follow RFC 7946: longitudes
in [-180, 180], with anything that crosses the antimeridian cut there. Metric work
uses the same geometries unwrapped, with continuous longitudes around a centre.
"""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import LineString, MultiLineString, MultiPolygon, Polygon

FloatArray = NDArray[np.float64]


def wrap(lon: FloatArray | float) -> FloatArray:
    """Longitudes in [-180, 180)."""
    return (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0


def unwrap(coords: FloatArray) -> FloatArray:
    """
    Make the longitudes of a path continuous: every step goes the short way.

    Parameters
    ----------
    coords
        ``(n, 2)`` lon/lat.

    Returns
    -------
    numpy.ndarray
        A copy whose longitudes differ from the input by whole turns (exact), and whose
        consecutive longitudes are at most 180° apart.
    """
    out = np.array(coords, dtype=np.float64)
    if len(out) > 1:
        turns = -np.round(np.diff(out[:, 0]) / 360.0)
        out[1:, 0] += 360.0 * np.cumsum(turns)
    return out


def shift_to(coords: FloatArray, lon0: float) -> FloatArray:
    """Shift a path by whole turns so that its first longitude lies within 180° of ``lon0``."""
    out = np.array(coords, dtype=np.float64)
    if len(out):
        out[:, 0] += 360.0 * np.round((lon0 - out[0, 0]) / 360.0)
    return out


def _near_part(part: shapely.Geometry, lon0: float) -> shapely.Geometry:
    if isinstance(part, Polygon):
        shell = shift_to(unwrap(shapely.get_coordinates(part.exterior)), lon0)
        holes = [shift_to(unwrap(shapely.get_coordinates(r)), shell[0, 0]) for r in part.interiors]
        return Polygon(shell, holes)
    if isinstance(part, LineString):
        return LineString(shift_to(unwrap(shapely.get_coordinates(part)), lon0))
    return part


def near(geometry: shapely.Geometry, lon0: float) -> shapely.Geometry:
    """
    The geometry with continuous longitudes, every part within a half turn of ``lon0``.

    Polygon parts that were cut at the antimeridian are joined again; line parts keep
    their order.

    Parameters
    ----------
    geometry
        Lines or polygons in lon/lat.
    lon0
        The longitude to gather around (a projection's centre).
    """
    parts = [_near_part(p, lon0) for p in shapely.get_parts(geometry)]
    if not parts:
        return geometry
    if all(isinstance(p, Polygon) for p in parts):
        union = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        return union if isinstance(union, Polygon | MultiPolygon) else geometry
    if all(isinstance(p, LineString) for p in parts):
        return parts[0] if len(parts) == 1 else MultiLineString(parts)
    return shapely.GeometryCollection(parts)


def _cells(lon: FloatArray) -> NDArray[np.int64]:
    """The turn each longitude is in: 0 for [-180, 180), 1 for [180, 540), ..."""
    return np.floor((lon + 180.0) / 360.0).astype(np.int64)


def split_path(coords: FloatArray) -> list[FloatArray]:
    """
    Cut a path with continuous longitudes where it crosses ±180°.

    Parameters
    ----------
    coords
        ``(n, 2)`` lon/lat with continuous longitudes (see :func:`unwrap`).

    Returns
    -------
    list of numpy.ndarray
        The pieces in order, each with longitudes in [-180, 180]; a piece that ends at
        180 is followed by one that starts at -180 (or the reverse), at the same latitude.
    """
    points = [coords[0]]
    for a, b in itertools.pairwise(coords):
        lo, hi = sorted((a[0], b[0]))
        first, last = np.ceil((lo - 180.0) / 360.0), np.floor((hi - 180.0) / 360.0)
        marks = [180.0 + 360.0 * k for k in np.arange(first, last + 1)]
        marks = [m for m in marks if lo < m < hi]
        for m in marks if b[0] > a[0] else marks[::-1]:
            t = (m - a[0]) / (b[0] - a[0])
            points.append(np.array([m, a[1] + t * (b[1] - a[1])]))
        points.append(b)
    path = np.vstack(points)
    mid = (path[1:, 0] + path[:-1, 0]) / 2.0
    cell = _cells(mid)
    pieces = []
    start = 0
    for i in range(1, len(cell) + 1):
        if i == len(cell) or cell[i] != cell[start]:
            piece = path[start : i + 1].copy()
            piece[:, 0] -= 360.0 * cell[start]
            pieces.append(piece)
            start = i
    return pieces


def lines_lonlat(pieces: list[FloatArray]) -> LineString | MultiLineString:
    """A directed line from pieces with continuous longitudes, cut at ±180° (RFC 7946)."""
    parts = [LineString(p) for piece in pieces for p in split_path(piece)]
    return parts[0] if len(parts) == 1 else MultiLineString(parts)


def _cut(geometry: shapely.Geometry) -> list[Polygon]:
    """The polygons of a geometry with continuous longitudes, cut at ±180° and wrapped."""
    xmin, _, xmax, _ = shapely.bounds(geometry)
    out = []
    for k in range(int(_cells(np.array([xmin]))[0]), int(_cells(np.array([xmax]))[0]) + 1):
        x0 = -180.0 + 360.0 * k
        piece = shapely.intersection(geometry, shapely.box(x0, -90.0, x0 + 360.0, 90.0))
        piece = shapely.transform(piece, lambda c, dx=360.0 * k: c - [dx, 0.0])
        out += [p for p in shapely.get_parts(piece) if isinstance(p, Polygon) and not p.is_empty]
    return out


def polygons_lonlat(geometry: shapely.Geometry) -> Polygon | MultiPolygon:
    """
    Polygons in RFC 7946 form: longitudes in [-180, 180], cut at ±180°.

    Parameters
    ----------
    geometry
        Polygons in lon/lat. Longitudes may run past ±180, and an edge spanning more
        than 180° of longitude is read as crossing the antimeridian. A geometry already
        in that form comes back unchanged.
    """
    polys = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon)]
    rings = [shapely.get_coordinates(r) for p in polys for r in (p.exterior, *p.interiors)]
    xmin, _, xmax, _ = shapely.bounds(geometry)
    jumps = any(np.any(np.abs(np.diff(r[:, 0])) > 180.0) for r in rings)
    if polys and (jumps or xmin < -180.0 or xmax > 180.0):
        polys = _cut(near(MultiPolygon(polys), float(rings[0][0, 0])))
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)
