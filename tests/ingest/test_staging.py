"""Staged compactly (repeated column groups once per combination), every row is stored as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.core.classify import classify, prepare
from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS
from geo.services.demo import generate_incidents
from geo.services.ingest import ingest_frame
from geo.services.ingest._staging import combinations


def test_combinations_code_each_distinct_row_once():
    frame = pd.DataFrame(
        {"a": ["x", "y", "x", None, "x", None], "b": ["1", "1", "1", "2", "2", "2"]}, dtype="str"
    )
    codes, first = combinations(frame, ["a", "b"])
    assert codes.tolist() == [0, 1, 0, 2, 3, 2]  # (x,1) (y,1) (x,1) (-,2) (x,2) (-,2)
    assert first.tolist() == [0, 1, 3, 4]


def test_rows_come_back_exactly(loaded, demo_scenario):
    rng = np.random.default_rng(3)
    frame = generate_incidents(demo_scenario, n=3000, days=60, end=pd.Timestamp("2026-06-20").date(), seed=3)
    frame["location_uncertainty_m"] = np.where(
        rng.random(len(frame)) < 0.5, np.nan, rng.random(len(frame)) * 900
    )
    frame["fatalities"] = pd.array(
        np.where(rng.random(len(frame)) < 0.3, None, rng.integers(0, 9, len(frame))), dtype="Int64"
    )
    frame["weapon_class"] = np.where(rng.random(len(frame)) < 0.5, "", "mortar")
    summary = ingest_frame(loaded, frame, name="many.csv", chunk_rows=700)
    assert summary.accepted == len(frame)
    stored = loaded.query(order="incident_id").reset_index(drop=True)
    expected = pd.concat([frame.reset_index(drop=True), classify(frame, prepare(demo_scenario))], axis=1)
    for column in (*INCIDENT_COLUMNS, *CLASSIFICATION_COLUMNS):
        got, want = stored[column], expected[column]
        if column in ("location_uncertainty_m", "distance_m", "lon", "lat"):
            np.testing.assert_array_equal(
                got.to_numpy(dtype=float), want.to_numpy(dtype=float), err_msg=column
            )
        elif column == "fatalities":
            assert got.astype("Int64").tolist() == want.astype("Int64").tolist()
        elif column.startswith("occurred"):
            assert (pd.to_datetime(got, utc=True) == pd.to_datetime(want, utc=True)).all(), column
        else:
            assert got.fillna("").astype(str).tolist() == want.fillna("").astype(str).tolist(), column
    folded = loaded.frame("SELECT actor_folded, description_folded FROM incidents ORDER BY incident_id")
    assert folded["actor_folded"].tolist() == [a.casefold() for a in frame["actor"]]
    assert folded["description_folded"].tolist() == [d.casefold() for d in frame["description"]]
    assert any(not a.isascii() for a in frame["actor"])  # the Unicode folding is exercised
    zones = loaded.frame("SELECT zone_id, incident_id FROM incident_zones ORDER BY incident_id, zone_id")
    pairs = sorted(
        (z, int(i))
        for i, text in zip(stored["incident_id"], stored["zones"], strict=True)
        for z in text.split(";")
        if z
    )
    assert sorted(zip(zones["zone_id"], zones["incident_id"].astype(int), strict=True)) == pairs
    assert len(pairs) > 0
