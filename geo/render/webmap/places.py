"""Places and rivers on the live map and in its standalone export (:mod:`geo.render.places`).

Rivers are a GeoJSON layer in the background pane. Places go to the browser as one JSON
payload, biggest first, with the zoom from which each may be labelled; ``places.js``
labels those in view from that zoom on, leaving out labels that would overlap a bigger
place's, and sets the names with ``textContent``. The credit line goes to Leaflet's
attribution control.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from functools import cache
from typing import Any

import folium
from branca.element import MacroElement

from geo.i18n import _
from geo.render.around import lon_window
from geo.render.fonts import font_path
from geo.render.places import attribution, places_in, rivers_in
from geo.render.webmap.basemap import PANE as BACKGROUND_PANE
from geo.render.webmap.escape import html_text, script_json
from geo.render.webmap.resources import template
from geo.render.webmap.shapes import feature

PLACES_PANE = "tlPlaces"
"""Place labels go above the background and zones, under the incidents."""
RIVER_COLOUR = "#6a9fd4"
MIN_MARGIN_DEG = 1.0
SCRIPT_FONTS: tuple[tuple[str, str, str], ...] = (
    ("korean", "TL Hangul", "U+1100-11FF, U+3130-318F, U+AC00-D7AF"),
    ("arabic", "TL Arabic", "U+0600-06FF, U+0750-077F, U+08A0-08FF, U+FB50-FDFF, U+FE70-FEFF"),
)
"""(shipped font, CSS family, unicode-range): local-script names are drawn in the shipped
Noto fonts, subset to the characters of the names on the map, so a browser without
Hangul or Arabic fonts still draws them (and the browser shapes Arabic with the font)."""


class PlaceLabels(MacroElement):
    """Place labels by zoom level (see ``places.js``); the parent is a feature group on the map."""

    _template = template("places.html.j2")

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PlaceLabels"
        self.data = payload
        self.payload = script_json(payload)


class PlaceFonts(MacroElement):
    """The ``@font-face`` rules of the shipped fonts, subset to the local names, in the page header."""

    _template = template("place_fonts.html.j2")

    def __init__(self, css: str) -> None:
        super().__init__()
        self._name = "PlaceFonts"
        self.css = css


@cache
def _cmap(key: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path(key)), lazy=True) as found:
        return frozenset(found.getBestCmap())


@cache
def _subset(key: str, chars: str) -> bytes:
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["*"]  # Arabic joins and ligatures are the font's GSUB features
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(font_path(key)), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def local_fonts_css(names: Iterable[str]) -> str:
    """CSS declaring the shipped script fonts (subset to ``names``' characters) for ``.tl-place-local``."""
    chars = {c for name in names for c in name}
    rules, families = [], []
    for key, family, ranges in SCRIPT_FONTS:
        covered = "".join(sorted(c for c in chars if ord(c) in _cmap(key) and ord(c) > 0x7F))
        if not covered:
            continue
        data = base64.b64encode(_subset(key, covered)).decode("ascii")
        kind = "opentype" if font_path(key).suffix == ".otf" else "truetype"
        mime = "font/otf" if kind == "opentype" else "font/ttf"
        rules.append(
            f'@font-face {{ font-family: "{family}"; src: url(data:{mime};base64,{data}) format("{kind}"); '
            f"unicode-range: {ranges}; }}"
        )
        families.append(f'"{family}"')
    if not rules:
        return ""
    return "\n".join([*rules, f".tl-place-local {{ font-family: {', '.join(families)}, sans-serif; }}"])


def places_payload(box: tuple[float, float, float, float], credit: str) -> dict[str, Any]:
    """The JSON the browser gets: the places in ``box``, biggest first, and the credit line (HTML)."""
    found = places_in(box)
    return {
        "name": [p.name for p in found],
        "local": [p.local for p in found],
        "lat": [round(p.lat, 5) for p in found],
        "lon": [round(p.lon, 5) for p in found],
        "zoom": [p.min_zoom for p in found],
        "pane": PLACES_PANE,
        "attribution": html_text(credit),
    }


def add_places_and_rivers(m: folium.Map, bounds: tuple[float, float, float, float]) -> None:
    """Add the rivers and the place labels around ``bounds`` (lon/lat, possibly past ±180)."""
    xmin, ymin, xmax, ymax = bounds
    margin = max(MIN_MARGIN_DEG, 0.5 * max(xmax - xmin, ymax - ymin))
    west, east = lon_window(xmin - margin, xmax + margin)
    box = (west, max(ymin - margin, -90.0), east, min(ymax + margin, 90.0))
    rivers, osm = rivers_in((max(west, -180.0), box[1], min(east, 180.0), box[3]))
    found = places_in(box)
    credit = attribution(places=bool(found), rivers=bool(rivers), osm=osm)
    if rivers:
        group = folium.FeatureGroup(name=html_text(_("Rivers")), show=True)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [feature(g, tolerance=0.0005) for g in rivers]},
            style_function=lambda _f: {"color": RIVER_COLOUR, "weight": 1.4, "opacity": 0.9},
            interactive=False,
            control=False,
            pane=BACKGROUND_PANE,
        ).add_to(group)
        group.add_to(m)
    if found:
        folium.map.CustomPane(PLACES_PANE, z_index=390, pointer_events=False).add_to(m)
        group = folium.FeatureGroup(name=html_text(_("Places")), show=True)
        payload = places_payload(box, credit)
        group.add_child(PlaceLabels(payload))
        group.add_to(m)
        css = local_fonts_css(payload["local"])
        if css:
            m.add_child(PlaceFonts(css))
