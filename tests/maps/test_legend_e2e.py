"""The legend in real headless Chromium: folded on a narrow map, open on a wide one, never most of the map."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo import Scenario
from geo.render.webmap import build_map, export_html

pytestmark = pytest.mark.e2e

STATE = """() => {
    const box = document.querySelector('.tl-legend');
    const map = document.querySelector('.leaflet-container').getBoundingClientRect();
    const legend = box.getBoundingClientRect();
    return {open: box.querySelector('details').open, legend: legend.width * legend.height,
            map: map.width * map.height, height: legend.height, mapHeight: map.height};
}"""


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario, view_400: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("legend") / "map.html"
    path.write_text(export_html(build_map(scenario, view_400)), encoding="utf-8")
    return path


def open_at(browser: object, path: Path, width: int, height: int) -> tuple[object, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": height})
    refused: list[str] = []

    def route(r: object) -> None:
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_selector(".tl-legend details")
    return page, refused


def test_the_legend_is_folded_on_a_narrow_map_and_opens_within_bounds(
    browser: object, page_file: Path
) -> None:
    page, refused = open_at(browser, page_file, 600, 700)
    state = page.evaluate(STATE)
    assert state["open"] is False
    assert state["legend"] < 0.05 * state["map"]  # just its title
    page.locator(".tl-legend summary").click()
    state = page.evaluate(STATE)
    assert state["open"] is True
    assert state["height"] <= 0.6 * state["mapHeight"]  # scrolls within at most 60 % of the map's height
    assert state["legend"] < 0.5 * state["map"]
    page.set_viewport_size({"width": 1300, "height": 700})  # the viewer chose: a wider map leaves it be
    page.wait_for_timeout(200)
    assert page.evaluate(STATE)["open"] is True
    assert refused == []
    page.close()


def test_the_legend_is_open_on_a_wide_map_and_folds_when_the_map_narrows(
    browser: object, page_file: Path
) -> None:
    page, refused = open_at(browser, page_file, 1280, 860)
    state = page.evaluate(STATE)
    assert state["open"] is True
    assert state["legend"] < 0.25 * state["map"]
    page.set_viewport_size({"width": 640, "height": 860})
    page.wait_for_function("() => !document.querySelector('.tl-legend details').open")
    assert refused == []
    page.close()
