"""The Incident page's small map: the incident and its uncertainty disk, and the incidents around it.

What the page sends to the map component is read back (its script and the marker payloads);
the incidents around are counted again from the store file with SQL and pyproj's Geod.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from pyproj import Geod

from tests.dashboard.support import VIEWER, all_text, app, map_args, marker_payloads, query

GEOD = Geod(ellps="WGS84")


def around(db: str, incident: int, radius_m: float, days: float) -> int:
    """Other incidents within ``radius_m`` and ``days`` of one, by plain SQL and Geod."""
    rows = query(db, "SELECT incident_id, lon, lat, occurred_at FROM incidents")
    frame = pd.DataFrame(rows, columns=["id", "lon", "lat", "t"])
    me = frame[frame["id"] == incident].iloc[0]
    _, _, d = GEOD.inv(
        np.full(len(frame), me["lon"]), np.full(len(frame), me["lat"]), frame["lon"], frame["lat"]
    )
    span = days * 86400 * 1_000_000
    near = (
        (d <= radius_m)
        & (frame["t"] >= me["t"] - span)
        & (frame["t"] < me["t"] + span)
        & (frame["id"] != incident)
    )
    return int(near.sum())


def disk_coordinates(script: str) -> np.ndarray:
    """The polygon of the layer styled ``tl-uncertainty``."""
    chunks = script.split("_styler(feature)")
    (chunk,) = [c for c in chunks[1:] if '"className": "tl-uncertainty"' in c.split("}", 1)[0]]
    data = re.search(r"_add\((\{.*?\})\);", chunk, re.S)
    assert data, chunk[:400]
    feature = json.loads(data.group(1))["features"][0]
    return np.asarray(feature["geometry"]["coordinates"][0])


def test_the_incident_page_maps_the_incident_its_disk_and_the_incidents_around(db: str) -> None:
    (incident, lon, lat), *_ = query(
        db,
        "SELECT incident_id, lon, lat FROM incidents WHERE location_precision = 'near' "
        "AND location_uncertainty_m IS NULL ORDER BY incident_id LIMIT 1",
    )
    at = app(VIEWER, page="incident", query_params={"id": str(incident)})
    assert not at.exception, all_text(at)
    args = map_args(at)
    script = args["script"] + (args.get("feature_group") or "")
    coords = disk_coordinates(script)
    _, _, d = GEOD.inv(np.full(len(coords), lon), np.full(len(coords), lat), coords[:, 0], coords[:, 1])
    assert np.abs(d - 2_000.0).max() < 2.0  # the "near" precision's 2 km, geodesic
    assert "tl-focus" in script
    drawn = sum(len(p["lat"]) for p in marker_payloads(script))
    expected = around(db, incident, 10_000.0, 7)
    assert drawn == expected + 1
    assert f"{expected:,} other incident" in all_text(at) and "±2,000 m" in all_text(at)

    at.selectbox(key="i_radius").set_value(50).run()
    at.selectbox(key="i_days").set_value(0).run()
    assert not at.exception, all_text(at)
    wider = around(db, incident, 50_000.0, 10_000)
    args = map_args(at)
    assert sum(len(p["lat"]) for p in marker_payloads(args["script"])) == wider + 1
    assert wider > expected
    nearest = at.dataframe[0].value
    assert len(nearest) == min(wider, 10)
    assert list(nearest.columns) == ["Incident", "Time (UTC)", "Distance", "Category", "Verdict"]
