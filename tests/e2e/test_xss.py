"""Issue 6: hostile text everywhere data lands, in real Chromium; no script may run, no markup may render.

Descriptions, actors, places, zone, line, party and scenario names, rule texts and an uploaded
file's name carry script, HTML and template payloads. Every page that shows them is opened,
and on the live map every popup and tooltip too. Three independent witnesses: a dialog
handler (``alert``), a ``window.__xss`` flag the payloads would set, and a search for any
element the payloads would create.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Error as PlaywrightError

from geo import DEMO_MANIFEST, clock, generate_incidents, load_scenario
from geo.services.accounts import add_user
from geo.services.ingest import ingest_frame, load_scenario_into_store
from geo.services.settings import set_setting
from geo.store import open_store
from tests.e2e.conftest import (
    PASSWORD,
    Server,
    caption_count,
    map_frame,
    sign_in,
    streamlit_server,
    wait_for_run,
    wait_for_text,
)

pytestmark = pytest.mark.e2e

PAYLOADS = (
    "<script>window.__xss='script';alert('script')</script>",
    "<img src=x onerror=\"window.__xss='img';alert('img')\">",
    "${window.__xss='template'}${alert('template')}",
    "`;window.__xss='backtick';alert('backtick');`",
    "{{7*7}} {% if true %}jinja-ran{% endif %}",
    "<b>raw bold</b><a href=\"javascript:alert('href')\">raw link</a>",
    "</script><svg onload=\"window.__xss='svg';alert('svg')\"></svg>",
    "[phish](javascript:alert('md')) **md** $x^2$",
)
FILE_NAME = "upload<img src=x onerror=alert('file')>${alert(1)}`{{7*7}}.csv"

# Open every popup and tooltip of the map, then report their text and anything hostile in them.
OPEN_ALL = """
() => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    const layers = [];
    map.eachLayer(layer => layers.push(layer));
    const texts = [];
    const smuggled = [];
    const hostile = 'img, script, iframe, object, embed, svg:not(.tl-swatch), a[href^="javascript"],'
        + ' [onerror], [onload], [onmouseover], [onfocus]';
    const look = (selector) => document.querySelectorAll(selector).forEach(el => {
        texts.push(el.textContent);
        el.querySelectorAll(hostile).forEach(bad => smuggled.push(bad.outerHTML));
        el.querySelectorAll('b, strong, a').forEach(tag => {
            if (tag.textContent === 'raw bold' || tag.textContent === 'raw link') {  // made by a payload
                smuggled.push(tag.outerHTML);
            }
        });
    });
    for (const layer of layers) {
        if (layer.getPopup && layer.getPopup()) {
            layer.openPopup(); look('.leaflet-popup-content'); layer.closePopup();
        }
        if (layer.getTooltip && layer.getTooltip()) {
            layer.openTooltip(); look('.leaflet-tooltip'); layer.closeTooltip();
        }
    }
    look('.leaflet-control-layers, .tl-legend, .tl-side-label');
    return {texts, smuggled, opened: layers.length};
}
"""
# Elements the payloads would create in Streamlit's own markup (markdown, captions, labels, alerts).
SMUGGLED = """
() => {
    const inText = '[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"],'
        + ' [data-testid="stWidgetLabel"], [data-testid="stAlert"], [data-testid="stPageLink"]';
    const bad = [];
    document.querySelectorAll(inText).forEach(box => box.querySelectorAll(
        'img, script, iframe, object, embed, svg[onload], a[href^="javascript"], [onerror], [onload]'
    ).forEach(el => bad.push(el.outerHTML)));
    document.querySelectorAll('b, strong, a').forEach(el => {
        if (el.textContent === 'raw bold' || el.textContent === 'raw link') { bad.push(el.outerHTML); }
    });
    return bad;
}
"""


def hostile_scenario() -> object:
    """The demo scenario with payloads in every name and text a page shows."""
    scenario = load_scenario(DEMO_MANIFEST)
    n = len(PAYLOADS)
    parties = tuple(
        dataclasses.replace(
            p, name=PAYLOADS[(2 * i) % n] + p.name, short_name=p.short_name + PAYLOADS[(2 * i + 1) % n]
        )
        for i, p in enumerate(scenario.parties)
    )
    zones = tuple(
        dataclasses.replace(z, name=z.name + " " + PAYLOADS[i % n]) for i, z in enumerate(scenario.zones)
    )
    lines = tuple(
        dataclasses.replace(ln, name=ln.name + PAYLOADS[3], agreement=PAYLOADS[4]) for ln in scenario.lines
    )
    rules = tuple(dataclasses.replace(r, text=PAYLOADS[i % n] + r.text) for i, r in enumerate(scenario.rules))
    return dataclasses.replace(
        scenario,
        name=PAYLOADS[0] + scenario.name,
        description=PAYLOADS[5] + PAYLOADS[7],
        parties=parties,
        zones=zones,
        lines=lines,
        rules=rules,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e-xss")
    url = f"sqlite:///{folder / 'store.db'}"
    store = open_store(url)
    scenario = hostile_scenario()
    load_scenario_into_store(store, scenario)
    frame = generate_incidents(scenario, n=240, days=6, seed=11)
    text = pd.Series([PAYLOADS[i % len(PAYLOADS)] for i in range(len(frame))], index=frame.index, dtype="str")
    for col in ("description", "target", "location_name", "sub_category"):
        frame[col] = text
    frame["actor"] = text.iloc[::-1].to_numpy()
    frame["source_event_id"] = text + pd.Series(range(len(frame)), index=frame.index).astype(str)
    ingest_frame(store, frame, name=FILE_NAME)
    add_user(store, "ada", "admin", PASSWORD)
    set_setting(store, "public_read", True)
    store.close()
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


def assert_inert(page: object, watch: object) -> None:
    """No dialog, no flag in any frame, no hostile element in Streamlit's markup."""
    page.wait_for_timeout(300)
    for frame in page.frames:
        if frame.is_detached():  # a map remounted for the next view (the Incident page's small map)
            continue
        try:
            flag = frame.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")
        except PlaywrightError:
            if frame.is_detached():  # detached while asked; a script it ran would have opened a dialog
                continue
            raise
        assert flag is None, frame.url
    assert page.evaluate(SMUGGLED) == []
    watch.assert_clean()


