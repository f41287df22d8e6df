"""The standalone exports in headless Chromium: the region's place names are drawn, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo import DEMO_MANIFEST, load_scenario
from geo.render.webmap import base_map, export_html

pytestmark = pytest.mark.e2e
LEBANON = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "lebanon-2024" / "lebanon-2024.toml"


def shown(page: object) -> list[str]:
    return page.locator(".tl-place .tl-place-name").all_inner_texts()


def zoom_on(page: object, lat: float, lon: float, zoom: int) -> None:
    """Set the view, again if the page's own first fit to the scenario comes after it."""
    for _ in range(25):
        held = page.evaluate(
            "([lat, lon, zoom]) => { const m = Object.values(window).find(v => v instanceof L.Map);"
            " if (m.getZoom() === zoom && m.getCenter().distanceTo([lat, lon]) < 50) return true;"
            " m.setView([lat, lon], zoom, {animate: false}); return false; }",
            [lat, lon, zoom],
        )
        if held:
            return
        page.wait_for_timeout(200)
    pytest.fail(f"the map never held the view {lat}, {lon} at zoom {zoom}")


@pytest.mark.parametrize(
    ("manifest", "at_least", "zoom_to", "wanted"),
    [
        (DEMO_MANIFEST, 20, (38.1, 127.4, 10), {"Kaesong", "Yanggu", "Cheorwon"}),
        (LEBANON, 20, (33.2, 35.3, 11), {"Naqoura", "Bint Jbeil", "Tyre"}),
    ],
)
def test_the_export_draws_the_regions_place_names_offline(
    tmp_path: Path, browser: object, manifest: Path, at_least: int, zoom_to: tuple, wanted: set[str]
) -> None:
    path = tmp_path / "map.html"
    path.write_text(export_html(base_map(load_scenario(manifest))), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    refused: list[str] = []

    def route(r: object) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".tl-place")
        first = shown(page)
        assert len(first) >= at_least, first
        seen = set(first)
        lat, lon, zoom = zoom_to
        views = [(lat, lon)] + ([(37.97, 126.7)] if manifest == DEMO_MANIFEST else [])  # Kaesong lies west
        for lat, lon in views:
            zoom_on(page, lat, lon, zoom)
            for _ in range(50):  # the labels are placed after the zoom's end: give a busy machine time
                seen |= set(shown(page))
                if wanted <= seen:
                    break
                page.wait_for_timeout(200)
        assert wanted <= seen, sorted(seen)
        assert refused == []
    finally:
        page.close()
