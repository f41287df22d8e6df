"""The baseline of the benchmarks: what a competent geopandas user writes to classify incidents.

No line of it comes from ``geo.core.classify``; it reads only the scenario records and the
category vocabulary (the uncertainty radius of each location precision). Step by step:

- **Metric CRS.** ``GeoSeries.estimate_utm_crs()`` of the scenario's lines (for the demo:
  UTM zone 52N), the usual geopandas answer to "measure in meters".
- **Zones.** Drawn zones are ``to_crs``'d. Zones derived from a line are built as a
  geopandas user builds them: the line ``to_crs``'d and ``buffer(width_m)``, or
  ``buffer(±width_m, single_sided=True)`` for one side (positive is the left).
- **Zone membership.** One ``gpd.sjoin(points, zones, predicate="intersects")``.
- **Distance to the line.** ``GeoSeries.distance(line)`` in the metric CRS (or, in the
  ``from_tree`` variant, the distance the nearest-segment query below returns anyway).
- **Side.** An ``STRtree`` over the line's segments, ``query_nearest`` for each point,
  and the sign of the cross product with that segment.
- **Uncertainty.** For points with an uncertainty radius: the distance to each drawn
  zone's edge (``GeoSeries.distance(zone.boundary)``), and for derived zones the margin
  read off the signed distance to the line.
- **Attribution and verdicts.** The reported party, else the party holding the side;
  the rules written out with numpy masks: a breach when the point is inside with its
  whole uncertainty disk, the location is not coarse, the category is prohibited and the
  party bound (reported, for rules that bind only some parties); a possible breach when
  the disk touches the zone and the rule could fire.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.categories import vocabulary
from geo.core.model import Scenario


def utm_crs(scenario: Scenario) -> object:
    """The UTM zone geopandas picks for the scenario's lines."""
    return gpd.GeoSeries([ln.geometry for ln in scenario.lines], crs=4326).estimate_utm_crs()


def metric_zones(scenario: Scenario, crs: object) -> gpd.GeoDataFrame:
    """Every zone in ``crs``: drawn zones reprojected, derived zones buffered from their line."""
    lines = gpd.GeoSeries(
        [ln.geometry for ln in scenario.lines], index=[ln.id for ln in scenario.lines], crs=4326
    ).to_crs(crs)
    geoms = []
    for zone in scenario.zones:
        if not zone.derived:
            geoms.append(gpd.GeoSeries([zone.geometry], crs=4326).to_crs(crs).iloc[0])
            continue
        line = lines.loc[[zone.line]]
        if zone.side == "both":
            geoms.append(line.buffer(zone.width_m).iloc[0])
        else:
            signed = zone.width_m if zone.side == "left" else -zone.width_m
            geoms.append(line.buffer(signed, single_sided=True).iloc[0])
    return gpd.GeoDataFrame({"zone": [z.id for z in scenario.zones]}, geometry=geoms, crs=crs)


def _in_force(at: np.ndarray, valid_from: object, valid_to: object) -> np.ndarray:
    """Whether each time (UTC ns) falls on or after ``valid_from`` and on or before ``valid_to``."""
    keep = np.ones(len(at), dtype=bool)
    if valid_from is not None:
        keep &= at >= pd.Timestamp(str(valid_from), tz="UTC").value
    if valid_to is not None:
        keep &= at < (pd.Timestamp(str(valid_to), tz="UTC") + pd.Timedelta(days=1)).value
    return keep


def signed_line_distances(
    points: gpd.GeoSeries, scenario: Scenario, *, from_tree: bool = False
) -> dict[str, np.ndarray]:
    """
    Signed distance from each point to each line (+ on the left of the line's direction).

    The distance is ``GeoSeries.distance`` (or, with ``from_tree``, the one the
    ``STRtree.query_nearest`` call returns anyway), the sign that of the cross product
    with the nearest segment.
    """
    xy = shapely.get_coordinates(points.values)
    metric = gpd.GeoSeries([ln.geometry for ln in scenario.lines], crs=4326).to_crs(points.crs)
    out = {}
    for line, geom in zip(scenario.lines, metric, strict=True):
        coords = [shapely.get_coordinates(part) for part in shapely.get_parts(geom)]
        a = np.vstack([c[:-1] for c in coords])
        b = np.vstack([c[1:] for c in coords])
        tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
        (_, seg), tree_d = tree.query_nearest(points.values, all_matches=False, return_distance=True)
        dist = tree_d if from_tree else points.distance(geom).to_numpy()
        pa, pb = a[seg], b[seg]
        cross = (pb[:, 0] - pa[:, 0]) * (xy[:, 1] - pa[:, 1]) - (pb[:, 1] - pa[:, 1]) * (xy[:, 0] - pa[:, 0])
        out[line.id] = np.where(dist < 0.01, 0.0, np.sign(cross) * dist)
    return out


def _radius(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each incident's uncertainty radius in meters, and whether its location is coarse."""
    vocab = vocabulary()
    precision = incidents["location_precision"].fillna("exact").astype(str)
    radius = precision.map(vocab.uncertainty_m).fillna(vocab.uncertainty_m["region"]).to_numpy(float)
    given = incidents["location_uncertainty_m"].to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(given) & (given >= 0), given, radius), precision.isin(vocab.coarse).to_numpy()


