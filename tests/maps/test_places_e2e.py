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
    page.evaluate(
        "([lat, lon, zoom]) => Object.values(window).find(v => v instanceof L.Map)"
        ".setView([lat, lon], zoom, {animate: false})",
        [lat, lon, zoom],
    )
    page.wait_for_timeout(200)


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
        zoom_on(page, lat, lon, zoom)
        seen |= set(shown(page))
        if manifest == DEMO_MANIFEST:  # Kaesong lies west of the DMZ's middle
            zoom_on(page, 37.97, 126.7, zoom)
            seen |= set(shown(page))
        assert wanted <= seen, sorted(seen)
        assert refused == []
    finally:
        page.close()
