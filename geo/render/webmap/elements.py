"""The folium elements of a Truceline map; their templates only call the shipped scripts with JSON."""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement

from geo.i18n import is_rtl
from geo.render import palette
from geo.render.webmap.escape import script_json
from geo.render.webmap.resources import script_library, stylesheet, template


def palette_css() -> str:
    """The palette's colours as the CSS custom properties ``map.css`` uses."""
    colours = {"sea": palette.SEA, "new": palette.NEW_COLOUR, "synthetic": palette.SYNTHETIC_COLOUR}
    return ":root { " + " ".join(f"--tl-{k}: {v};" for k, v in colours.items()) + " }"


RTL_CSS = (
    ".tl-legend, .tl-info, .leaflet-popup-content, .leaflet-control-layers, .leaflet-tooltip "
    "{ direction: rtl; text-align: right; }"
)
"""Right to left: the legend, the caption, popups, tooltips and the layer list read from the right."""


def corner(position: str) -> str:
    """A Leaflet control corner, mirrored (left and right swapped) for a right-to-left language."""
    if not is_rtl():
        return position
    return position.replace("left", "\0").replace("right", "left").replace("\0", "right")


class Stylesheet(MacroElement):
    """The map's stylesheet, in the page header (streamlit-folium keeps inline styles)."""

    _template = template("stylesheet.html.j2")

    def __init__(self) -> None:
        super().__init__()
        self._name = "TrucelineCss"
        self.css = palette_css() + "\n" + stylesheet() + ("\n" + RTL_CSS if is_rtl() else "")


class ScriptLibrary(MacroElement):
    """The map's scripts (``window.Truceline``), once, in the map's own script."""

    _template = template("library.html.j2")

    def __init__(self) -> None:
        super().__init__()
        self._name = "TrucelineScripts"
        self.code = script_library()


class Control(MacroElement):
    """A Leaflet control whose content is fixed HTML (already escaped), set once."""

    _template = template("control.html.j2")

    def __init__(self, content_html: str, *, position: str, css_class: str, name: str) -> None:
        super().__init__()
        self._name = name
        self.content = script_json(content_html)
        self.html = content_html
        self.position = position
        self.css_class = css_class


class Legend(Control):
    """The legend, folded (``<details>``): the browser opens it on a map ``wide_from`` px wide or more."""

    _template = template("legend.html.j2")

    def __init__(self, content_html: str, *, wide_from: int = 700) -> None:
        super().__init__(content_html, position=corner("bottomright"), css_class="tl-legend", name="Legend")
        self.wide_from = int(wide_from)


class BindPopup(MacroElement):
    """Bind a popup of fixed, already escaped HTML to the parent layer (no jQuery)."""

    _template = template("bind_popup.html.j2")

    def __init__(self, content_html: str) -> None:
        super().__init__()
        self._name = "BindPopup"
        self.content = script_json(content_html)
        self.html = content_html


class IncidentMarkers(MacroElement):
    """Incidents as circle markers: fill = verdict, ring = party, dashes = attribution basis.

    The payload is one JSON object; popups are built in the browser with
    ``textContent``, so no data text is ever parsed as HTML or JS.
    """

    _template = template("incident_markers.html.j2")

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "IncidentMarkers"
        self.data = payload
        self.count = len(payload["lat"])
        self.payload = script_json(payload)


class HexCells(MacroElement):
    """Aggregated incidents: one hexagon per occupied cell, drawn on a canvas (see ``cells.js``)."""

    _template = template("hex_cells.html.j2")

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "HexCells"
        self.data = payload
        self.count = len(payload["lat"])
        self.payload = script_json(payload)
