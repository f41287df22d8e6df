"""Fixtures of the export tests: the demo scenario, a seeded view, and hand-placed incidents."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geo import DEMO_MANIFEST, classify, generate_incidents, load_scenario
from geo.core.model import Scenario
from tests.helpers import hand_incidents

AS_OF = pd.Timestamp("2025-07-01T00:00:00Z")
END_DAY = date(2025, 6, 30)


def to_view(incidents: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """An incident view as the store returns it: normalised + classification + store columns."""
    view = incidents.join(classify(incidents, scenario))
    view["incident_id"] = np.arange(1, len(view) + 1, dtype=np.int64)
    view["batch_id"] = np.int64(1)
    view["ingested_at"] = pd.Timestamp("2025-07-01T00:00:00.123456Z")
    return view


def incident_rows(rows: list[dict]) -> pd.DataFrame:
    """Normalised incidents from a few hand-written rows (unlisted columns get neutral values)."""
    return hand_incidents(rows, now=AS_OF, verification="verified", id_prefix="T")


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return load_scenario(DEMO_MANIFEST)


@pytest.fixture(scope="session")
def demo_full(scenario: Scenario) -> pd.DataFrame:
    """4000 seeded demo incidents over 200 days ending 2025-06-30, classified."""
    return to_view(generate_incidents(scenario, n=4000, end=END_DAY, seed=7), scenario)


def mdl_point(scenario: Scenario, share: float, north_m: float = 0.0) -> tuple[float, float]:
    """The point at ``share`` of the MDL's length (in lon/lat), moved ``north_m`` meters north (geodesic)."""
    p = scenario.line("mdl").geometry.interpolate(share, normalized=True)
    lon, lat, _ = Geod(ellps="WGS84").fwd(p.x, p.y, 0.0, north_m)
    return float(lon), float(lat)


@pytest.fixture(scope="session")
def breach_point(scenario: Scenario) -> tuple[float, float]:
    lon, lat = mdl_point(scenario, 0.3, north_m=900.0)
    assert scenario.zone("dmz").geometry.contains(shapely.Point(lon, lat))
    return lon, lat


@pytest.fixture(scope="session")
def one_breach(scenario: Scenario, breach_point: tuple[float, float]) -> pd.DataFrame:
    """One artillery strike by the north inside the DMZ: a definite breach."""
    lon, lat = breach_point
    view = to_view(incident_rows([{"lon": lon, "lat": lat, "location_name": "Cheorwon"}]), scenario)
    assert view["verdict"].astype(str).tolist() == ["breach"]
    return view
