"""The scenario's geometry as the map draws it, computed once per scenario and cached.

Zones (largest first, so smaller nested zones sit on top and stay clickable) and lines as
rounded GeoJSON, the points where each party's side label goes, the scenario's extent,
and the default width of the hex cells. Everything is gathered around the scenario's
centre longitude (:mod:`geo.render.around`), so a scenario across ±180° is drawn whole.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from geo.core._metric import densify_lonlat
from geo.core.classify import prepare
from geo.core.model import Line, Scenario, Zone
from geo.core.zones import metric_line
from geo.render.around import centre_lon, gather, near_lon

_NICE_WIDTHS_M = (250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
_TARGET_CELLS = 3000


def feature(geom: shapely.Geometry, *, tolerance: float = 0.0) -> dict[str, Any]:
    """A GeoJSON feature of a lon/lat geometry, simplified by ``tolerance``, coordinates to 1e-5 degrees."""
    if tolerance:
        geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    rounded = shapely.transform(geom, lambda c: np.round(c, 5))
    return {"type": "Feature", "properties": {}, "geometry": mapping(rounded)}


@dataclass(frozen=True)
class Shapes:
    """What :func:`shapes` computes for a scenario."""

    bounds: tuple[float, float, float, float]
    """The extent of the lines and zones, lon/lat (longitudes may run past ±180)."""
    zones: tuple[tuple[Zone, dict[str, Any]], ...]
    """Largest first."""
    lines: tuple[tuple[Line, dict[str, Any]], ...]
    labels: tuple[tuple[str, float, float], ...]
    """Party id, lat, lon of each side label."""
    cell_width_m: float


_lock = threading.Lock()
_cache: dict[int, tuple[Scenario, Shapes]] = {}


def _nice_width(width: float) -> float:
    return float(min(_NICE_WIDTHS_M, key=lambda w: abs(math.log(w / width))))


def _side_labels(scenario: Scenario) -> list[tuple[str, float, float]]:
    """Points on each side of each line, offset along its left normal, for the party labels.

    They are placed along the longest piece of the line joined again across ±180°, and
    their longitudes gathered around the projection's centre.
    """
    projection = prepare(scenario).projection
    out = []
    for line in scenario.lines:
        metric = metric_line(line.geometry, projection, where=f"{scenario.name}: line[{line.id}]")
        parts = sorted(shapely.get_parts(metric), key=lambda g: -g.length)
        if not parts or parts[0].length <= 0:
            continue
        part = parts[0]
        offset = min(max(0.02 * part.length, 2_500.0), 15_000.0)
        step = min(500.0, part.length / 100)
        for frac in (0.2, 0.5, 0.8):
            at = frac * part.length
            a = part.interpolate(max(at - step, 0.0))
            b = part.interpolate(min(at + step, part.length))
            dx, dy = b.x - a.x, b.y - a.y
            norm = math.hypot(dx, dy) or 1.0
            nx, ny = -dy / norm, dx / norm  # left normal
            c = part.interpolate(at)
            for party, sign in ((line.left_party, 1.0), (line.right_party, -1.0)):
                if party:
                    lon, lat = projection.inverse(
                        np.array([c.x + sign * nx * offset]), np.array([c.y + sign * ny * offset])
                    )
                    out.append((party, float(lat[0]), float(near_lon(lon[0], projection.lon0))))
    return out


def _metric_area(scenario: Scenario, bounds: tuple[float, float, float, float]) -> float:
    """The area (m²) of the projected extent of a lon/lat box, in the scenario's projection."""
    box = densify_lonlat(shapely.box(*bounds).exterior)
    xmin, ymin, xmax, ymax = shapely.bounds(prepare(scenario).projection.to_metric(box))
    return max(float(xmax - xmin), 1.0) * max(float(ymax - ymin), 1.0)


def shapes(scenario: Scenario) -> Shapes:
    """The map geometry of a scenario (cached while the scenario object lives)."""
    with _lock:
        hit = _cache.get(id(scenario))
        if hit is not None and hit[0] is scenario:
            return hit[1]
    lon0 = centre_lon(scenario)
    zones = sorted(scenario.zones, key=lambda z: -z.geometry.area)
    zone_geoms = [gather(z.geometry, lon0) for z in zones]
    line_geoms = [gather(ln.geometry, lon0) for ln in scenario.lines]
    if zone_geoms or line_geoms:
        every = np.asarray([*line_geoms, *zone_geoms], dtype=object)
        xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(every))
    else:
        xmin, ymin, xmax, ymax = -30.0, -30.0, 30.0, 30.0
    # Cells: about _TARGET_CELLS of them over the scenario's extent, at a round width.
    width = _nice_width(
        math.sqrt(_metric_area(scenario, (xmin, ymin, xmax, ymax)) / (_TARGET_CELLS * math.sqrt(3) / 2))
    )
    found = Shapes(
        bounds=(xmin, ymin, xmax, ymax),
        zones=tuple((z, feature(g, tolerance=1e-4)) for z, g in zip(zones, zone_geoms, strict=True)),
        lines=tuple((ln, feature(g)) for ln, g in zip(scenario.lines, line_geoms, strict=True)),
        labels=tuple(_side_labels(scenario)) if scenario.lines else (),
        cell_width_m=width,
    )
    with _lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[id(scenario)] = (scenario, found)
    return found
