"""The demo data: seeded, realistic in structure, and labelled synthetic everywhere."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from geo.core.categories import vocabulary
from geo.core.classify import classify
from geo.core.model import INCIDENT_COLUMNS
from geo.services.demo import HOTSPOTS, SOURCE, generate_incidents

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def demo(demo_scenario):
    incidents = generate_incidents(demo_scenario, end=END, seed=0)
    return incidents, classify(incidents, demo_scenario)


def test_default_demo_is_at_least_5000_incidents_over_180_days(demo):
    incidents, _ = demo
    assert len(incidents) >= 5000
    span = incidents["occurred_at"].max() - incidents["occurred_at"].min()
    assert span >= pd.Timedelta(days=180)
    assert incidents["occurred_at"].max() < pd.Timestamp(END, tz="UTC") + pd.Timedelta(days=1)
    assert list(incidents.columns) == list(INCIDENT_COLUMNS)


def test_seeded_and_anchored_to_the_end_date(demo_scenario):
    a = generate_incidents(demo_scenario, n=300, end=END, seed=4)
    b = generate_incidents(demo_scenario, n=300, end=END, seed=4)
    c = generate_incidents(demo_scenario, n=300, end=END, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a["lon"].equals(c["lon"])
    assert a["source_event_id"].is_unique


def test_structure_is_realistic(demo):
    incidents, cls = demo
    assert set(incidents["category"]) == set(vocabulary().ids)  # every category
    assert set(incidents["location_precision"]) == {"exact", "near", "area", "region"}
    assert set(incidents["verification"]) == {"reported", "verified", "disputed", "rejected"}
    # Most incidents are outside the zones; some are breaches.
    assert (cls["zones"] == "").mean() > 0.5
    assert 0.02 < (cls["verdict"] == "breach").mean() < 0.3
    # Clusters: every hotspot is used, and the busiest week is well above a typical week.
    assert set(incidents["location_name"]) == {h[0] for h in HOTSPOTS}
    per_week = incidents.set_index("occurred_at").resample("W").size()
    assert per_week.max() > 2.5 * per_week.median()
    # Both sides of the line, and both parties.
    assert set(cls["side"].astype(str)) >= {"left", "right"}
    assert set(cls["attributed_party"].astype(str)) >= {"north", "south"}


def test_labelled_synthetic(demo, demo_scenario):
    incidents, _ = demo
    assert demo_scenario.synthetic
    assert (incidents["source"] == SOURCE).all()
    assert incidents["description"].str.startswith("[SYNTHETIC]").all()


def test_points_are_offset_across_the_line_not_on_it(demo):
    _, cls = demo
    distance = np.abs(cls["distance_m"].to_numpy())
    assert (distance > 20_000).mean() > 0.5
    assert (distance < 2_000).mean() > 0.05
