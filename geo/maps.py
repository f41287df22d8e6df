"""Folium maps of a scenario and its incidents: offline, escaped, bounded in size.

A map is built in two parts, so that the dashboard can keep the first stable and
refresh the second through ``st_folium(feature_group_to_add=...)``:

- :func:`base_map`: the background (Natural Earth countries, or web tiles only when a
  tile URL is given), zones styled by kind, demarcation lines with each party's side
  labelled, a legend and the CSS of every layer. It depends only on the scenario.
- :func:`incident_layers`: the incidents of a view, as folium feature groups. Up to
  ``max_markers`` incidents are drawn one by one; beyond that they are counted in
  hexagonal cells of a metric projection, so the payload stays bounded whatever
  the number of incidents.

:func:`build_map` puts both together with a layer control and a caption panel, and
:func:`export_html` turns a map into one self-contained HTML file.

Every script and style comes from ``dashboard/static/vendor`` (served by Streamlit at
``/app/static/vendor``); exports inline them. Text from data reaches the browser
only HTML-escaped (and entity-encoded where folium wraps it in a JS template
literal), or as JSON that the incident popups put into the page with ``textContent``.

Examples
--------
The live map in the dashboard (the base map's script stays the same across reruns, so
the iframe keeps its pan and zoom; only the layers change)::

    m = maps.base_map(scenario, layer_control=False)
    layers = maps.incident_layers(view, scenario, new_since=last_refresh)
    st_folium(m, key="live-map", feature_group_to_add=layers,
              layer_control=folium.LayerControl(collapsed=False), returned_objects=[])

A briefing file::

    Path("map.html").write_text(maps.export_html(maps.build_map(scenario, view, data_as_of=now)))
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template
from shapely.geometry import mapping

from geo._assets import STATIC_URL, check_local, inline_assets, use_local_assets
from geo._escape import css_colour, html_text, script_json, template_html
from geo.categories import vocabulary
from geo.classify import prepare
from geo.model import VERDICTS, Line, Scenario, Zone

__all__ = [
    "BASEMAP_PATH",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_MARKERS",
    "MAX_MARKER_BYTES",
    "STATIC_URL",
    "VERDICT_COLOURS",
    "VERDICT_LABELS",
    "ZONE_STYLES",
    "ZoneStyle",
    "base_map",
    "build_map",
    "check_offline",
    "export_html",
    "incident_layers",
]

BASEMAP_PATH = Path(__file__).resolve().parent.parent / "data" / "basemap" / "naturalearth_lowres.shp"
DEFAULT_MAX_MARKERS = 3000
"""Up to this many incidents are drawn as individual markers; beyond, as hex cells."""
DEFAULT_MAX_CELLS = 20_000
"""At most this many hex cells are shipped: the cells grow until the count fits."""
MAX_MARKER_BYTES = 3_000_000
"""Marker payloads above this get shorter popup texts, then give way to cells: the map stays < 5 MB."""
_TEXT_CAPS = (2000, 400, 100)
_FREE_TEXT = (
    "description",
    "actor",
    "target",
    "location_name",
    "sub_category",
    "weapon_class",
    "source",
    "source_event_id",
)

VERDICT_COLOURS: dict[str, str] = {
    "breach": "#d7191c",
    "possible_breach": "#fdae61",
    "no_breach": "#a6d96a",
    "outside_monitored_area": "#bdbdbd",
}
VERDICT_LABELS: dict[str, str] = {
    "breach": "Breach",
    "possible_breach": "Possible breach",
    "no_breach": "No breach",
    "outside_monitored_area": "Outside monitored area",
}
_VERDICT_PLURALS = ("Breaches", "Possible breaches", "No breach", "Outside monitored area")
NEW_COLOUR = "#00b8d4"
UNATTRIBUTED_COLOUR = "#222222"
LINE_COLOUR = "#111111"
_ATTRIBUTIONS = ("reported", "inferred_from_side", "unattributed")
_DASHES = ("", "4 3", "1 3")


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
_OTHER_ZONE = ZoneStyle("#7570b3", 0.06, "4 4")

_M_PER_DEG = 111_320.0
_EARTH_R = 6_371_008.8
_NICE_WIDTHS_M = (250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
_TARGET_CELLS = 3000
_BASEMAP_PANE = "tlBasemap"
"""Countries go in a pane under the overlay pane, so that canvas-drawn cells show above them."""


# --------------------------------------------------------------------------- elements


class _Css(MacroElement):
    """The map's stylesheet, in the page header (streamlit-folium keeps inline styles)."""

    _template = Template("""
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
    """)

    def __init__(self, css: str) -> None:
        super().__init__()
        self._name = "TrucelineCss"
        self.css = css


class _Control(MacroElement):
    """A Leaflet control whose content is fixed HTML (already escaped), set once."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function () {
                var control = L.control({position: {{ this.position|tojson }}});
                control.onAdd = function () {
                    var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                    div.innerHTML = {{ this.content }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                control.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}
    """)

    def __init__(self, content_html: str, *, position: str, css_class: str, name: str) -> None:
        super().__init__()
        self._name = name
        self.content = script_json(content_html)
        self.html = content_html
        self.position = position
        self.css_class = css_class


class _BindPopup(MacroElement):
    """Bind a popup of fixed, already escaped HTML to the parent layer (no jQuery)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindPopup({{ this.content }}, {maxWidth: 420, minWidth: 240});
        {% endmacro %}
    """)

    def __init__(self, content_html: str) -> None:
        super().__init__()
        self._name = "BindPopup"
        self.content = script_json(content_html)
        self.html = content_html


_POPUP_JS = """
    function cell(col, i) {
        if (col === undefined || col === null) { return ""; }
        var v = Array.isArray(col) ? col[i] : col.d[col.c[i]];
        return v === null || v === undefined ? "" : String(v);
    }
    function popup(i) {
        var root = document.createElement("div");
        root.className = "tl-popup";
        var head = document.createElement("div");
        head.className = "tl-popup-head";
        var badge = document.createElement("span");
        badge.className = "tl-badge";
        badge.style.background = D.verdictColours[D.v[i]];
        badge.style.color = D.verdictText[D.v[i]];
        badge.textContent = D.verdictLabels[D.v[i]];
        head.appendChild(badge);
        if (D.isNew[i]) {
            var fresh = document.createElement("span");
            fresh.className = "tl-badge tl-badge-new";
            fresh.textContent = D.newLabel;
            head.appendChild(fresh);
        }
        var title = document.createElement("strong");
        title.textContent = " " + cell(D.f.title, i);
        head.appendChild(title);
        root.appendChild(head);
        var table = document.createElement("table");
        for (var k = 0; k < D.fields.length; k++) {
            var value = cell(D.f[D.fields[k][0]], i);
            if (value === "") { continue; }
            var row = table.insertRow();
            var th = document.createElement("th");
            th.textContent = D.fields[k][1];
            row.appendChild(th);
            row.insertCell().textContent = value;
        }
        root.appendChild(table);
        return root;
    }
    function tip(i) {
        var span = document.createElement("span");
        span.textContent = cell(D.f.title, i) + " \\u00b7 " + D.verdictLabels[D.v[i]]
            + " \\u00b7 " + cell(D.f.time, i);
        return span;
    }
"""


