"""Shared test data for the map tests: hostile text and small classified views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo import Scenario, classify, generate_incidents, load_scenario
from geo.render.webmap import incident_layers
from geo.render.webmap.elements import HexCells
from tests.conftest import write_geojson
from tests.helpers import hand_incidents

XSS_PAYLOADS: tuple[str, ...] = (
    "<script>window.__xss = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">",
    "${window.__xss = 'template'; alert('template')}",
    "`); window.__xss = 'backtick'; alert('backtick'); (`",
    "</script><script>window.__xss = 'close'; alert('close')</script>",
    "\\`${alert('escaped backtick')}\\` \\u0060 \\",
    '" onmouseover="alert(\'attr\')" x="',
    "' onfocus='alert(1)' autofocus='",
    "<svg onload=\"window.__xss = 'svg'; alert('svg')\"></svg>",
    "{{'map'}} {% raw %} {# jinja #} <!-- comment",
    "{{ 7 * 7 }} {{ this.__class__.__name__ }} {% if true %}jinja-ran{% endif %}",
    "Ünïcødé 조선인민군 Київ العربية \u2028 line separator \u2029 end",
)
"""Text that must come out inert wherever data text lands."""


def evil(i: int) -> str:
    return XSS_PAYLOADS[i % len(XSS_PAYLOADS)]


def cells_of(view: pd.DataFrame, scenario: Scenario, **kw: object) -> dict:
    """The hex cell payload of a view (every incident in cells)."""
    (group,) = incident_layers(view, scenario, max_markers=0, **kw)
    (cells,) = [e for e in group._children.values() if isinstance(e, HexCells)]
    return cells.data


def corners(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """Decode the corners the browser draws: lon, lat (cells x 6)."""
    units = np.asarray(data["ring"], dtype=float).reshape(-1, 12) + np.asarray(data["ringRef"], dtype=float)
    lon = np.asarray(data["lon"])[:, None] + units[:, 0::2] * data["ringScale"]
    lat = np.asarray(data["lat"])[:, None] + units[:, 1::2] * data["ringScale"]
    return lon, lat


def make_view(scenario: Scenario, n: int, *, seed: int = 0) -> pd.DataFrame:
    """A classified incident view of ``n`` synthetic incidents."""
    incidents = generate_incidents(scenario, n=n, seed=seed)
    view = incidents.join(classify(incidents, scenario))
    view["incident_id"] = np.arange(1, len(view) + 1)
    return view


# --------------------------------------------------------------------------- across 180°

FIJI_LAT = -17.0
FIJI_WIDTH_M = 10_000.0
FIJI_LINE = {"type": "LineString", "coordinates": [[179.5, FIJI_LAT], [-179.5, FIJI_LAT]]}
"""1° of longitude along 17° S, read the short way across the antimeridian (north on its left)."""
FIJI_INSIDE = ((179.6, -16.96), (179.9, -17.04), (179.99, -16.97), (-179.99, -17.03), (-179.9, -16.95))
"""Incidents within 5 km of the line, on both sides of 180°: breaches of the band."""
FIJI_OUTSIDE = ((179.7, -17.3), (-179.7, -16.7))
"""Incidents 33 km from the line, one on each side of 180°."""
FIJI_MANIFEST = """
[scenario]
name = "Fiji across the antimeridian"

[[party]]
id = "north"
name = "North"
colour = "#aa0000"

[[party]]
id = "south"
name = "South"
colour = "#0000aa"

[[line]]
id = "l"
name = "Line"
file = "line.geojson"
left_party = "north"
right_party = "south"

[[zone]]
id = "band"
name = "Band"
kind = "buffer_zone"
line = "l"
width_m = 10000

[[rule]]
id = "r"
zone = "band"
prohibits = ["artillery_fire"]
parties = ["*"]
severity = "high"
text = "No fire in the band."
"""


def fiji_scenario(folder: Path) -> Scenario:
    """A line across 180° near Fiji and its 10 km band, loaded as stored: cut at ±180°."""
    write_geojson(folder / "line.geojson", [FIJI_LINE])
    path = folder / "fiji.toml"
    path.write_text(FIJI_MANIFEST, encoding="utf-8")
    scenario = load_scenario(path)
    assert shapely.get_num_geometries(scenario.line("l").geometry) == 2  # stored cut at 180°
    return scenario


def fiji_view(scenario: Scenario, now: pd.Timestamp) -> pd.DataFrame:
    """The incidents of :data:`FIJI_INSIDE` then :data:`FIJI_OUTSIDE`, classified against ``scenario``."""
    rows = [{"lon": lon, "lat": lat} for lon, lat in (*FIJI_INSIDE, *FIJI_OUTSIDE)]
    incidents = hand_incidents(rows, now=now, verification="verified", id_prefix="F")
    view = incidents.join(classify(incidents, scenario))
    view["incident_id"] = np.arange(1, len(view) + 1, dtype=np.int64)
    return view
