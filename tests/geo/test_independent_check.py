"""Verdicts match an independent geopandas implementation on 100k random points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from benchmarks.naive import naive_classify
from geo.classify import classify, prepare
from geo.demo import DEMO_MANIFEST
from geo.manifest import load_scenario


@pytest.mark.slow
def test_verdicts_and_zones_match_naive_geopandas_on_100k_points():
    scen = load_scenario(DEMO_MANIFEST)
    rng = np.random.default_rng(42)
    n = 100_000
    cats = ["artillery_fire", "small_arms_fire", "drone_activity", "construction", "airspace_violation"]
    frame = pd.DataFrame(
        {
            "lon": rng.uniform(126.4, 128.6, n),
            "lat": rng.uniform(37.5, 38.9, n),
            "occurred_at": pd.Timestamp("2025-03-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 9e6, n), "s"),
            "category": rng.choice(cats, n),
            "party": rng.choice(["north", "south"], n),
            "location_precision": rng.choice(["exact", "area"], n, p=[0.8, 0.2]),
        }
    )
    ours = classify(frame, scen)
    # The same metric for both (the scenario's projection): what is compared is the join.
    crs = prepare(scen).projection.crs
    ref = naive_classify(frame, scen, crs)

    # Points within 1 m of any zone edge are left out: either answer is right there.
    near_edge = np.zeros(n, dtype=bool)
    pts = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326).to_crs(crs)
    for zone in scen.zones:
        edge = gpd.GeoSeries([zone.geometry.boundary], crs=4326).to_crs(crs).iloc[0]
        near_edge |= pts.distance(edge).to_numpy() < 1.0
        if zone.derived:
            d = ref["distance_m"].to_numpy()
            near_edge |= np.abs(np.abs(d) - zone.width_m) < 1.0
            near_edge |= np.abs(d) < 1.0
    keep = ~near_edge
    assert near_edge.sum() < 200  # the exclusion is narrow

    ours_zones = ours["zones"].astype(str)
    for zone in scen.zones:
        mine = ours_zones.str.split(";").apply(lambda z, zid=zone.id: zid in z).to_numpy()
        np.testing.assert_array_equal(mine[keep], ref[f"in_{zone.id}"].to_numpy()[keep], err_msg=zone.id)
    np.testing.assert_array_equal(
        ours["verdict"].astype(str).to_numpy()[keep], ref["verdict"].to_numpy()[keep]
    )
    np.testing.assert_allclose(ours["distance_m"].to_numpy(), ref["distance_m"].to_numpy(), atol=0.05)
    # The check must mean something: every verdict occurs.
    assert set(ours["verdict"].astype(str)) == {
        "breach",
        "possible_breach",
        "no_breach",
        "outside_monitored_area",
    }