class _IncidentMarkers(MacroElement):
    """Incidents as circle markers: fill = verdict, ring = party, dashes = attribution basis.

    The payload is one JSON object; popups are built in the browser with
    ``textContent``, so no data text is ever parsed as HTML or JS.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var layer = {{ this._parent.get_name() }};
                var D = {{ this.payload }};
                """
        + _POPUP_JS
        + """
                for (var i = 0; i < D.lat.length; i++) {
                    var ll = [D.lat[i], D.lon[i]];
                    if (D.isNew[i]) {
                        L.circleMarker(ll, {radius: 11, color: D.newColour, weight: 3, opacity: 0.9,
                            fill: false, interactive: false, className: "tl-new-halo"}).addTo(layer);
                    }
                    var p = D.p[i], a = D.a[i];
                    var marker = L.circleMarker(ll, {
                        radius: D.isNew[i] ? 7 : 6,
                        fillColor: D.verdictColours[D.v[i]], fillOpacity: 0.9,
                        color: p >= 0 ? D.partyColours[p] : D.unattributedColour,
                        weight: 2.5, opacity: a === 0 ? 1 : 0.85,
                        dashArray: D.dashes[a] || null,
                        className: "tl-incident tl-v-" + D.verdictIds[D.v[i]] + " tl-a-" + D.attributions[a]
                    });
                    marker.bindPopup((function (k) { return function () { return popup(k); }; })(i),
                                     {maxWidth: 440, minWidth: 340});
                    marker.bindTooltip((function (k) { return function () { return tip(k); }; })(i));
                    layer.addLayer(marker);
                }
            })();
        {% endmacro %}
    """
    )

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "IncidentMarkers"
        self.data = payload
        self.count = len(payload["lat"])
        self.payload = script_json(payload)


class _HexCells(MacroElement):
    """Aggregated incidents: one hexagon per occupied cell, drawn on a canvas.

    Fill = the most common verdict in the cell, opacity = the number of incidents,
    cyan outline = the cell holds new incidents; a red dot sized by the number of
    breaches marks cells with breaches. Tooltips list counts by verdict and party.
    The canvas sits under the zones and lines (Leaflet draws SVG above canvas).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function () {
                var layer = {{ this._parent.get_name() }};
                var D = {{ this.payload }};
                var renderer = L.canvas({padding: 0.5});
                var nv = D.verdictLabels.length, np_ = D.partyNames.length;
                var logMax = Math.log(1 + D.maxCount);
                function tip(i) {
                    var div = document.createElement("div");
                    var total = 0, k;
                    for (k = 0; k < nv; k++) { total += D.counts[i * nv + k]; }
                    var head = document.createElement("strong");
                    head.textContent = total.toLocaleString("en") + (total === 1 ? " incident" : " incidents")
                        + (D.fresh[i] ? " (" + D.fresh[i] + " new)" : "");
                    div.appendChild(head);
                    for (k = 0; k < nv; k++) {
                        if (!D.counts[i * nv + k]) { continue; }
                        var line = document.createElement("div");
                        line.textContent = D.verdictLabels[k] + ": "
                            + D.counts[i * nv + k].toLocaleString("en");
                        div.appendChild(line);
                    }
                    var parts = [];
                    for (k = 0; k < np_; k++) {
                        var c = D.parties[i * np_ + k];
                        if (c) { parts.push(D.partyNames[k] + " " + c.toLocaleString("en")); }
                    }
                    var by = document.createElement("div");
                    by.textContent = "By party: " + parts.join(", ");
                    div.appendChild(by);
                    return div;
                }
                var dots = [];
                for (var i = 0; i < D.lat.length; i++) {
                    var total = 0, top = 0;
                    for (var k = 0; k < nv; k++) {
                        var c = D.counts[i * nv + k];
                        total += c;
                        if (c > D.counts[i * nv + top]) { top = k; }
                    }
                    var phi = D.lat[i] * Math.PI / 180;
                    var mLat = 111132.954 - 559.822 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi);
                    var mLon = 111412.84 * Math.cos(phi) - 93.5 * Math.cos(3 * phi);
                    var ring = [];
                    for (var v = 0; v < 6; v++) {
                        var ang = Math.PI / 180 * (60 * v + 30);
                        ring.push([D.lat[i] + D.radius * Math.sin(ang) / mLat,
                                   D.lon[i] + D.radius * Math.cos(ang) / mLon]);
                    }
                    var tipFn = (function (k) { return function () { return tip(k); }; })(i);
                    var hex = L.polygon(ring, {
                        renderer: renderer, fillColor: D.verdictColours[top],
                        fillOpacity: 0.2 + 0.6 * Math.log(1 + total) / logMax,
                        color: D.fresh[i] ? D.newColour : "#ffffff",
                        weight: D.fresh[i] ? 2.5 : 0.4, opacity: 0.9
                    });
                    hex.bindTooltip(tipFn, {sticky: true});
                    layer.addLayer(hex);
                    if (D.counts[i * nv] > 0) { dots.push([i, tipFn]); }
                }
                var maxBreach = 1;
                dots.forEach(function (d) { maxBreach = Math.max(maxBreach, D.counts[d[0] * nv]); });
                var logBreach = Math.log(1 + maxBreach);
                dots.forEach(function (d) {
                    var i = d[0];
                    var dot = L.circleMarker([D.lat[i], D.lon[i]], {
                        renderer: renderer, radius: 2 + 7 * Math.log(1 + D.counts[i * nv]) / logBreach,
                        fillColor: D.verdictColours[0], fillOpacity: 0.95, color: "#ffffff", weight: 1
                    });
                    dot.bindTooltip(d[1], {sticky: true});
                    layer.addLayer(dot);
                });
            })();
        {% endmacro %}
    """)

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__()
        self._name = "HexCells"
        self.data = payload
        self.count = len(payload["lat"])
        self.payload = script_json(payload)


