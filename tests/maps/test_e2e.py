"""The maps in real headless Chromium, with every outside request refused and recorded.

Three ways a map reaches a browser: the standalone HTML export (markers, and hex
cells), and the dashboard's path through streamlit-folium, whose component frontend
is emulated here (scripts from ``js_links``, the header's styles, the map script in a
``<script>`` element, then the feature groups and layer control through ``eval``, as
streamlit-folium 0.27 does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import folium
import pandas as pd
import pytest

from geo import Scenario
from geo.render.webmap import base_map, build_map, export_html, incident_layers
from tests.maps.helpers import XSS_PAYLOADS, make_view

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
STATIC = REPO / "dashboard" / "static"
ORIGIN = "http://127.0.0.1:8501"

# Open every popup and tooltip of the map (or the first ``limit``), one at a time; after
# each, look for any element or handler attribute that data text could have smuggled in.
OPEN_EVERYTHING = """
(limit) => {
    const map = window[document.querySelector('.folium-map, #map_div').id];
    const layers = [];
    map.eachLayer(layer => layers.push(layer));
    const texts = [];
    const smuggled = [];
    const hostile = 'img, script, svg:not(.tl-swatch), iframe, object, embed, '
        + '[onerror], [onload], [onmouseover], [onfocus]';
    const look = (selector) => {
        document.querySelectorAll(selector).forEach(el => {
            texts.push(el.textContent);
            el.querySelectorAll(hostile).forEach(bad => smuggled.push(bad.outerHTML));
        });
    };
    let opened = 0;
    for (const layer of layers) {
        if (limit && opened >= limit) { break; }
        if ((layer.getPopup && layer.getPopup()) || (layer.getTooltip && layer.getTooltip())) { opened++; }
        if (layer.getPopup && layer.getPopup()) {
            layer.openPopup();
            look('.leaflet-popup-content');
            layer.closePopup();
        }
        if (layer.getTooltip && layer.getTooltip()) {
            layer.openTooltip();
            look('.leaflet-tooltip');
            layer.closeTooltip();
        }
    }
    look('.leaflet-control-layers, .tl-legend, .tl-info, .tl-side-label');
    return {texts: texts, smuggled: smuggled, xss: window.__xss === undefined ? null : String(window.__xss)};
}
"""


@dataclass
class Watch:
    """What a page did: requests, dialogs, console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.refused == [], f"requests left the machine: {self.refused}"
        assert self.dialogs == [], f"dialogs opened (script from data ran): {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def open_page(browser: object) -> Iterator[Callable[..., tuple[object, Watch]]]:
    pages = []

    def opener(serve: Callable[[object], bool] | None = None) -> tuple[object, Watch]:
        """A page whose requests go through ``serve`` (True: handled); others are refused."""
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(15_000)
        pages.append(page)
        watch = Watch()

        def route(r: object) -> None:
            url = r.request.url
            watch.requests.append(url)
            if serve is not None and serve(r):
                return
            if url.startswith("file://"):
                r.continue_()
                return
            watch.refused.append(url)
            r.abort()

        page.route("**/*", route)
        page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.errors.append(str(e)))
        return page, watch

    yield opener
    for page in pages:
        page.close()


