"""The colours and zone styles of every output.

The live map and the print outputs (PNG, PDF) still use two sets of colours here; the
print set is prefixed ``PRINT_``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geo.model import Scenario

VERDICT_COLOURS: dict[str, str] = {
    "breach": "#d7191c",
    "possible_breach": "#fdae61",
    "no_breach": "#a6d96a",
    "outside_monitored_area": "#bdbdbd",
}
PRINT_VERDICT_COLOURS: dict[str, str] = {
    "breach": "#d7191c",
    "possible_breach": "#f08c00",
    "no_breach": "#6f7b85",
    "outside_monitored_area": "#b9c0c6",
}
VERDICT_LABELS: dict[str, str] = {
    "breach": "Breach",
    "possible_breach": "Possible breach",
    "no_breach": "No breach",
    "outside_monitored_area": "Outside monitored area",
}
NEW_COLOUR = "#00b8d4"
UNATTRIBUTED_COLOUR = "#222222"
PRINT_UNATTRIBUTED_COLOUR = "#555555"
LINE_COLOUR = "#111111"
SYNTHETIC_COLOUR = "#b3001b"
ATTRIBUTION_LABELS: dict[str, str] = {
    "reported": "reported",
    "inferred_from_side": "inferred from side",
    "unattributed": "unattributed",
}


@dataclass(frozen=True)
class ZoneStyle:
    """How zones of one kind are drawn (Leaflet path options)."""

    colour: str
    fill_opacity: float = 0.08
    dash: str = ""
    weight: float = 2.0

    def options(self) -> dict[str, Any]:
        """Leaflet path options for this style."""
        return {
            "color": self.colour,
            "weight": self.weight,
            "opacity": 0.9,
            "fillColor": self.colour,
            "fillOpacity": self.fill_opacity,
            "dashArray": self.dash or None,
        }


ZONE_STYLES: dict[str, ZoneStyle] = {
    "demilitarized_zone": ZoneStyle("#6a3d9a", 0.12, "", 2.5),
    "buffer_zone": ZoneStyle("#33a02c", 0.10),
    "area_of_separation": ZoneStyle("#b15928", 0.12),
    "limitation_zone": ZoneStyle("#a6761d", 0.06, "10 5"),
    "security_zone": ZoneStyle("#1b9e77", 0.06, "10 5"),
    "weapons_withdrawal_zone": ZoneStyle("#e7298a", 0.05, "12 6"),
    "restricted_area": ZoneStyle("#d95f02", 0.06, "8 4"),
    "no_fly_zone": ZoneStyle("#4d4d4d", 0.03, "2 6", 1.5),
    "joint_security_area": ZoneStyle("#000000", 0.25, "", 2.5),
}
"""Zone styles by kind: distinct colours and dash patterns, light fills so nested zones show through."""
OTHER_ZONE_STYLE = ZoneStyle("#7570b3", 0.06, "4 4")

PRINT_ZONE_STYLES: dict[str, dict[str, object]] = {
    "demilitarized_zone": {"face": "#ffd966", "alpha": 0.55, "edge": "#9c7a00", "ls": "-"},
    "buffer_zone": {"face": "#ffd966", "alpha": 0.55, "edge": "#9c7a00", "ls": "-"},
    "area_of_separation": {"face": "#ffd966", "alpha": 0.55, "edge": "#9c7a00", "ls": "-"},
    "joint_security_area": {"face": "#b388d9", "alpha": 0.8, "edge": "#5b2c6f", "ls": "-"},
    "restricted_area": {"face": "#9ec9e8", "alpha": 0.28, "edge": "#2874a6", "ls": "--"},
    "no_fly_zone": {"face": "none", "alpha": 0.0, "edge": "#7d3c98", "ls": ":"},
    "limitation_zone": {"face": "#a9dfbf", "alpha": 0.28, "edge": "#1e8449", "ls": "--"},
    "security_zone": {"face": "#a9dfbf", "alpha": 0.28, "edge": "#1e8449", "ls": "-."},
    "weapons_withdrawal_zone": {"face": "#a3e4d7", "alpha": 0.3, "edge": "#117a65", "ls": "-."},
}
PRINT_DEFAULT_ZONE_STYLE: dict[str, object] = {"face": "#d5dbdb", "alpha": 0.3, "edge": "#566573", "ls": "-"}

ATTRIBUTION_DASHES: dict[str, str] = {"reported": "", "inferred_from_side": "4 3", "unattributed": "1 3"}
"""The web map draws the party ring of a marker solid, dashed or dotted by attribution basis."""


def party_colours(scenario: Scenario) -> dict[str, str]:
    """Party id to colour, with ``""`` for unattributed."""
    return {"": PRINT_UNATTRIBUTED_COLOUR, **{p.id: p.colour for p in scenario.parties}}