_CSS = """
.leaflet-container { background: #d4e4ee; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto,
  "Noto Sans", "Noto Sans CJK KR", Arial, sans-serif; }
.tl-legend, .tl-info { background: rgba(255,255,255,.94); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,.35); max-width: 320px; color: #222; }
.tl-legend summary, .tl-info strong.tl-title { font-weight: 600; cursor: pointer; }
.tl-legend h4 { margin: 6px 0 2px; font-size: 12px; text-transform: uppercase; color: #555; }
.tl-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.tl-legend svg { flex: none; }
.tl-legend p, .tl-info p { margin: 3px 0; font-size: 12px; color: #444; }
.tl-info .tl-banner { background: #b71c1c; color: #fff; font-weight: 700; padding: 2px 6px;
  border-radius: 3px; display: inline-block; margin: 2px 0; }
.tl-info table, .tl-popup table { border-collapse: collapse; }
.tl-info th, .tl-popup th { text-align: left; vertical-align: top; padding: 1px 8px 1px 0;
  color: #555; font-weight: 600; white-space: nowrap; }
.tl-info td, .tl-popup td { vertical-align: top; padding: 1px 0; white-space: pre-line;
  overflow-wrap: anywhere; }
.tl-popup { max-height: 340px; overflow-y: auto; }
.tl-popup-head { margin-bottom: 4px; }
.tl-badge { display: inline-block; padding: 0 5px; border-radius: 3px; color: #111;
  font-weight: 600; margin-right: 4px; }
.tl-badge-new { background: #00b8d4; color: #fff; }
.tl-side-label span { display: inline-block; transform: translate(-50%, -50%); white-space: nowrap;
  background: rgba(255,255,255,.85); border: 1.5px solid; border-radius: 3px; padding: 0 4px;
  font-weight: 700; font-size: 12px; }
.tl-new-halo { animation: tl-pulse 1.6s ease-in-out infinite; }
@keyframes tl-pulse { 0%, 100% { stroke-opacity: 1; } 50% { stroke-opacity: .15; } }
@media (prefers-reduced-motion: reduce) { .tl-new-halo { animation: none; } }
"""


# --------------------------------------------------------------------------- geometry


def _round_coords(geom: shapely.Geometry, decimals: int = 5) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def _geojson(geom: shapely.Geometry, *, tolerance: float = 0.0) -> dict[str, Any]:
    if tolerance:
        geom = shapely.simplify(geom, tolerance, preserve_topology=True)
    return {"type": "Feature", "properties": {}, "geometry": mapping(_round_coords(geom))}


@cache
def _countries(path: Path, box: tuple[float, float, float, float]) -> tuple[dict[str, Any], ...]:
    """Natural Earth countries clipped to ``box`` (lon/lat), as GeoJSON features."""
    from pyogrio.raw import read

    _, _, wkb, _ = read(str(path), columns=[])
    geoms = shapely.clip_by_rect(shapely.from_wkb(wkb), *box)
    geoms = geoms[~shapely.is_empty(geoms)]
    return tuple(_geojson(g, tolerance=0.005) for g in geoms)


@dataclass(frozen=True)
class _Shapes:
    bounds: tuple[float, float, float, float]  # lon/lat
    zones: tuple[tuple[Zone, dict[str, Any]], ...]  # largest first
    lines: tuple[tuple[Line, dict[str, Any]], ...]
    labels: tuple[tuple[str, float, float], ...]  # party id, lat, lon
    cell_width_m: float


_shapes_lock = threading.Lock()
_shapes_cache: dict[int, tuple[Scenario, _Shapes]] = {}


def _nice_width(width: float) -> float:
    return float(min(_NICE_WIDTHS_M, key=lambda w: abs(math.log(w / width))))


def _side_labels(scenario: Scenario) -> list[tuple[str, float, float]]:
    """Points on each side of each line, offset along its left normal, for the party labels."""
    projection = prepare(scenario).projection
    out = []
    for line in scenario.lines:
        parts = sorted(shapely.get_parts(projection.to_metric(line.geometry)), key=lambda g: -g.length)
        if not parts or parts[0].length <= 0:
            continue
        part = parts[0]
        offset = min(max(0.02 * part.length, 2_500.0), 15_000.0)
        step = min(500.0, part.length / 100)
        for frac in (0.2, 0.5, 0.8):
            at = frac * part.length
            a = part.interpolate(max(at - step, 0.0))
            b = part.interpolate(min(at + step, part.length))
            dx, dy = b.x - a.x, b.y - a.y
            norm = math.hypot(dx, dy) or 1.0
            nx, ny = -dy / norm, dx / norm  # left normal
            c = part.interpolate(at)
            for party, sign in ((line.left_party, 1.0), (line.right_party, -1.0)):
                if party:
                    lon, lat = projection.inverse(
                        np.array([c.x + sign * nx * offset]), np.array([c.y + sign * ny * offset])
                    )
                    out.append((party, float(lat[0]), float(lon[0])))
    return out


def _shapes(scenario: Scenario) -> _Shapes:
    with _shapes_lock:
        hit = _shapes_cache.get(id(scenario))
        if hit is not None and hit[0] is scenario:
            return hit[1]
    geoms = [ln.geometry for ln in scenario.lines] + [z.geometry for z in scenario.zones]
    if geoms:
        xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(np.asarray(geoms, dtype=object)))
    else:
        xmin, ymin, xmax, ymax = -30.0, -30.0, 30.0, 30.0
    zones = sorted(scenario.zones, key=lambda z: -z.geometry.area)
    # Cells: about _TARGET_CELLS of them over the scenario's extent, at a round width.
    w_m = max(xmax - xmin, 1e-3) * _M_PER_DEG * math.cos(math.radians((ymin + ymax) / 2))
    h_m = max(ymax - ymin, 1e-3) * _M_PER_DEG
    width = _nice_width(math.sqrt(max(w_m * h_m, 1.0) / (_TARGET_CELLS * math.sqrt(3) / 2)))
    shapes = _Shapes(
        bounds=(xmin, ymin, xmax, ymax),
        zones=tuple((z, _geojson(z.geometry, tolerance=1e-4)) for z in zones),
        lines=tuple((ln, _geojson(ln.geometry)) for ln in scenario.lines),
        labels=tuple(_side_labels(scenario)) if scenario.lines else (),
        cell_width_m=width,
    )
    with _shapes_lock:
        if len(_shapes_cache) > 8:
            _shapes_cache.clear()
        _shapes_cache[id(scenario)] = (scenario, shapes)
    return shapes


# --------------------------------------------------------------------------- base map


def _label(identifier: str) -> str:
    return identifier.replace("_", " ").capitalize()


def _period(valid_from: date | None, valid_to: date | None) -> str:
    if valid_from is None and valid_to is None:
        return "always"
    start = valid_from.isoformat() if valid_from else "…"
    return f"{start} to {valid_to.isoformat()}" if valid_to else f"since {start}"


def _rows_html(rows: Sequence[tuple[str, str]]) -> str:
    """A table of (label, value) rows; values are already escaped HTML."""
    body = "".join(f"<tr><th>{html_text(k)}</th><td>{v}</td></tr>" for k, v in rows if v)
    return f"<table>{body}</table>"


