"""The naive geopandas path, used as the benchmark baseline and as an independent check.

It does what a careful analyst would write with geopandas alone: a ``sjoin`` per drawn
zone, ``to_crs`` to a metric projection and ``GeoSeries.distance`` per line, side from
``line_locate_point`` and the local tangent, and the verdict rules written out plainly.
It shares no code with ``geo.classify`` beyond the scenario records.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.categories import vocabulary
from geo.model import Scenario


def _ns(day: object, default: int) -> int:
    return default if day is None else pd.Timestamp(str(day), tz="UTC").value


def _signed_distances(metric: gpd.GeoDataFrame, scenario: Scenario, crs: str) -> dict[str, np.ndarray]:
    """Signed distance to each line: ``GeoSeries.distance``, side from the local tangent."""
    out = {}
    for line in scenario.lines:
        geom = gpd.GeoSeries([shapely.segmentize(line.geometry, 0.005)], crs=4326).to_crs(crs).iloc[0]
        dist = metric.distance(geom).to_numpy()
        pos = shapely.line_locate_point(geom, metric.geometry.values)
        ahead = shapely.line_interpolate_point(geom, np.minimum(pos + 0.5, geom.length))
        behind = shapely.line_interpolate_point(geom, np.maximum(pos - 0.5, 0.0))
        a, b = shapely.get_coordinates(behind), shapely.get_coordinates(ahead)
        p = shapely.get_coordinates(metric.geometry.values)
        cross = (b[:, 0] - a[:, 0]) * (p[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (p[:, 0] - a[:, 0])
        out[line.id] = np.where(dist < 0.01, 0.0, np.sign(cross) * dist)
    return out


def _margins(
    pts: gpd.GeoDataFrame,
    metric: gpd.GeoDataFrame,
    scenario: Scenario,
    crs: str,
    line_d: dict[str, np.ndarray],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per zone: inside, and the signed distance to its edge (+ inside): ``sjoin`` for drawn zones."""
    out = {}
    for zone in scenario.zones:
        if zone.derived:
            d, w = line_d[zone.line], zone.width_m
            signed = {"both": w - np.abs(d), "left": np.minimum(d, w - d), "right": np.minimum(-d, w + d)}
            margin = signed[zone.side]
            out[zone.id] = (margin >= 0, margin)
            continue
        poly = gpd.GeoDataFrame({"zid": [zone.id]}, geometry=[zone.geometry], crs=4326)
        joined = gpd.sjoin(pts[["geometry"]], poly, predicate="intersects", how="left")
        hit = joined.groupby(level=0)["zid"].count().reindex(pts.index, fill_value=0).to_numpy() > 0
        edge = gpd.GeoSeries([zone.geometry.boundary], crs=4326).to_crs(crs).iloc[0]
        to_edge = metric.distance(edge).to_numpy()
        out[zone.id] = (hit, np.where(hit, to_edge, -to_edge))
    return out


def naive_classify(incidents: pd.DataFrame, scenario: Scenario, crs: str) -> pd.DataFrame:
    """Classify with plain geopandas; ``crs`` is the metric CRS to measure in."""
    pts = gpd.GeoDataFrame(
        incidents, geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"]), crs=4326
    )
    metric = pts.to_crs(crs)
    at = pd.to_datetime(incidents["occurred_at"], utc=True).to_numpy(dtype="datetime64[ns]").view(np.int64)
    day = 86_400 * 10**9
    line_d = _signed_distances(metric, scenario, crs)

    vocab = vocabulary()
    precision = incidents.get("location_precision", pd.Series("exact", index=incidents.index))
    radius = precision.map(vocab.uncertainty_m).fillna(vocab.uncertainty_m["region"]).to_numpy(float)
    if "location_uncertainty_m" in incidents:
        given = incidents["location_uncertainty_m"].to_numpy(dtype=float, na_value=np.nan)
        radius = np.where(np.isfinite(given), given, radius)
    coarse = precision.isin(vocab.coarse).to_numpy()

    inside, definite, possible = {}, {}, {}
    margins = _margins(pts, metric, scenario, crs, line_d)
    for zone in scenario.zones:
        hit, margin = margins[zone.id]
        start = _ns(zone.valid_from, np.iinfo(np.int64).min)
        live = (at >= start) & ((at < _ns(zone.valid_to, 0) + day) if zone.valid_to else True)
        inside[zone.id] = hit & live
        definite[zone.id] = hit & (margin >= radius) & live
        possible[zone.id] = (margin >= -radius) & live

    party = incidents.get("party", pd.Series("", index=incidents.index)).fillna("").to_numpy(dtype=object)
    any_possible = np.any(list(possible.values()), axis=0) if possible else np.zeros(len(incidents), bool)
    verdict = np.where(any_possible, "no_breach", "outside_monitored_area").astype(object)
    for rule in scenario.rules:
        applies = incidents["category"].isin(rule.prohibits).to_numpy()
        if not rule.binds_all:
            applies = applies & np.isin(party, rule.parties)
        fires_def = applies & definite[rule.zone] & ~coarse
        fires_pos = applies & possible[rule.zone]
        verdict = np.where(fires_pos & (verdict != "breach"), "possible_breach", verdict)
        verdict = np.where(fires_def, "breach", verdict)
    out = pd.DataFrame({"verdict": verdict}, index=incidents.index)
    if line_d:
        stacked = np.vstack(list(line_d.values()))
        best = np.argmin(np.abs(stacked), axis=0)
        out["distance_m"] = stacked[best, np.arange(len(incidents))]
        out["nearest_line"] = np.array(list(line_d), dtype=object)[best]
    for zid, hit in inside.items():
        out[f"in_{zid}"] = hit
    return out