def test_live_map_popups_tooltips_legend_and_caption_are_inert(server: Server, new_page: Callable) -> None:
    page, watch = new_page()
    page.goto(server.url)
    map_frame(page).locator("path.tl-incident").first.wait_for()
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    seen = frame.evaluate(OPEN_ALL)
    assert seen["opened"] > caption_count(page)
    assert seen["smuggled"] == []
    text = "\n".join(seen["texts"])
    for payload in PAYLOADS:
        assert payload[:30] in text, payload  # shown, as text
    assert "{{7*7}}" in text
    assert "jinja-ran" not in text.replace("{% if true %}jinja-ran{% endif %}", "")
    assert frame.evaluate("() => window.__xss === undefined") is True
    # The page around the map: KPI labels (party names), caption, latest-breach links (zone names).
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "<script>" not in body or "<script>window.__xss='script'" in body  # literal, never parsed
    assert_inert(page, watch)


def test_every_page_shows_hostile_text_as_text(server: Server, new_page: Callable) -> None:
    page, watch = new_page()
    page.goto(server.url)
    map_frame(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign in").click()
    sign_in(page, "ada")
    nav = page.locator('[data-testid="stSidebarNav"]')
    for name, marker in (
        ("Incident", "Description"),
        ("Trends", "Spike alerts"),
        ("Zones & rules", "Parties"),
        ("Users & audit", "Audit log"),
        ("Export", "Prepare the file"),
        ("Review", "Pairs of reports that may be one event"),
    ):
        nav.get_by_role("link", name=name).click()
        wait_for_text(page, marker)
        wait_for_run(page)
        assert_inert(page, watch)
    nav.get_by_role("link", name="Incident").click()
    wait_for_text(page, "Description")
    box = page.get_by_label("Incident id")
    for incident in range(1, len(PAYLOADS) + 1):  # one incident per payload
        box.fill(str(incident))
        box.press("Enter")
        page.get_by_text(f"event {PAYLOADS[incident - 1][:12]}", exact=False).first.wait_for()
        wait_for_run(page)
        shown = page.locator('[data-testid="stText"]').first.inner_text()
        assert shown == PAYLOADS[incident - 1]  # the description, character for character
        assert_inert(page, watch)
    nav.get_by_role("link", name="Zones & rules").click()
    wait_for_text(page, "Parties")
    assert (
        "<script>window.__xss='script';alert('script')</script>"
        in page.locator('[data-testid="stMain"]').inner_text()
    )
    assert_inert(page, watch)


def test_hostile_upload_file_name(server: Server, new_page: Callable, tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(
        "event_id,occurred_at,lat,lon,category,description\n"
        f"X-1,{pd.Timestamp(clock.now()) - pd.Timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ},38.05,126.9,"
        f'artillery_fire,"{PAYLOADS[1].replace(chr(34), chr(34) * 2)}"\n',
        encoding="utf-8",
    )
    page, watch = new_page()
    page.goto(server.url)
    map_frame(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign in").click()
    sign_in(page, "ada")
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Upload").click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    commit = page.get_by_role("button", name=re.compile("^Commit"))
    commit.wait_for()
    assert commit.inner_text() == f"Commit {FILE_NAME}"
    assert_inert(page, watch)
    commit.click()
    wait_for_text(page, "1 accepted")
    # The history's batch picker lists the file by name, as an input's value (it may come a run later).
    picker = page.locator('[data-testid="stSelectbox"] input[aria-label="Batch"]')
    picker.wait_for(timeout=60_000)
    assert FILE_NAME in picker.input_value()
    assert_inert(page, watch)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Users & audit").click()
    wait_for_text(page, "Audit log")
    wait_for_run(page)
    assert_inert(page, watch)