def _party_name(scenario: Scenario, party_id: str | None) -> str:
    parties = {p.id: p for p in scenario.parties}
    return parties[party_id].name if party_id in parties else (party_id or "")


def _zone_popup(scenario: Scenario, zone: Zone) -> str:
    vocab = vocabulary().labels
    rules = []
    for rule in scenario.rules:
        if rule.zone != zone.id:
            continue
        binds = "all parties" if rule.binds_all else ", ".join(_party_name(scenario, p) for p in rule.parties)
        cats = ", ".join(vocab.get(c, c) for c in rule.prohibits)
        rules.append(
            f"<p><b>{html_text(rule.id)}</b> [{html_text(rule.severity)}] prohibits "
            f"{html_text(cats)} for {html_text(binds)}.<br>{html_text(rule.text)}</p>"
        )
    derived = ""
    if zone.derived:
        line = {ln.id: ln for ln in scenario.lines}.get(zone.line or "")
        side = {"both": "both sides", "left": "the left side", "right": "the right side"}.get(
            zone.side or "", ""
        )
        holder = ""
        if line is not None and zone.side in ("left", "right"):
            holder = f" ({_party_name(scenario, line.party_on(zone.side))})"
        derived = html_text(
            f"{zone.width_m or 0:,.0f} m on {side}{holder} of {line.name if line else zone.line}"
        )
    rows = [
        ("Kind", html_text(_label(zone.kind))),
        ("In force", html_text(_period(zone.valid_from, zone.valid_to))),
        ("Derived", derived),
        ("Source", html_text(zone.source)),
        ("Rules", "".join(rules)),
    ]
    return (
        f'<div class="tl-popup"><div class="tl-popup-head"><strong>{html_text(zone.name)}</strong></div>'
        f"{_rows_html(rows)}</div>"
    )


def _line_popup(scenario: Scenario, line: Line) -> str:
    rows = [
        ("Agreement", html_text(line.agreement)),
        ("In force", html_text(_period(line.valid_from, line.valid_to))),
        ("Left side", html_text(_party_name(scenario, line.left_party))),
        ("Right side", html_text(_party_name(scenario, line.right_party))),
        ("Direction", "sides are left and right of the line's direction"),
        ("Source", html_text(line.source)),
    ]
    return (
        f'<div class="tl-popup"><div class="tl-popup-head"><strong>{html_text(line.name)}</strong></div>'
        f"{_rows_html(rows)}</div>"
    )


_SVG18 = '<svg class="tl-swatch" width="18" height="18" viewBox="0 0 18 18">'
_SVG26 = '<svg class="tl-swatch" width="26" height="16" viewBox="0 0 26 16">'


def _swatch_circle(fill: str, stroke: str, dash: str = "", radius: int = 6) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'{_SVG18}<circle cx="9" cy="9" r="{radius}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2.5"{dash_attr}/></svg>'
    )


def _swatch_zone(style: ZoneStyle) -> str:
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return (
        f'{_SVG26}<rect x="2" y="2" width="22" height="12" '
        f'fill="{style.colour}" fill-opacity="{max(style.fill_opacity, 0.15)}" stroke="{style.colour}" '
        f'stroke-width="2"{dash}/></svg>'
    )


def _legend_html(scenario: Scenario) -> str:
    row = '<div class="row">{}<span>{}</span></div>'
    parts = ["<details open><summary>Legend</summary>", "<h4>Verdict (marker fill)</h4>"]
    parts += [
        row.format(_swatch_circle(VERDICT_COLOURS[v], "#666"), html_text(VERDICT_LABELS[v])) for v in VERDICTS
    ]
    parts.append("<h4>Party (marker ring)</h4>")
    for p in scenario.parties:
        colour = css_colour(p.colour)
        parts.append(
            row.format(
                _swatch_circle("#fff", colour) + _swatch_circle("#fff", colour, _DASHES[1]),
                html_text(f"{p.short_name or p.name}: reported / inferred from side"),
            )
        )
    parts.append(row.format(_swatch_circle("#fff", UNATTRIBUTED_COLOUR, _DASHES[2]), "Unattributed"))
    parts.append(
        row.format(
            f'{_SVG18}<circle cx="9" cy="9" r="7" fill="none" stroke="{NEW_COLOUR}" stroke-width="3"/></svg>',
            "New since last refresh",
        )
    )
    parts.append(
        row.format(
            f'{_SVG18}<polygon points="9,1 16,5 16,13 9,17 2,13 2,5" '
            f'fill="{VERDICT_COLOURS["breach"]}" fill-opacity=".6"/></svg>',
            "Many incidents: hex cells, coloured by their most common verdict, darker when fuller",
        )
    )
    parts.append(
        row.format(
            f'{_SVG18}<circle cx="9" cy="9" r="5" fill="{VERDICT_COLOURS["breach"]}" stroke="#fff"/></svg>',
            "Breaches in a cell (size: how many)",
        )
    )
    parts.append("<h4>Lines and zones</h4>")
    parts.append(
        row.format(
            f'{_SVG26}<line x1="1" y1="8" x2="25" y2="8" stroke="{LINE_COLOUR}" stroke-width="3.5"/></svg>',
            "Demarcation line (labels: side each party holds)",
        )
    )
    kinds = list(dict.fromkeys(z.kind for z in scenario.zones))
    parts += [row.format(_swatch_zone(ZONE_STYLES.get(k, _OTHER_ZONE)), html_text(_label(k))) for k in kinds]
    parts.append("</details>")
    return "".join(parts)


