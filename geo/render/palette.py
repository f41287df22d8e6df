"""The one palette: colours, zone styles and legend texts shared by every output.

The live map, the standalone HTML export, the PNG map image and the PDF briefing all
take their colours and legend wording from here, so a mediator comparing the screen with
the printed briefing sees one legend.

Verdicts read in order of severity on screen, on paper and in grey (CIE L* 43, 58, 67,
80 for breach, no breach, possible breach, outside), and stay at least 27 ΔE76 apart for
each other under simulated protanopia, deuteranopia and tritanopia (Machado 2009):

- breach: red, the one strong colour;
- possible breach: orange, lighter than the red, so it separates from it without hue;
- no breach: a muted steel blue, which reads on the beige land of the map and on paper;
- outside the monitored area: light grey.

Zone kinds each have their own colour (none of the verdict hues) and dash pattern, with
light fills so nested zones show through. The party colours come from the scenario; a
party without a usable colour gets one of :data:`DEFAULT_PARTY_COLOURS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geo.i18n import N_, _

if TYPE_CHECKING:
    from geo.core.model import Scenario

# --------------------------------------------------------------------------- colours

VERDICT_COLOURS: dict[str, str] = {
    "breach": "#c8161d",
    "possible_breach": "#f08c00",
    "no_breach": "#6f8fae",
    "outside_monitored_area": "#c7c7c7",
}
NEW_COLOUR = "#00b8d4"
"""New since the last refresh: a cyan ring (halo) round the marker or the hex cell."""
LINE_COLOUR = "#111111"
"""Demarcation lines."""
UNATTRIBUTED_COLOUR = "#555555"
"""The ring (web) or edge (print) of an incident no party is attributed to."""
DEFAULT_PARTY_COLOURS: tuple[str, ...] = ("#1b7837", "#762a83", "#2166ac", "#8c510a", "#01665e", "#c51b7d")
"""For parties whose colour is missing or not a plain colour, by the party's position."""
SYNTHETIC_COLOUR = "#b3001b"
"""The banner over synthetic demo data."""
SYNTHETIC_BANNER = N_("SYNTHETIC DEMO DATA \u2014 NOT REAL EVENTS")
SYNTHETIC_NOTE = N_("generated for demonstration and training; do not cite")
MIXED_BANNER = N_("REAL AND SYNTHETIC DATA \u2014 SYNTHETIC RECORDS ARE MARKED [SYNTHETIC]")
MIXED_NOTE = N_("synthetic records are generated for demonstration; never cite them as events")


def provenance_banner(scenario: Scenario) -> tuple[str, str] | None:
    """
    The banner and its note over a scenario's data, or ``None`` when all of it is real.

    Synthetic data gets :data:`SYNTHETIC_BANNER`; real records mixed with synthetic ones
    get :data:`MIXED_BANNER`. Both in the language of the run.
    """
    kind = scenario.data_kind
    if kind == "mixed":
        return _(MIXED_BANNER), _(MIXED_NOTE)
    if kind == "synthetic" or scenario.synthetic:
        return _(SYNTHETIC_BANNER), _(SYNTHETIC_NOTE)
    return None


def provenance_lines(scenario: Scenario) -> list[str]:
    """The scenario's attribution and caveats, one line each, for every map and export."""
    out = [_("Sources: {sources}").format(sources=scenario.attribution)] if scenario.attribution else []
    return out + [_("Caveat: {caveat}").format(caveat=c) for c in scenario.caveats]


SEA, LAND, COUNTRY_BORDER = "#d9e6ef", "#f4f1ea", "#a39e93"
"""The basemap: sea (the map's background), land, and international boundaries."""
DARK_TEXT, LIGHT_TEXT = "#111111", "#ffffff"

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def rgb(colour: str) -> tuple[int, int, int]:
    """A ``#rrggbb`` or ``#rgb`` colour as 0-255 integers."""
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def blend(colour: str, opacity: float, background: str = "#ffffff") -> str:
    """The colour seen when ``colour`` is painted at ``opacity`` over ``background``."""
    mixed = (
        round(opacity * a + (1.0 - opacity) * b) for a, b in zip(rgb(colour), rgb(background), strict=True)
    )
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _luminance(colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_on(colour: str) -> str:
    """Dark or light text, whichever contrasts more with ``colour`` (WCAG contrast ratio)."""
    lum = _luminance(colour)
    dark = (lum + 0.05) / (_luminance(DARK_TEXT) + 0.05)
    light = (_luminance(LIGHT_TEXT) + 0.05) / (lum + 0.05)
    return LIGHT_TEXT if light > dark else DARK_TEXT


def party_colour(colour: object, index: int) -> str:
    """A party's colour if it is a plain hex colour, else the default for its position."""
    text = str(colour or "").strip()
    return text if _HEX.fullmatch(text) else DEFAULT_PARTY_COLOURS[index % len(DEFAULT_PARTY_COLOURS)]


def party_colours(scenario: Scenario) -> dict[str, str]:
    """Party id to colour, with ``""`` for unattributed."""
    return {
        "": UNATTRIBUTED_COLOUR,
        **{p.id: party_colour(p.colour, i) for i, p in enumerate(scenario.parties)},
    }


# --------------------------------------------------------------------------- zones


@dataclass(frozen=True)
class ZoneStyle:
    """How zones of one kind are drawn, on screen and on paper.

    ``dash`` and ``weight`` are in screen pixels; the print outputs scale them.
    """

    colour: str
    fill_opacity: float = 0.08
    dash: str = ""
    weight: float = 2.0

    @property
    def swatch_opacity(self) -> float:
        """The fill opacity of the legend swatch: at least 0.15, so faint zones stay legible."""
        return max(self.fill_opacity, 0.15)

    @property
    def swatch_fill(self) -> str:
        """The swatch's fill as seen on white (print outputs paint it opaque)."""
        return blend(self.colour, self.swatch_opacity)

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
    "demilitarized_zone": ZoneStyle("#6a3d9a", 0.16, "", 2.5),
    "buffer_zone": ZoneStyle("#1b9e77", 0.12),
    "area_of_separation": ZoneStyle("#8c510a", 0.12),
    "limitation_zone": ZoneStyle("#66a61e", 0.06, "10 5"),
    "security_zone": ZoneStyle("#01665e", 0.06, "10 5"),
    "weapons_withdrawal_zone": ZoneStyle("#c51b7d", 0.05, "12 6"),
    "restricted_area": ZoneStyle("#a6761d", 0.08, "8 4"),
    "no_fly_zone": ZoneStyle("#4d4d4d", 0.03, "2 6", 1.5),
    "joint_security_area": ZoneStyle("#252525", 0.25, "", 2.5),
}
"""Zone styles by kind: distinct colours and dash patterns, light fills so nested zones show through."""
OTHER_ZONE_STYLE = ZoneStyle("#7570b3", 0.06, "4 4")
"""For a zone kind the palette does not know."""


