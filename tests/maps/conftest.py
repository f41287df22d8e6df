"""Fixtures for the map tests: the demo scenario, small classified views, hostile text, and a
scenario across the antimeridian."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from geo import DEMO_MANIFEST, Scenario, load_scenario
from tests.maps.helpers import evil, fiji_scenario, fiji_view, make_view

FIJI_NOW = pd.Timestamp("2025-07-01T00:00:00Z")


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return load_scenario(DEMO_MANIFEST)


@pytest.fixture(scope="session")
def view_400(scenario: Scenario) -> pd.DataFrame:
    return make_view(scenario, 400)


@pytest.fixture(scope="session")
def evil_scenario(scenario: Scenario) -> Scenario:
    """The demo scenario with hostile names, kinds, colours and rule texts."""
    parties = tuple(
        dataclasses.replace(
            p,
            name=evil(2 * i) + p.name,
            short_name=evil(2 * i + 3) + p.short_name,
            colour="red;background:url(javascript:alert(1))",
        )
        for i, p in enumerate(scenario.parties)
    )
    zones = tuple(
        dataclasses.replace(
            z,
            name=evil(i) + z.name,
            source=evil(i + 6),
            kind=z.kind if i else "kind<img src=x onerror=alert('kind')>",
        )
        for i, z in enumerate(scenario.zones)
    )
    lines = tuple(
        dataclasses.replace(ln, name=evil(3) + ln.name, agreement=evil(4), source=evil(5))
        for ln in scenario.lines
    )
    rules = tuple(
        dataclasses.replace(r, text=evil(i) + r.text, severity=evil(i + 5))
        for i, r in enumerate(scenario.rules)
    )
    return dataclasses.replace(
        scenario, name=evil(0) + "<title>", parties=parties, zones=zones, lines=lines, rules=rules
    )


@pytest.fixture(scope="session")
def evil_view(view_400: pd.DataFrame) -> pd.DataFrame:
    """The small view with hostile descriptions, actors, targets, places and sources."""
    view = view_400.copy()
    text = pd.Series([evil(i) for i in range(len(view))], index=view.index, dtype="str")
    for col in ("description", "target", "location_name", "source_event_id", "sub_category"):
        view[col] = text
    view["actor"] = text.iloc[::-1].to_numpy()
    view["source"] = "monitor-" + text
    return view


@pytest.fixture(scope="session")
def fiji(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """A line across 180° near Fiji and its 10 km band, as loaded from a manifest (cut at 180°)."""
    return fiji_scenario(tmp_path_factory.mktemp("fiji"))


@pytest.fixture(scope="session")
def fiji_incidents(fiji: Scenario) -> pd.DataFrame:
    """Five breaches in the band and two incidents outside it, on both sides of 180°."""
    view = fiji_view(fiji, FIJI_NOW)
    assert view["verdict"].astype(str).tolist() == ["breach"] * 5 + ["outside_monitored_area"] * 2
    return view