def base_map(
    scenario: Scenario,
    *,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    basemap: str | Path | None = BASEMAP_PATH,
    layer_control: bool = True,
    static_url: str = STATIC_URL,
) -> folium.Map:
    """
    Build the stable part of a map: background, zones, lines, legend.

    Parameters
    ----------
    scenario
        The scenario whose lines and zones are drawn.
    tiles
        A web tile URL template (``https://…/{z}/{x}/{y}.png``). Off by default:
        the background is then the shipped Natural Earth countries.
    tiles_attribution
        Attribution text for ``tiles`` (required with it).
    basemap
        The countries file drawn as background; ``None`` draws none.
    layer_control
        Add a layer control. Leave it out when more layers come later (the dashboard
        passes its own to ``st_folium``; :func:`build_map` adds one at the end).
    static_url
        Where the vendored assets are served.

    Returns
    -------
    folium.Map
        Fitted to the scenario's bounds. Built again from the same scenario, it
        renders the same script, so ``st_folium`` does not remount it. Build it on
        every rerun (it takes milliseconds; the geometry is cached per scenario)
        rather than caching the object: ``st_folium`` adds the feature groups and
        layer control it is given to the map it renders.
    """
    if tiles is not None and not tiles_attribution:
        msg = "base_map: tiles_attribution: required when tiles is given"
        raise ValueError(msg)
    shapes = _shapes(scenario)
    xmin, ymin, xmax, ymax = shapes.bounds
    m = folium.Map(
        location=[(ymin + ymax) / 2, (xmin + xmax) / 2],
        zoom_start=8,
        tiles=None,
        control_scale=True,
        maxZoom=18,
        minZoom=2,
    )
    use_local_assets(m, static_url)
    m.add_child(_Css(_CSS))

    if tiles is not None:
        folium.TileLayer(
            tiles=tiles, attr=html_text(tiles_attribution), name="Web tiles", overlay=False, control=True
        ).add_to(m)
    if basemap is not None:
        margin = max(15.0, 3.0 * max(xmax - xmin, ymax - ymin))
        box = (
            max(xmin - margin, -180.0),
            max(ymin - margin, -90.0),
            min(xmax + margin, 180.0),
            min(ymax + margin, 90.0),
        )
        group = folium.FeatureGroup(name="Countries (Natural Earth)", show=tiles is None)
        folium.map.CustomPane(_BASEMAP_PANE, z_index=250, pointer_events=False).add_to(m)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": list(_countries(Path(basemap), box))},
            style_function=lambda _: {
                "color": "#8c8c8c",
                "weight": 0.8,
                "fillColor": "#f4f1ea",
                "fillOpacity": 1.0,
            },
            interactive=False,
            control=False,
            pane=_BASEMAP_PANE,
        ).add_to(group)
        group.add_to(m)

    for kind in dict.fromkeys(z.kind for z, _ in shapes.zones):
        group = folium.FeatureGroup(name=html_text(f"Zones: {_label(kind)}"))
        options = ZONE_STYLES.get(kind, _OTHER_ZONE).options()
        for zone, feature in shapes.zones:
            if zone.kind != kind:
                continue
            layer = folium.GeoJson(feature, style_function=lambda _, o=options: o, control=False)
            folium.Tooltip(template_html(zone.name), sticky=True).add_to(layer)
            layer.add_child(_BindPopup(_zone_popup(scenario, zone)))
            layer.add_to(group)
        group.add_to(m)

    lines = folium.FeatureGroup(name="Demarcation lines")
    for line, feature in shapes.lines:
        layer = folium.GeoJson(
            feature,
            control=False,
            style_function=lambda _: {"color": LINE_COLOUR, "weight": 3.5, "opacity": 1.0},
        )
        folium.Tooltip(template_html(line.name), sticky=True).add_to(layer)
        layer.add_child(_BindPopup(_line_popup(scenario, line)))
        layer.add_to(lines)
    parties = {p.id: p for p in scenario.parties}
    for party_id, lat, lon in shapes.labels:
        party = parties.get(party_id)
        name = (party.short_name or party.name) if party else party_id
        colour = css_colour(party.colour if party else None)
        icon = folium.DivIcon(
            html=f'<span style="color:{colour};border-color:{colour}">{html_text(name)} side</span>',
            class_name="tl-side-label",
            icon_size=(1, 1),
            icon_anchor=(0, 0),
        )
        folium.Marker(
            [lat, lon],
            icon=icon,
            tooltip=folium.Tooltip(template_html(f"Held by {_party_name(scenario, party_id)}")),
        ).add_to(lines)
    lines.add_to(m)

    m.add_child(
        _Control(_legend_html(scenario), position="bottomright", css_class="tl-legend", name="Legend")
    )
    m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding=(10, 10))
    if layer_control:
        folium.LayerControl(collapsed=True).add_to(m)
    return m


# --------------------------------------------------------------------------- incidents


