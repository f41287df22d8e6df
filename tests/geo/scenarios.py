"""Small hand-built scenarios with answers that can be worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
from shapely import LineString, Polygon

from geo.core.model import Line, Party, Rule, Scenario, Side, Zone
from geo.core.zones import derive_zone_geometry, scenario_projection

# The meridian radius of curvature at the equator, a(1 - e^2), for WGS84.
M0 = 6_378_137.0 * (1 - 0.00669437999014)


def meridian_m(deg: float) -> float:
    """Meters along the meridian from the equator to latitude ``deg`` (small angles)."""
    return M0 * deg * 3.141592653589793 / 180.0


EQUATOR = LineString([(-1.0, 0.0), (1.0, 0.0)])  # runs west to east: north is on its left
PARTIES = (Party("north", "North", "N", "#b03a2e"), Party("south", "South", "S", "#1f618d"))


def derived(zid: str, width: float, side: Side = "both", line: LineString = EQUATOR, **kw: object) -> Zone:
    proj = scenario_projection([line], [])
    geom = derive_zone_geometry(line, width, side, proj)
    return Zone(zid, zid, "buffer_zone", geom, line="eq", width_m=width, side=side, **kw)


def scenario(
    zones: list[Zone],
    rules: list[Rule],
    line: LineString = EQUATOR,
    line_valid: tuple[date | None, date | None] = (None, None),
) -> Scenario:
    return Scenario(
        name="test",
        parties=PARTIES,
        lines=(
            Line(
                "eq", "Equator line", line, "north", "south", valid_from=line_valid[0], valid_to=line_valid[1]
            ),
        ),
        zones=tuple(zones),
        rules=tuple(rules),
    )


def rule(
    rid: str,
    zone: str,
    cats: tuple[str, ...] = ("artillery_fire",),
    parties: tuple[str, ...] = ("*",),
    **kw: object,
) -> Rule:
    return Rule(rid, zone, cats, parties, "high", f"text of {rid}", **kw)


def incidents(rows: list[dict]) -> pd.DataFrame:
    base = {
        "occurred_at": "2024-06-01T12:00:00Z",
        "category": "artillery_fire",
        "party": "",
        "location_precision": "exact",
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    for col in ("occurred_from", "occurred_to"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def square(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