def zone_style(kind: str) -> ZoneStyle:
    """The style of a zone kind."""
    return ZONE_STYLES.get(kind, OTHER_ZONE_STYLE)


ATTRIBUTION_DASHES: dict[str, str] = {"reported": "", "inferred_from_side": "4 3", "unattributed": "1 3"}
"""The web map draws the party ring of a marker solid, dashed or dotted by attribution basis."""

# --------------------------------------------------------------------------- legend texts

VERDICT_LABELS: dict[str, str] = {
    "breach": N_("Breach"),
    "possible_breach": N_("Possible breach"),
    "no_breach": N_("No breach"),
    "outside_monitored_area": N_("Outside monitored area"),
}
VERDICT_PLURALS: dict[str, str] = {
    "breach": N_("Breaches"),
    "possible_breach": N_("Possible breaches"),
    "no_breach": N_("No breach"),
    "outside_monitored_area": N_("Outside monitored area"),
}
"""Headings and counts: "Breaches (12)"; lower-cased inside a sentence."""
ATTRIBUTION_LABELS: dict[str, str] = {
    "reported": N_("reported"),
    "inferred_from_side": N_("inferred from side"),
    "unattributed": N_("unattributed"),
}
ATTRIBUTION_NOTES: dict[str, str] = {
    "reported": N_("reported by the source"),
    "inferred_from_side": N_("INFERRED from the side of the line, not reported"),
}
"""How an incident's popup qualifies its party."""
UNATTRIBUTED_LABEL = N_("Unattributed")
NEW_LABEL = N_("NEW")

LEGEND_TITLE = N_("Legend")
LEGEND_VERDICT = N_("Verdict")
LEGEND_VERDICT_WEB = N_("Verdict (marker fill)")
LEGEND_PARTY_WEB = N_("Party (marker ring)")
LEGEND_PARTY_PRINT = N_("Attributed party (marker)")
LEGEND_PARTY_BASIS = N_("reported / inferred from side")
LEGEND_NEW = N_("New since last refresh")
LEGEND_CELLS = N_("Many incidents: hex cells, coloured by their most common verdict, darker when fuller")
LEGEND_CELL_BREACHES = N_("Breaches in a cell (size: how many)")
LEGEND_LINES_ZONES = N_("Lines and zones")
LEGEND_LINE = N_("Demarcation line (labels: side each party holds)")
LEGEND_NOTE_PRINT = N_(
    "Colour: verdict. Shape and edge: attributed party, as reported or inferred from the side "
    "of the line. Possible breach: the evidence (location precision, party, date) cannot carry "
    "a breach."
)
"""The legend texts above are marked for translation (``N_``): translate with ``_`` where shown."""


def zone_kind_label(kind: str) -> str:
    """A zone kind as a legend label: ``no_fly_zone`` becomes ``No fly zone`` (translated when known)."""
    label = ZONE_KIND_LABELS.get(kind)
    return _(label) if label else kind.replace("_", " ").capitalize()


ZONE_KIND_LABELS: dict[str, str] = {
    "demilitarized_zone": N_("Demilitarized zone"),
    "buffer_zone": N_("Buffer zone"),
    "area_of_separation": N_("Area of separation"),
    "limitation_zone": N_("Limitation zone"),
    "security_zone": N_("Security zone"),
    "weapons_withdrawal_zone": N_("Weapons withdrawal zone"),
    "restricted_area": N_("Restricted area"),
    "no_fly_zone": N_("No fly zone"),
    "joint_security_area": N_("Joint security area"),
}
"""The zone kinds the palette knows, as legend labels (translate with ``_`` where shown)."""
