"""Playback and the Incident page's small map in headless Chromium; every outside request is refused."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from geo import clock
from tests.e2e.conftest import MAP_FRAME, Server, map_frame, run_cli, streamlit_server, wait_for_run

pytestmark = pytest.mark.e2e

ZOOM = """() => {
    const isMap = k => { try { return window[k] instanceof L.Map; } catch (e) { return false; } };
    const maps = [...new Set(Object.keys(window).filter(isMap).map(k => window[k]))];
    if (maps.length !== 1) { throw new Error('maps: ' + maps.length); }
    return maps[0].getZoom();
}"""
CAPTION = '[data-testid="stCaptionContainer"]'
FRAME = re.compile(r"^Frame \d+ of \d+")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo, 1,200 incidents over 40 days, public viewing on."""
    folder = tmp_path_factory.mktemp("e2e-playback")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--n", "1200", "--days", "40", "--seed", "5")
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


def frame_text(page: object) -> str:
    return page.locator(CAPTION).filter(has_text=FRAME).first.inner_text().split("·")[0].strip()


def map_window(page: object) -> object:
    return page.locator(MAP_FRAME).first.element_handle().content_frame()


def test_pressing_play_steps_the_frames_keeps_the_zoom_and_stays_on_the_machine(
    server: Server, new_page: Callable
) -> None:
    page, watch = new_page()
    page.goto(f"{server.url}/?window=30d")
    page.get_by_text("Playback", exact=True).click()
    wait_for_run(page)
    map_frame(page).locator("path.tl-incident").first.wait_for()
    assert frame_text(page).startswith("Frame 31 of 31")  # opens on the last frame
    # A link opens its frame (paused): the 26th day of the window.
    day = (pd.Timestamp(clock.now()) - pd.Timedelta(days=30)).floor("D") + pd.Timedelta(days=25)
    page.goto(f"{server.url}/?window=30d&frame={day:%Y-%m-%d}&frame_step=day")
    frame = map_frame(page)
    frame.locator("path.tl-incident").first.wait_for()
    captions = f"[...document.querySelectorAll('{CAPTION}')].map(e => e.innerText)"
    page.wait_for_function(f"() => {captions}.some(text => text.startsWith('Frame 26 of 31'))")
    start = frame_text(page)
    assert start == f"Frame 26 of 31: {day:%Y-%m-%d}"
    frame.locator(".leaflet-control-zoom-in").click()
    frame.locator(".leaflet-control-zoom-in").click()
    page.wait_for_timeout(600)
    zoom = map_window(page).evaluate(ZOOM)
    page.get_by_role("button", name="Play").click()
    seen = [start]
    deadline = time.monotonic() + 60
    while len(seen) < 4 and time.monotonic() < deadline:
        text = frame_text(page)
        if text != seen[-1]:
            seen.append(text)
            assert map_window(page).evaluate(ZOOM) == zoom
        page.wait_for_timeout(150)
    numbers = [int(s.split()[1]) for s in seen]
    assert numbers == list(range(26, 26 + len(numbers))) and len(numbers) >= 4, seen  # 3 steps, in order
    page.get_by_role("button", name="Pause").click()
    wait_for_run(page)
    assert map_window(page).evaluate(ZOOM) == zoom  # pan and zoom kept through the frames
    assert "frame=" in page.url and "frame_step=day" in page.url
    shown = frame_text(page)
    paused_day = shown.split(": ", 1)[1]
    assert f"frame={paused_day}" in page.url
    # The URL opens the same frame.
    again, watch_again = new_page()
    again.goto(page.url)
    map_frame(again)
    assert frame_text(again) == shown
    watch.assert_clean()
    watch_again.assert_clean()


def test_the_incident_page_shows_the_incident_and_its_uncertainty_disk(
    server: Server, new_page: Callable
) -> None:
    path = server.db.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (incident,) = conn.execute(
            "SELECT MIN(incident_id) FROM incidents WHERE location_precision = 'near'"
        ).fetchone()
    conn.close()
    page, watch = new_page()
    page.goto(f"{server.url}/incident?id={incident}")
    frame = map_frame(page)
    frame.locator("path.tl-focus").wait_for()
    assert frame.locator("path.tl-uncertainty").count() == 1
    assert frame.locator("path.tl-search").count() == 1
    assert frame.locator("path.tl-connector").count() == 1
    disk = frame.locator("path.tl-uncertainty").bounding_box()
    ring = frame.locator("path.tl-focus").bounding_box()
    centre = (disk["x"] + disk["width"] / 2, disk["y"] + disk["height"] / 2)
    assert abs(centre[0] - (ring["x"] + ring["width"] / 2)) < 3  # the disk is centred on the incident
    assert abs(centre[1] - (ring["y"] + ring["height"] / 2)) < 3
    assert frame.locator("path.tl-incident").count() >= 1
    watch.assert_clean()
