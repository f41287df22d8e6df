"""An incident's place: its uncertainty disk, the zones and line near it, and the incidents around it.

Every distance is geodesic: a disk is drawn in the azimuthal equidistant projection
centred on the incident (:class:`geo.core._metric.LocalProjection`), where distances from
the centre are true, and the incidents around are chosen by their geodesic distance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.core._antimeridian import polygons_lonlat
from geo.core._metric import LocalProjection, geodesic_distance
from geo.core.categories import vocabulary
from geo.core.model import Line, Scenario, Zone

DISK_VERTICES = 96


def uncertainty_radius(incident: Mapping[str, object]) -> float:
    """
    The radius (m) an incident's location may be off by.

    Its ``location_uncertainty_m`` when given, else its precision's default
    (``data/categories.toml``), as classification takes it.
    """
    given = incident.get("location_uncertainty_m")
    if given is not None and not pd.isna(given) and float(given) >= 0:  # type: ignore[arg-type]
        return float(given)  # type: ignore[arg-type]
    defaults = vocabulary().uncertainty_m
    return float(defaults.get(str(incident.get("location_precision")), defaults["region"]))


def disk(lon: float, lat: float, radius_m: float, *, vertices: int = DISK_VERTICES) -> shapely.Polygon:
    """
    The geodesic disk of ``radius_m`` around a point, as a lon/lat polygon.

    Its vertices are exactly ``radius_m`` from the centre on the ellipsoid (the projection
    is centred on it); longitudes run on past ±180 where the disk crosses it.
    """
    projection = LocalProjection(lon, lat)
    angle = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
    x, y = projection.forward(np.array([lon]), np.array([lat]))
    ring = shapely.Polygon(
        np.column_stack([x[0] + radius_m * np.cos(angle), y[0] + radius_m * np.sin(angle)])
    )
    return projection.to_lonlat(ring)


@dataclass(frozen=True)
class Place:
    """What lies around an incident."""

    incident: pd.Series
    uncertainty_m: float
    radius_m: float
    """How far around it the other incidents and the zones were looked for."""
    others: pd.DataFrame
    """The other incidents within ``radius_m`` (and the time asked), ``distance_from_m`` it, nearest first."""
    zones: tuple[Zone, ...]
    """The zones that reach within ``radius_m`` of it."""
    line: Line | None
    """Its nearest line (as classified)."""


def search_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding the disk of ``radius_m`` (cut at ±180: a box may then be the globe's width)."""
    xmin, ymin, xmax, ymax = shapely.bounds(polygons_lonlat(disk(lon, lat, radius_m)))
    return float(xmin), float(ymin), float(xmax), float(ymax)


def place(incident: pd.Series, candidates: pd.DataFrame, scenario: Scenario, *, radius_m: float) -> Place:
    """
    What lies around an incident.

    Parameters
    ----------
    incident
        The incident (``lon``, ``lat``, ``incident_id``, ``nearest_line``, precision columns).
    candidates
        Incidents that may lie around it (e.g. those in :func:`search_box`); those within
        ``radius_m`` are kept, the incident itself is not.
    scenario
        Its zones and lines.
    radius_m
        How far around it to look.
    """
    lon, lat = float(incident["lon"]), float(incident["lat"])
    area = polygons_lonlat(disk(lon, lat, radius_m))
    others = candidates[candidates["incident_id"] != incident["incident_id"]]
    far = geodesic_distance(
        np.full(len(others), lon),
        np.full(len(others), lat),
        others["lon"].to_numpy(dtype=np.float64),
        others["lat"].to_numpy(dtype=np.float64),
    )
    others = others.assign(distance_from_m=far)[far <= radius_m].sort_values("distance_from_m", kind="stable")
    zones = tuple(z for z in scenario.zones if shapely.intersects(polygons_lonlat(z.geometry), area))
    lines = {ln.id: ln for ln in scenario.lines}
    nearest = incident.get("nearest_line")
    line = lines.get(str(nearest)) if nearest is not None and not pd.isna(nearest) else None
    return Place(incident, uncertainty_radius(incident), radius_m, others.reset_index(drop=True), zones, line)