def _codes(series: pd.Series, values: Sequence[str]) -> np.ndarray:
    """Index of each value in ``values`` (-1 when absent), without a per-row loop."""
    lookup = {v: i for i, v in enumerate(values)}
    if isinstance(series.dtype, pd.CategoricalDtype):
        lut = np.array([lookup.get(str(c), -1) for c in series.cat.categories] + [-1], dtype=np.int64)
        return lut[series.cat.codes.to_numpy(dtype=np.int64)]
    codes, uniques = pd.factorize(series)
    lut = np.array([lookup.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return lut[codes]


def _ns(series: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a datetime column (naive values are taken as UTC)."""
    values = pd.to_datetime(series, utc=True)
    return values.dt.as_unit("ns").array.asi8


def _timestamp_ns(when: datetime | pd.Timestamp | str) -> int:
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _new_mask(view: pd.DataFrame, new_since: datetime | pd.Timestamp | str | None) -> np.ndarray:
    if new_since is None or len(view) == 0:
        return np.zeros(len(view), dtype=bool)
    column = "ingested_at" if "ingested_at" in view else "occurred_at"
    return _ns(view[column]) > _timestamp_ns(new_since)


def _text_col(view: pd.DataFrame, name: str) -> pd.Series:
    """A column as text, missing values (and a missing column) as empty strings."""
    if name not in view:
        return pd.Series("", index=view.index, dtype="str")
    values = view[name]
    return values.astype(object).where(values.notna(), "").astype("str")


def _encode(values: pd.Series) -> list[Any] | dict[str, Any]:
    """A column for the browser: a plain list, or a dictionary and codes when values repeat."""
    codes, uniques = pd.factorize(values)
    if len(uniques) * 2 <= len(values):
        return {"d": [str(u) for u in uniques], "c": codes.tolist()}
    return [str(v) for v in values]


def _map_values(values: pd.Series, fn: Any) -> pd.Series:
    """Apply ``fn`` once per distinct value (the columns repeat a lot)."""
    codes, uniques = pd.factorize(values)
    mapped = np.array([fn(u) for u in uniques] + [""], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype="str")


def _times(view: pd.DataFrame) -> pd.Series:
    if "occurred_at" not in view:
        return pd.Series("", index=view.index, dtype="str")
    at = pd.to_datetime(view["occurred_at"], utc=True)
    text = at.dt.strftime("%Y-%m-%d %H:%M UTC").fillna("unknown")
    precision = _text_col(view, "date_precision")
    text = text.where(precision.isin(["", "exact"]), text + " (" + precision + " precision)")
    if "occurred_from" in view and "occurred_to" in view:
        lo = pd.to_datetime(view["occurred_from"], utc=True)
        hi = pd.to_datetime(view["occurred_to"], utc=True)
        window = lo.notna() & hi.notna() & (lo != hi)
        span = "\nwindow " + lo.dt.strftime("%Y-%m-%d %H:%M") + " to " + hi.dt.strftime("%Y-%m-%d %H:%M UTC")
        text = text.where(~window, text + span)
    return text.astype("str")


def _floats(view: pd.DataFrame, name: str) -> np.ndarray:
    if name not in view:
        return np.full(len(view), np.nan)
    return pd.to_numeric(view[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _series(values: np.ndarray | pd.Series, view: pd.DataFrame) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), index=view.index, dtype="str")


def _party_text(view: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """The party and the basis of attribution; an inferred party always says so."""
    parties = {p.id: p.name for p in scenario.parties}
    party_id = _text_col(view, "attributed_party")
    basis = _text_col(view, "attribution")
    name = _map_values(party_id, lambda p: parties.get(p, p))
    basis_text = _map_values(
        basis,
        lambda b: {
            "reported": " (reported by the source)",
            "inferred_from_side": " (INFERRED from the side of the line, not reported)",
        }.get(b, ""),
    )
    unattributed = (party_id == "") | (basis == "unattributed")
    return _series(np.where(unattributed, "Unattributed", name + basis_text), view)


def _distance_text(view: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """Unsigned distance with the side and its holder, then the signed value."""
    parties = {p.id: p.short_name or p.name for p in scenario.parties}
    lines = {ln.id: ln.name for ln in scenario.lines}

    def side_text(key: str) -> str:
        line_id, side, holder = key.split("\x1f")
        line_name = lines.get(line_id, line_id)
        if side == "on_line":
            return f"on {line_name}"
        who = parties.get(holder, "")
        return f"{side} of {line_name}" + (f" ({who} side)" if who else "")

    dist = _floats(view, "distance_m")
    key = (
        _text_col(view, "nearest_line")
        + "\x1f"
        + _text_col(view, "side")
        + "\x1f"
        + _text_col(view, "side_party")
    )
    side = _map_values(key, side_text).to_numpy(dtype=object)
    finite = np.isfinite(dist)
    km = np.char.mod("%.2f km ", np.abs(np.where(finite, dist, 0.0)) / 1000.0).astype(object)
    signed = np.char.mod(" (signed %+.0f m)", np.where(finite, dist, 0.0)).astype(object)
    return _series(np.where(finite, km + side + signed, ""), view)


def _location_text(view: pd.DataFrame) -> pd.Series:
    unc = _floats(view, "location_uncertainty_m")
    unc_text = np.where(np.isfinite(unc), np.char.mod(" ±%.0f m", np.nan_to_num(unc)).astype(object), "")
    lat = view["lat"].to_numpy(dtype=np.float64)
    lon = view["lon"].to_numpy(dtype=np.float64)
    coords = np.char.mod("%.5f, ", lat).astype(object) + np.char.mod("%.5f", lon).astype(object)
    place = _text_col(view, "location_name")
    precision = _text_col(view, "location_precision").replace("", "unknown")
    return _series(
        place + np.where(place != "", "\n", "") + coords + "\nprecision: " + precision + unc_text, view
    )


def _truncate(values: pd.Series, cap: int) -> pd.Series:
    long = values.str.len() > cap
    if not long.any():
        return values
    return values.where(~long, values.str.slice(0, cap) + " … [truncated: see the incident record]")


def _popup_fields(
    view: pd.DataFrame,
    scenario: Scenario,
    is_new: np.ndarray,
    new_since: datetime | pd.Timestamp | str | None,
    cap: int,
) -> dict[str, pd.Series]:
    """The popup text of each incident, column by column (plain text, escaped by the browser).

    Free text from the incident (description, actor, target, place, source, …) is cut
    at ``cap`` characters; texts from the scenario, the party and its basis never are.
    """
    view = view.assign(**{c: _truncate(_text_col(view, c), cap) for c in _FREE_TEXT if c in view})
    labels = vocabulary().labels
    zones = {z.id: z.name for z in scenario.zones}
    rules = {r.id: r for r in scenario.rules}

    def rule_text(ids: str) -> str:
        found = [(rid, rules.get(rid)) for rid in filter(None, ids.split(";"))]
        return "\n".join(f"{rid} [{rule.severity}]: {rule.text}" if rule else rid for rid, rule in found)

    category = _map_values(_text_col(view, "category"), lambda c: labels.get(c, c) or "Unknown category")
    sub = _text_col(view, "sub_category")
    weapon = _text_col(view, "weapon_class")
    target = _text_col(view, "target")
    reason = _text_col(view, "verdict_reason")
    event = _text_col(view, "source_event_id")
    fatal = _floats(view, "fatalities")
    since = pd.Timestamp(new_since).isoformat() if new_since is not None else ""
    return {
        "title": category,
        "time": _times(view),
        "new": _series(np.where(is_new, f"yes (since {since})", ""), view),
        "category": _series(
            category
            + np.where(sub != "", " / " + sub, "")
            + np.where(weapon != "", "\nweapon: " + weapon, ""),
            view,
        ),
        "party": _party_text(view, scenario),
        "actor": _series(_text_col(view, "actor") + np.where(target != "", " → target: " + target, ""), view),
        "verdict": _series(
            _map_values(_text_col(view, "verdict"), lambda v: VERDICT_LABELS.get(v, v))
            + np.where(reason != "", "\nwhy possible: " + reason, ""),
            view,
        ),
        "rules": _map_values(_text_col(view, "rules"), rule_text),
        "zones": _map_values(
            _text_col(view, "zones"),
            lambda ids: "; ".join(zones.get(z, z) for z in filter(None, ids.split(";"))),
        ),
        "distance": _distance_text(view, scenario),
        "location": _location_text(view),
        "verification": _text_col(view, "verification"),
        "source": _series(_text_col(view, "source") + np.where(event != "", ": " + event, ""), view),
        "fatalities": _series(
            np.where(np.isfinite(fatal), np.char.mod("%.0f", np.nan_to_num(fatal)), ""), view
        ),
        "description": _text_col(view, "description"),
        "id": _text_col(view, "incident_id"),
    }


_FIELDS = (
    ("time", "Time"),
    ("new", "New"),
    ("category", "Category"),
    ("party", "Party"),
    ("actor", "Actor"),
    ("verdict", "Verdict"),
    ("rules", "Rules"),
    ("zones", "Zones"),
    ("distance", "Distance to line"),
    ("location", "Location"),
    ("verification", "Verification"),
    ("source", "Source"),
    ("fatalities", "Fatalities"),
    ("description", "Description"),
    ("id", "Incident id"),
)


def _style_payload(scenario: Scenario) -> dict[str, Any]:
    return {
        "verdictIds": list(VERDICTS),
        "verdictLabels": [VERDICT_LABELS[v] for v in VERDICTS],
        "verdictColours": [VERDICT_COLOURS[v] for v in VERDICTS],
        "verdictText": ["#ffffff" if v == "breach" else "#111111" for v in VERDICTS],
        "partyColours": [css_colour(p.colour) for p in scenario.parties],
        "unattributedColour": UNATTRIBUTED_COLOUR,
        "newColour": NEW_COLOUR,
        "newLabel": "NEW",
        "attributions": list(_ATTRIBUTIONS),
        "dashes": list(_DASHES),
    }


def _marker_payload(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    new_since: datetime | pd.Timestamp | str | None,
    cap: int,
) -> dict[str, Any]:
    fields = _popup_fields(view, scenario, is_new, new_since, cap)
    attribution = (
        _codes(view["attribution"], _ATTRIBUTIONS) if "attribution" in view else np.full(len(view), 2)
    )
    party = (
        _codes(view["attributed_party"], [p.id for p in scenario.parties])
        if "attributed_party" in view
        else np.full(len(view), -1)
    )
    return {
        **_style_payload(scenario),
        "lat": np.round(view["lat"].to_numpy(dtype=np.float64), 5).tolist(),
        "lon": np.round(view["lon"].to_numpy(dtype=np.float64), 5).tolist(),
        "v": verdict.tolist(),
        "p": party.tolist(),
        "a": np.where(attribution < 0, 2, attribution).tolist(),
        "isNew": is_new.astype(int).tolist(),
        "fields": [list(f) for f in _FIELDS],
        "f": {k: _encode(v) for k, v in fields.items()},
    }


def _aeqd(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Spherical azimuthal equidistant projection centred on (lon0, lat0), in meters."""
    phi, lam = np.radians(lat), np.radians(lon - lon0)
    phi0 = math.radians(lat0)
    cos_phi = np.cos(phi)
    cos_c = np.clip(math.sin(phi0) * np.sin(phi) + math.cos(phi0) * cos_phi * np.cos(lam), -1.0, 1.0)
    c = np.arccos(cos_c)
    sin_c = np.sin(c)
    k = np.where(sin_c > 1e-12, c / np.where(sin_c > 1e-12, sin_c, 1.0), 1.0) * _EARTH_R
    x = k * cos_phi * np.sin(lam)
    y = k * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * cos_phi * np.cos(lam))
    return x, y


def _aeqd_inverse(x: np.ndarray, y: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    phi0 = math.radians(lat0)
    rho = np.hypot(x, y)
    c = rho / _EARTH_R
    sin_c, cos_c = np.sin(c), np.cos(c)
    safe = np.where(rho > 0, rho, 1.0)
    phi = np.arcsin(np.clip(cos_c * math.sin(phi0) + y * sin_c * math.cos(phi0) / safe, -1.0, 1.0))
    lam = np.arctan2(x * sin_c, rho * math.cos(phi0) * cos_c - y * math.sin(phi0) * sin_c)
    return np.degrees(lam) + lon0, np.degrees(np.where(rho > 0, phi, phi0))


def _hex_bin(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointy-top hexagon of each point: (cell code per point, centre x, centre y per cell)."""
    qf = (math.sqrt(3) / 3 * x - y / 3) / radius
    rf = (2 / 3 * y) / radius
    sf = -qf - rf
    q, r, s = np.rint(qf), np.rint(rf), np.rint(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    key = (q.astype(np.int64) << 32) + (r.astype(np.int64) + (1 << 31))
    codes, uniques = pd.factorize(key)
    uq = (uniques >> 32).astype(np.float64)
    ur = ((uniques & 0xFFFFFFFF) - (1 << 31)).astype(np.float64)
    return codes, radius * math.sqrt(3) * (uq + ur / 2), radius * 1.5 * ur


def _cell_payload(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    width_m: float,
    max_cells: int,
) -> tuple[dict[str, Any], float]:
    lon = view["lon"].to_numpy(dtype=np.float64)
    lat = view["lat"].to_numpy(dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat) & (verdict >= 0)
    projection = prepare(scenario).projection
    lon0, lat0 = projection.lon0, projection.lat0
    x, y = _aeqd(lon[ok], lat[ok], lon0, lat0)
    verdict, is_new = verdict[ok], is_new[ok]
    party_ids = [p.id for p in scenario.parties]
    party = (
        _codes(view["attributed_party"], party_ids)[ok] if "attributed_party" in view else np.full(len(x), -1)
    )
    party = np.where(party < 0, len(party_ids), party)
    while True:
        radius = width_m / math.sqrt(3)
        codes, cx, cy = _hex_bin(x, y, radius)
        if len(cx) <= max_cells:
            break
        width_m *= math.sqrt(len(cx) / max_cells) * 1.1
    k, nv, npart = len(cx), len(VERDICTS), len(party_ids) + 1
    counts = np.bincount(codes * nv + verdict, minlength=k * nv)
    parties = np.bincount(codes * npart + party, minlength=k * npart)
    fresh = np.bincount(codes, weights=is_new, minlength=k).astype(np.int64)
    clon, clat = _aeqd_inverse(cx, cy, lon0, lat0)
    names = [p.short_name or p.name for p in scenario.parties] + ["unattributed"]
    payload = {
        **_style_payload(scenario),
        "radius": round(radius, 1),
        "lat": np.round(clat, 5).tolist(),
        "lon": np.round(clon, 5).tolist(),
        "counts": counts.tolist(),
        "parties": parties.tolist(),
        "partyNames": names,
        "fresh": fresh.tolist(),
        "maxCount": int(np.bincount(codes).max(initial=1)),
    }
    return payload, width_m


def _km(width_m: float) -> str:
    return f"{width_m / 1000:g} km" if width_m >= 1000 else f"{width_m:.0f} m"


def incident_layers(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    new_since: datetime | pd.Timestamp | str | None = None,
    max_markers: int = DEFAULT_MAX_MARKERS,
    cell_m: float | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> list[folium.FeatureGroup]:
    """
    Build the incident layers of a view.

    Parameters
    ----------
    view
        Incidents with their classification (``lon``, ``lat`` and ``verdict`` at
        least; the other columns of the incident view fill the popups).
    scenario
        The scenario the view was classified against (names, rule texts, colours).
    new_since
        Incidents ingested after this instant (``ingested_at``, or ``occurred_at``
        when the view has no ``ingested_at``) are highlighted. Naive times are UTC.
    max_markers
        Up to this many incidents, draw one marker each, in one layer per verdict.
        Beyond, draw hexagonal cells with counts, plus the new incidents as markers
        if there are no more than ``max_markers`` of them. Popup free text is cut
        shorter, then markers give way to cells, if their payload would pass
        :data:`MAX_MARKER_BYTES`.
    cell_m
        Distance between neighbouring cell centres, in meters (default: a round
        width giving about 3000 cells over the scenario's extent).
    max_cells
        Cells grow until at most this many are occupied, which bounds the payload.

    Returns
    -------
    list of folium.FeatureGroup
        Least severe first, so breaches draw on top. Pass them to
        ``st_folium(feature_group_to_add=...)`` or add them to a map.
    """
    missing = [c for c in ("lon", "lat", "verdict") if c not in view]
    if missing:
        msg = f"incident_layers: view: column {missing[0]!r} missing"
        raise ValueError(msg)
    if max_markers < 0 or max_cells < 1:
        msg = "incident_layers: max_markers must be >= 0 and max_cells >= 1"
        raise ValueError(msg)
    verdict = _codes(view["verdict"], VERDICTS)
    is_new = _new_mask(view, new_since)
    n = len(view)

    if n <= max_markers:
        layers = [
            (
                f"{_VERDICT_PLURALS[code]} ({np.count_nonzero(verdict == code):,})",
                np.flatnonzero(verdict == code),
            )
            for code in range(len(VERDICTS) - 1, -1, -1)
        ]
        groups = _marker_groups(view, scenario, verdict, is_new, new_since, layers)
        if groups is not None:
            return groups

    width = float(cell_m) if cell_m else _shapes(scenario).cell_width_m
    payload, width = _cell_payload(view, scenario, verdict, is_new, width, max_cells)
    group = folium.FeatureGroup(name=html_text(f"Incidents: {n:,} in {_km(width)} hex cells"))
    group.add_child(_HexCells(payload))
    groups = [group]
    fresh = np.flatnonzero(is_new)
    if 0 < fresh.size <= max_markers:
        groups += (
            _marker_groups(
                view, scenario, verdict, is_new, new_since, [(f"New incidents ({fresh.size:,})", fresh)]
            )
            or []
        )
    return groups


def _marker_groups(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    new_since: datetime | pd.Timestamp | str | None,
    layers: list[tuple[str, np.ndarray]],
) -> list[folium.FeatureGroup] | None:
    """One marker layer per (name, rows), within :data:`MAX_MARKER_BYTES`; None if they cannot fit.

    Popup free text is cut shorter until the payload fits; caps whose raw text alone
    would not fit are skipped without building anything.
    """
    rows = np.concatenate([r for _, r in layers]) if layers else np.zeros(0, dtype=np.int64)
    lengths = [_text_col(view.iloc[rows], c).str.len().to_numpy() for c in _FREE_TEXT if c in view]
    for cap in _TEXT_CAPS:
        if sum(int(np.minimum(length, cap).sum()) for length in lengths) > MAX_MARKER_BYTES:
            continue
        groups, size = [], 0
        for name, part in layers:
            element = _IncidentMarkers(
                _marker_payload(view.iloc[part], scenario, verdict[part], is_new[part], new_since, cap)
            )
            size += len(element.payload.encode())
            group = folium.FeatureGroup(name=html_text(name))
            groups.append(group.add_child(element))
        if size <= MAX_MARKER_BYTES:
            return groups
    return None


# --------------------------------------------------------------------------- whole map


def _info_html(
    scenario: Scenario,
    *,
    title: str | None,
    data_as_of: datetime | pd.Timestamp | str | None,
    time_window: str | None,
    filters: Mapping[str, str] | None,
    count: int,
) -> str:
    parts = [f'<strong class="tl-title">{html_text(title or scenario.name)}</strong>']
    if scenario.synthetic:
        parts.append('<div class="tl-banner">SYNTHETIC DEMO DATA</div>')
    rows = []
    if data_as_of is not None:
        rows.append(("Data as of", html_text(pd.Timestamp(data_as_of).strftime("%Y-%m-%d %H:%M %Z").strip())))
    if time_window:
        rows.append(("Time window", html_text(time_window)))
    rows += [(str(k), html_text(v)) for k, v in (filters or {}).items()]
    rows.append(("Incidents", html_text(f"{count:,}")))
    parts.append(_rows_html(rows))
    return "".join(parts)


def build_map(
    scenario: Scenario,
    view: pd.DataFrame,
    *,
    new_since: datetime | pd.Timestamp | str | None = None,
    title: str | None = None,
    data_as_of: datetime | pd.Timestamp | str | None = None,
    time_window: str | None = None,
    filters: Mapping[str, str] | None = None,
    max_markers: int = DEFAULT_MAX_MARKERS,
    cell_m: float | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    static_url: str = STATIC_URL,
) -> folium.Map:
    """
    Build a whole map: base map, incident layers, a caption panel and a layer control.

    Parameters
    ----------
    scenario, view
        As for :func:`incident_layers`.
    new_since, max_markers, cell_m, max_cells
        As for :func:`incident_layers`.
    title
        The caption's title (default: the scenario's name).
    data_as_of
        When the data was current; shown in the caption.
    time_window
        The time window of the view, as text (e.g. ``2024-05-01 to 2024-05-07``).
    filters
        Filter names and values shown in the caption.
    tiles, tiles_attribution, static_url
        As for :func:`base_map`.

    Returns
    -------
    folium.Map
    """
    m = base_map(
        scenario, tiles=tiles, tiles_attribution=tiles_attribution, layer_control=False, static_url=static_url
    )
    for group in incident_layers(
        view, scenario, new_since=new_since, max_markers=max_markers, cell_m=cell_m, max_cells=max_cells
    ):
        group.add_to(m)
    m.add_child(
        _Control(
            _info_html(
                scenario,
                title=title,
                data_as_of=data_as_of,
                time_window=time_window,
                filters=filters,
                count=len(view),
            ),
            position="topleft",
            css_class="tl-info",
            name="Caption",
        )
    )
    folium.LayerControl(collapsed=True).add_to(m)
    m.get_root().title = html_text(title or scenario.name)
    return m


def check_offline(m: folium.Map, *, static_url: str = STATIC_URL) -> None:
    """
    Raise if any element of a map would load a script or style that is not vendored.

    Parameters
    ----------
    m
        The map, with every layer it will be shown with.
    static_url
        Where the vendored assets are served.

    Raises
    ------
    ValueError
        Naming the element and the URL (a folium plugin's CDN default, say).
    """
    check_local(m, static_url)


_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE
)


def export_html(m: folium.Map, *, static_url: str = STATIC_URL) -> str:
    """
    Render a map as one self-contained HTML page that opens with no network.

    Parameters
    ----------
    m
        A map from :func:`build_map` (or :func:`base_map` with layers added).
    static_url
        The URL prefix its vendored assets use.

    Returns
    -------
    str
        The page, with Leaflet's script and stylesheet (and its images, as data
        URIs) inlined. Web tiles, if the map was built with a tile URL, still load
        from that URL.

    Raises
    ------
    ValueError
        If an element of the map links a script or style that is not vendored.
    """
    check_offline(m, static_url=static_url)
    page = inline_assets(m.get_root().render(), static_url)
    leak = _EXTERNAL.search(page)
    if leak:
        msg = f"export_html: page still links an outside resource: {leak.group(0)[:120]}"
        raise ValueError(msg)
    return page