def screenshot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_standalone_export_renders_offline_and_runs_no_data(
    tmp_path: Path, open_page: Callable, evil_scenario: Scenario, evil_view: pd.DataFrame
) -> None:
    path = tmp_path / "map.html"
    since = evil_view["occurred_at"].quantile(0.95)
    path.write_text(
        export_html(
            build_map(
                evil_scenario,
                evil_view,
                new_since=since,
                title=XSS_PAYLOADS[4],
                filters={"Actor": XSS_PAYLOADS[2]},
            )
        ),
        encoding="utf-8",
    )
    page, watch = open_page()
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_function(f"document.querySelectorAll('path.tl-incident').length === {len(evil_view)}")

    overlay = page.locator(".leaflet-overlay-pane svg path").count()
    halos = page.locator("path.tl-new-halo").count()
    assert halos == int((evil_view["occurred_at"] > since).sum()) > 0
    assert overlay - len(evil_view) - halos == len(evil_scenario.zones) + len(evil_scenario.lines)
    assert page.locator(".leaflet-tlBasemap-pane path").count() >= 4  # Natural Earth countries
    assert page.locator(".tl-side-label").count() == 6
    assert page.locator(".tl-legend").is_visible()
    assert "SYNTHETIC DEMO DATA" in page.locator(".tl-info").inner_text()

    seen = page.evaluate(OPEN_EVERYTHING, 0)
    assert seen["smuggled"] == []
    assert seen["xss"] is None
    text = "\n".join(seen["texts"])
    # Hostile text is shown, as text, in popups, tooltips, labels and the layer control.
    for payload in (XSS_PAYLOADS[0], XSS_PAYLOADS[1], XSS_PAYLOADS[2], XSS_PAYLOADS[3], XSS_PAYLOADS[11]):
        assert payload.replace("\u2028", "").replace("\u2029", "")[:40] in text.replace("\u2028", "").replace(
            "\u2029", ""
        ), payload
    assert "{{ 7 * 7 }}" in text
    assert "INFERRED from the side of the line" in text
    assert "Zones: Kind<img src=x onerror=alert('kind')>" in text
    page.wait_for_timeout(300)
    watch.assert_clean()
    assert watch.requests == [path.as_uri()]

    page.evaluate(
        "() => document.querySelector('path.tl-incident.tl-v-breach')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )
    page.wait_for_selector(".leaflet-popup-content .tl-popup")
    screenshot(page, "maps-standalone-markers.png")


def test_standalone_export_of_cells_renders_offline(
    tmp_path: Path, open_page: Callable, scenario: Scenario
) -> None:
    view = make_view(scenario, 5000, seed=3)
    since = view["occurred_at"].quantile(0.99)
    path = tmp_path / "cells.html"
    page_html = export_html(build_map(scenario, view, new_since=since, max_markers=1000))
    path.write_text(page_html, encoding="utf-8")
    page, watch = open_page()
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-overlay-pane canvas")
    fresh = int((view["occurred_at"] > since).sum())
    assert page.locator("path.tl-incident").count() == fresh
    seen = page.evaluate(OPEN_EVERYTHING, 300)  # a canvas redraws on every tooltip: sample
    assert seen["smuggled"] == []
    assert any("incidents" in t and "By party:" in t for t in seen["texts"])
    watch.assert_clean()
    assert watch.requests == [path.as_uri()]
    screenshot(page, "maps-standalone-cells.png")


DRAWN_EXTENT = """
() => {
    const map = window[document.querySelector('.folium-map').id];
    const box = document.querySelector('.folium-map').getBoundingClientRect();
    const inside = r => r.width > 0 && r.left >= box.left && r.right <= box.right
        && r.top >= box.top && r.bottom <= box.bottom;
    const line = [...document.querySelectorAll('.leaflet-overlay-pane path')]
        .filter(p => p.getAttribute('stroke') === '#111111')
        .map(p => p.getBoundingClientRect());
    const markers = [...document.querySelectorAll('path.tl-incident')].map(p => p.getBoundingClientRect());
    const view = map.getBounds();
    return {
        viewWidth: view.getEast() - view.getWest(), mapWidth: box.width,
        line: line.map(r => ({width: r.width, inside: inside(r)})),
        markersInside: markers.filter(inside).length, markers: markers.length,
        lineLeft: Math.min(...line.map(r => r.left)),
        lineRight: Math.max(...line.map(r => r.right)),
        markerLeft: Math.min(...markers.map(r => r.left)),
        markerRight: Math.max(...markers.map(r => r.right)),
    };
}
"""


def settled_extent(page: Page) -> dict:
    """What DRAWN_EXTENT sees once the opening zoom (folium's animated fit to bounds) is over."""
    previous: dict | None = None
    for _ in range(50):
        page.wait_for_function(
            "() => { const c = document.querySelector('.folium-map');"
            " return !c.classList.contains('leaflet-zoom-anim') && !window[c.id]._animatingZoom; }"
        )
        seen = page.evaluate(DRAWN_EXTENT)
        if seen == previous:
            return seen
        previous = seen
        page.wait_for_timeout(100)
    msg = f"the map never settled: {previous}"
    raise AssertionError(msg)


def test_a_map_across_the_antimeridian_is_drawn_in_one_place(
    tmp_path: Path, open_page: Callable, fiji: Scenario, fiji_incidents: pd.DataFrame
) -> None:
    """The Fiji line (stored cut at 180°), its band and incidents on both sides: one view, not two ends."""
    path = tmp_path / "fiji.html"
    path.write_text(export_html(build_map(fiji, fiji_incidents)), encoding="utf-8")
    page, watch = open_page()
    page.goto(path.as_uri())
    page.wait_for_function(f"document.querySelectorAll('path.tl-incident').length === {len(fiji_incidents)}")
    seen = settled_extent(page)
    assert seen["viewWidth"] < 5.0  # degrees of longitude in view: the band, not the world
    assert seen["line"] and all(part["inside"] for part in seen["line"])
    # The line spans most of the map's width, in one piece (its halves meet at 180°).
    assert seen["lineRight"] - seen["lineLeft"] > 0.5 * seen["mapWidth"]
    assert seen["markersInside"] == seen["markers"] == len(fiji_incidents)
    assert seen["lineLeft"] < seen["markerLeft"] and seen["markerRight"] < seen["lineRight"]
    watch.assert_clean()
    screenshot(page, "maps-antimeridian.png")


FRONTEND = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<div id="map_div" style="width: 1200px; height: 780px"></div>
<script>
window.mount = async function (args) {
    for (const src of args.js_links) {
        await new Promise((ok, ko) => {
            const s = document.createElement('script');
            s.src = src; s.async = false; s.onload = ok; s.onerror = ko;
            document.body.appendChild(s);
        });
    }
    args.css_links.forEach(href => {
        const link = document.createElement('link');
        link.rel = 'stylesheet'; link.href = href;
        document.head.appendChild(link);
    });
    document.head.innerHTML += args.header;
    const holder = document.createElement('div');
    holder.innerHTML = args.html;
    document.body.appendChild(holder);
    const script = document.createElement('script');
    script.innerHTML = args.script + ';window.map = map_div;';
    document.body.appendChild(script);
    (function () { 'use strict'; eval(args.feature_group + args.layer_control); })();
};
</script></body></html>"""


def component_args(scenario: Scenario, view: pd.DataFrame, since: pd.Timestamp) -> dict:
    """What st_folium sends its frontend (streamlit-folium 0.27), built with its own helpers."""
    from streamlit_folium import (
        _get_feature_group_string,
        _get_header,
        _get_html,
        _get_layer_control_string,
        _get_map_string,
    )

    m = base_map(scenario, layer_control=False)
    m.get_root().render()
    m.render()
    html, header, script = _get_html(m), _get_header(m), _get_map_string(m)
    groups = incident_layers(view, scenario, new_since=since)
    feature_group = "".join(_get_feature_group_string(g, map=m, idx=i) for i, g in enumerate(groups))
    layer_control = _get_layer_control_string(folium.LayerControl(collapsed=False), m)

    def walk(element: object) -> Iterator[object]:
        yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    js = [url for e in walk(m) for _, url in getattr(e, "default_js", [])]
    css = [url for e in walk(m) for _, url in getattr(e, "default_css", [])]
    return {
        "html": html,
        "header": header,
        "script": script,
        "feature_group": feature_group,
        "layer_control": layer_control,
        "js_links": list(dict.fromkeys(js)),
        "css_links": list(dict.fromkeys(css)),
    }


def test_dashboard_path_through_streamlit_folium(
    open_page: Callable, evil_scenario: Scenario, evil_view: pd.DataFrame
) -> None:
    since = evil_view["occurred_at"].quantile(0.95)
    args = component_args(evil_scenario, evil_view, since)
    assert args["js_links"] == ["/app/static/vendor/leaflet/leaflet.js"]
    assert args["css_links"] == ["/app/static/vendor/leaflet/leaflet.css"]
    json.dumps(args)  # it must travel as the component's JSON arguments

    def serve(r: object) -> bool:
        url = r.request.url
        if url == f"{ORIGIN}/component/index.html":
            r.fulfill(body=FRONTEND, content_type="text/html")
            return True
        if url.startswith(f"{ORIGIN}/app/static/"):
            file = STATIC / url.removeprefix(f"{ORIGIN}/app/static/")
            if file.is_file():
                r.fulfill(path=str(file))
                return True
        return False

    page, watch = open_page(serve)
    page.goto(f"{ORIGIN}/component/index.html")
    page.evaluate("args => window.mount(args)", args)
    page.wait_for_function(f"document.querySelectorAll('path.tl-incident').length === {len(evil_view)}")
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any(label.strip().startswith("Breaches (") for label in labels)
    assert any(label.strip().startswith("Zones: ") for label in labels)
    seen = page.evaluate(OPEN_EVERYTHING, 0)
    assert seen["smuggled"] == []
    assert seen["xss"] is None
    watch.assert_clean()
    assert {u.removeprefix(ORIGIN) for u in watch.requests} == {
        "/component/index.html",
        *args["js_links"],
        *args["css_links"],
    }
    screenshot(page, "maps-streamlit-folium.png")
