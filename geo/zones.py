"""Lines and zones: derived buffer zones and validity in time.

A zone derived from a line at ``width_m`` on ``side`` holds every point whose
distance to the line, including past its ends (round ends), is at most ``width_m``
and which lies on that side. Past the line's ends, the side of a point is the side of
the extended end segment.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.ops import split

from geo._metric import LocalProjection, densify_lonlat
from geo._nearest import build_index, nearest
from geo.model import Side

BUFFER_QUAD_SEGS = 64
"""Arc vertices per quarter circle: the chord error is under 0.008 % of the width."""
METRIC_STEP_M = 250.0
"""Metric edges are densified to this length before they become lon/lat edges."""

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
        The scenario's local metric projection.

    Returns
    -------
    Polygon or MultiPolygon
        Valid, in lon/lat.
    """
    metric = projection.to_metric(densify_lonlat(line))
    shape = metric.buffer(width_m, quad_segs=BUFFER_QUAD_SEGS)
    if side != "both":
        shape = one_side(shape, metric, width_m, side)
    shape = shapely.segmentize(shape, METRIC_STEP_M)
    result = shapely.make_valid(projection.to_lonlat(shape))
    polys = [g for g in shapely.get_parts(result) if isinstance(g, Polygon)]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def scenario_projection(lines: list[shapely.Geometry], drawn: list[shapely.Geometry]) -> LocalProjection:
    """The local projection of a scenario: centred on its lines and drawn zones."""
    return LocalProjection.around([*lines, *drawn])