def _verdicts(
    incidents: pd.DataFrame,
    scenario: Scenario,
    side_party: np.ndarray,
    definite: dict[str, np.ndarray],
    possible: dict[str, np.ndarray],
    coarse: np.ndarray,
) -> np.ndarray:
    """The rules as numpy masks; the reported party wins over the one holding the side."""
    n = len(incidents)
    reported = incidents["party"].fillna("").astype(str).to_numpy(dtype=object)
    is_reported = np.isin(reported, [p.id for p in scenario.parties])
    party = np.where(is_reported, reported, side_party)
    verdict = np.where(np.any(list(possible.values()), axis=0), "no_breach", "outside_monitored_area")
    verdict = verdict.astype(object)
    category = incidents["category"].astype(str).to_numpy(dtype=object)
    for rule in scenario.rules:
        applies = np.isin(category, list(rule.prohibits))
        if rule.binds_all:
            bound_def = bound_pos = np.ones(n, dtype=bool)
        else:
            bound = np.isin(party, list(rule.parties))
            bound_def = bound & is_reported
            bound_pos = bound | (party == "")
        fires_pos = applies & possible[rule.zone] & bound_pos
        fires_def = applies & definite[rule.zone] & bound_def & ~coarse
        verdict = np.where(fires_pos & (verdict != "breach"), "possible_breach", verdict)
        verdict = np.where(fires_def, "breach", verdict)
    return verdict


def classify_geopandas(
    incidents: pd.DataFrame, scenario: Scenario, crs: object, *, from_tree: bool = False
) -> pd.DataFrame:
    """
    Classify incidents with geopandas: zones, nearest line, signed distance, side, verdict.

    Parameters
    ----------
    incidents
        ``lon``, ``lat``, ``occurred_at``, ``category``, ``location_precision``,
        ``location_uncertainty_m`` and ``party``.
    scenario
        The scenario.
    crs
        The metric CRS to measure in (see :func:`utm_crs`).
    from_tree
        Take the distance to the line from the nearest-segment query instead of
        ``GeoSeries.distance``.

    Returns
    -------
    pandas.DataFrame
        ``verdict``, ``distance_m``, ``nearest_line``, ``side`` and one ``in_<zone>``
        column per zone, indexed like ``incidents``.
    """
    n = len(incidents)
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"]), crs=4326, index=np.arange(n)
    ).to_crs(crs)
    zones = metric_zones(scenario, crs)
    joined = gpd.sjoin(pts, zones, predicate="intersects", how="inner")
    hit = {z.id: np.zeros(n, dtype=bool) for z in scenario.zones}
    for zid, rows in joined.groupby("zone").groups.items():
        hit[str(zid)][np.asarray(rows)] = True

    at = pd.to_datetime(incidents["occurred_at"], utc=True).to_numpy("datetime64[ns]").view(np.int64)
    line_d = signed_line_distances(pts.geometry, scenario, from_tree=from_tree)
    stacked = np.abs(np.vstack(list(line_d.values())))
    for i, line in enumerate(scenario.lines):  # only the lines in force at the incident's time
        stacked[i, ~_in_force(at, line.valid_from, line.valid_to)] = np.inf
    best = np.argmin(stacked, axis=0)
    dist = np.vstack(list(line_d.values()))[best, np.arange(n)]
    side = np.select([dist > 0, dist < 0], ["left", "right"], "on_line").astype(object)
    holder = {ln.id: (ln.left_party or "", ln.right_party or "") for ln in scenario.lines}
    line_of = np.array([ln.id for ln in scenario.lines], dtype=object)[best]
    left = np.array([holder[i][0] for i in line_of], dtype=object)
    right = np.array([holder[i][1] for i in line_of], dtype=object)
    side_party = np.where(side == "left", left, np.where(side == "right", right, ""))

    radius, coarse = _radius(incidents)
    uncertain = np.flatnonzero(radius > 0)
    definite, possible = {}, {}
    out = pd.DataFrame({"distance_m": dist, "nearest_line": line_of, "side": side}, index=incidents.index)
    for zone, geom in zip(scenario.zones, zones.geometry, strict=True):
        live = _in_force(at, zone.valid_from, zone.valid_to)
        if zone.derived:
            d, w = line_d[zone.line], zone.width_m
            margin = {"both": w - np.abs(d), "left": np.minimum(d, w - d), "right": np.minimum(-d, w + d)}
            edge = margin[zone.side]
        else:
            edge = np.where(hit[zone.id], np.inf, -np.inf)
            to_edge = pts.geometry.iloc[uncertain].distance(geom.boundary).to_numpy()
            edge[uncertain] = np.where(hit[zone.id][uncertain], to_edge, -to_edge)
        out[f"in_{zone.id}"] = hit[zone.id] & live
        definite[zone.id] = hit[zone.id] & (edge >= radius) & live
        possible[zone.id] = (hit[zone.id] | (edge >= -radius)) & live
    out.insert(0, "verdict", _verdicts(incidents, scenario, side_party, definite, possible, coarse))
    return out
