"""Lines and zones: derived buffer zones and validity in time.

A zone derived from a line at ``width_m`` on ``side`` holds every point whose
distance to the line, including past its ends (round ends), is at most ``width_m``
and which lies on that side. Past the line's ends, the side of a point is the side of
the extended end segment. It is in force while its line is, or for the part of that
time its own ``valid_from``/``valid_to`` narrow it to.

Its polygon is built stretch by stretch, each stretch of the line buffered in an
azimuthal equidistant projection centred on it, so that no point of the polygon is
farther than ``SECTION_RADIUS_M`` from its projection's centre: the edge stays within
0.02 % of ``width_m`` from the line on the ellipsoid, however long the line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.ops import split

from geo._errors import ManifestError
from geo.core._antimeridian import near, polygons_lonlat
from geo.core._lineparts import line_pieces
from geo.core._metric import WGS84, LocalProjection, densify_lonlat
from geo.core._nearest import build_index, nearest
from geo.core.model import Line, Scenario, Side, Zone

BUFFER_QUAD_SEGS = 64
"""Arc vertices per quarter circle: the chord error is under 0.008 % of the width."""
METRIC_STEP_M = 250.0
"""Metric edges are densified to this length before they become lon/lat edges."""
SECTION_RADIUS_M = 200_000.0
"""No point of a stretch's buffer is farther than this from its projection's centre."""
MIN_SECTION_M = 50_000.0
"""The shortest stretch a line is cut into, for very wide zones."""

_NS_PER_DAY = 86_400 * 10**9


def day_start_ns(day: date | None, *, default: int) -> int:
    """Nanoseconds since the epoch at 00:00 UTC of ``day``, or ``default``."""
    if day is None:
        return default
    return int((np.datetime64(day.isoformat(), "D") - np.datetime64(0, "D")) / np.timedelta64(1, "ns"))


def validity_ns(valid_from: date | None, valid_to: date | None) -> tuple[int, int]:
    """The half-open interval ``[start, end)`` in force, in UTC nanoseconds.

    ``valid_to`` is the last day in force, so the interval ends at the next midnight.
    """
    lo = day_start_ns(valid_from, default=np.iinfo(np.int64).min)
    hi = day_start_ns(valid_to + timedelta(days=1) if valid_to else None, default=np.iinfo(np.int64).max)
    return lo, hi


def derived_validity(
    key: str, valid_from: date | None, valid_to: date | None, line: Line, problem: Callable[[str, str], None]
) -> tuple[date | None, date | None]:
    """
    The validity of a zone derived from ``line``: the line's, narrowed by the zone's own.

    Parameters
    ----------
    key
        The zone's key, for messages (``zone[band]``).
    valid_from, valid_to
        The zone's own dates; ``None`` takes the line's.
    line
        The line it derives from.
    problem
        Called with ``(key, text)`` for each date that would widen the line's validity.

    Returns
    -------
    valid_from, valid_to
        The dates the zone is in force: its own where given, else its line's.
    """
    narrow = "a derived zone can narrow its line's validity, not widen it"
    begins, ends = line.valid_from, line.valid_to
    if valid_from is not None and begins is not None and valid_from < begins:
        problem(
            f"{key}.valid_from", f"{valid_from} is before line {line.id!r} is in force ({begins}); {narrow}"
        )
    if valid_to is not None and ends is not None and valid_to > ends:
        problem(f"{key}.valid_to", f"{valid_to} is after line {line.id!r} ends ({ends}); {narrow}")
    if valid_from is not None and ends is not None and valid_from > ends:
        problem(f"{key}.valid_from", f"{valid_from} is after line {line.id!r} ends ({ends})")
    if valid_to is not None and begins is not None and valid_to < begins:
        problem(f"{key}.valid_to", f"{valid_to} is before line {line.id!r} is in force ({begins})")
    start = valid_from if valid_from is not None else begins
    end = valid_to if valid_to is not None else ends
    return start, end


def zone_line(scenario: Scenario, zone: Zone) -> Line:
    """The line a derived zone derives from; an unknown line id is an error, never a fallback."""
    lines = {ln.id: ln for ln in scenario.lines}
    if zone.line not in lines:
        msg = f"{scenario.name}: zone[{zone.id}].line: unknown line {zone.line!r}"
        raise ManifestError(msg)
    return lines[zone.line]


def metric_line(
    line: LineString | MultiLineString, projection: LocalProjection, *, where: str = "line"
) -> shapely.Geometry:
    """
    A lon/lat line in the projection's meters: parts joined and directed, densified.

    Parameters
    ----------
    line
        The line in lon/lat (it may cross ±180°, cut there or not).
    projection
        The metric projection.
    where
        ``file: key`` for messages, should the parts not make one directed line.
    """
    parts = [projection.to_metric(densify_lonlat(LineString(p))) for p in line_pieces(line, where=where)]
    return parts[0] if len(parts) == 1 else MultiLineString(parts)


def metric_zone(zone: Polygon | MultiPolygon, projection: LocalProjection) -> shapely.Geometry:
    """A lon/lat polygon in the projection's meters: joined again across ±180°, densified."""
    return projection.to_metric(densify_lonlat(near(zone, projection.lon0)))


def _extended(part: LineString, length: float) -> LineString:
    """The part with its first and last segments prolonged by ``length`` meters."""
    c = shapely.get_coordinates(part)
    head = c[0] + (c[0] - c[1]) / np.hypot(*(c[0] - c[1])) * length
    tail = c[-1] + (c[-1] - c[-2]) / np.hypot(*(c[-1] - c[-2])) * length
    return LineString(np.vstack([head, c, tail]))


def one_side(
    buffer: shapely.Geometry, line: LineString | MultiLineString, width_m: float, side: Side
) -> shapely.Geometry:
    """Keep the part of a metric ``buffer`` around ``line`` that lies on ``side``."""
    parts = [p for p in shapely.get_parts(line) if len(p.coords) >= 2]
    cutter = shapely.union_all([_extended(p, width_m * 1.5) for p in parts])
    pieces = list(shapely.get_parts(split(buffer, cutter)))
    reps = shapely.get_coordinates(shapely.point_on_surface(np.asarray(pieces, dtype=object)))
    signed, _, _ = nearest(build_index(line), reps[:, 0], reps[:, 1])
    wanted = signed > 0 if side == "left" else signed < 0
    return shapely.union_all([p for p, keep in zip(pieces, wanted, strict=True) if keep])


def _sections(piece: np.ndarray, length_m: float) -> list[np.ndarray]:
    """Cut a densified lon/lat path into stretches of at most ``length_m`` (sharing ends)."""
    dense = shapely.get_coordinates(densify_lonlat(LineString(piece)))
    _, _, step = WGS84.inv(dense[:-1, 0], dense[:-1, 1], dense[1:, 0], dense[1:, 1])
    along = np.concatenate([[0.0], np.cumsum(step)])
    count = max(1, math.ceil(along[-1] / length_m))
    cuts = np.searchsorted(along, np.linspace(0.0, along[-1], count + 1)[1:-1])
    marks = sorted({0, *map(int, cuts), len(dense) - 1})
    return [dense[a : b + 1] for a, b in itertools.pairwise(marks) if b > a]


def _buffer(section: np.ndarray, width_m: float, projection: LocalProjection) -> shapely.Geometry:
    """The buffer of a stretch, made in a projection centred on it, in ``projection``'s meters."""
    _, _, step = WGS84.inv(section[:-1, 0], section[:-1, 1], section[1:, 0], section[1:, 1])
    along = np.concatenate([[0.0], np.cumsum(step)])
    mid = int(np.searchsorted(along, along[-1] / 2.0))
    local = LocalProjection(*section[min(mid, len(section) - 1)])
    shape = local.to_metric(LineString(section)).buffer(width_m, quad_segs=BUFFER_QUAD_SEGS)
    return projection.to_metric(local.to_lonlat(shapely.segmentize(shape, METRIC_STEP_M)))


def derive_zone_geometry(
    line: LineString | MultiLineString, width_m: float, side: Side, projection: LocalProjection
) -> Polygon | MultiPolygon:
    """
    Build the lon/lat polygon of a zone derived from a line.

    Parameters
    ----------
    line
        The line, in lon/lat.
    width_m
        Distance in meters from the line to the zone's edge on each side named.
    side
        ``both``, ``left`` or ``right`` of the line's direction.
    projection
        The scenario's local metric projection: sides are decided in it, as when
        classifying.

    Returns
    -------
    Polygon or MultiPolygon
        Valid, in lon/lat; cut at ±180° (RFC 7946) where it crosses the antimeridian.
    """
    length = max(MIN_SECTION_M, 2.0 * (SECTION_RADIUS_M - width_m))
    pieces = line_pieces(line, where="line")
    shape = shapely.union_all(
        [_buffer(s, width_m, projection) for piece in pieces for s in _sections(piece, length)]
    )
    if side != "both":
        metric = metric_line(line, projection)
        shape = one_side(shape, metric, width_m, side)
    shape = shapely.segmentize(shape, METRIC_STEP_M)
    result = shapely.make_valid(projection.to_lonlat(shape))
    polys = [g for g in shapely.get_parts(result) if isinstance(g, Polygon)]
    return polygons_lonlat(polys[0] if len(polys) == 1 else MultiPolygon(polys))


def scenario_projection(lines: list[shapely.Geometry], drawn: list[shapely.Geometry]) -> LocalProjection:
    """The local projection of a scenario: centred on its lines and drawn zones."""
    return LocalProjection.around([*lines, *drawn])
