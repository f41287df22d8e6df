"""The live map's place labels in real headless Chromium: few from afar, more once zoomed in, all local."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.conftest import Server, map_frame, run_cli, streamlit_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The Korean demo, small, public viewing on (the demo's default)."""
    folder = tmp_path_factory.mktemp("e2e-places")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--n", "200", "--days", "20", "--seed", "5")
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


CENTRAL = """el => {
    const box = el.getBoundingClientRect();
    const w = box.width / 8, h = box.height / 8, cx = box.left + box.width / 2, cy = box.top + box.height / 2;
    return Array.from(el.querySelectorAll(".tl-place")).filter(p => {
        const r = p.getBoundingClientRect();
        return Math.abs(r.left - cx) <= w && Math.abs(r.top - cy) <= h;
    }).map(p => p.querySelector(".tl-place-name").textContent);
}"""
"""The labels whose place lies in the central quarter (by width and height) of the map: what two
zoom-in clicks (each doubling the scale around the centre) bring to the whole map."""


def labels(frame: object) -> list[str]:
    return frame.locator(".tl-place .tl-place-name").all_inner_texts()


def test_place_labels_appear_as_the_live_map_is_zoomed_in(server: Server, new_page: Callable) -> None:
    page, watch = new_page()
    page.goto(server.url)
    frame = map_frame(page)
    frame.locator(".tl-place").first.wait_for()
    far = labels(frame)
    far_central = frame.locator(".leaflet-container").evaluate(CENTRAL)
    attribution = frame.locator(".leaflet-control-attribution").inner_text()
    assert "GeoNames" in attribution
    for _ in range(2):
        frame.locator(".leaflet-control-zoom-in").click()
        page.wait_for_timeout(700)  # Leaflet's zoom animation, then the labels' update
    near = labels(frame)
    assert len(near) > len(far_central), (far_central, near)
    assert set(near) - set(far), "zooming in labels places that were not labelled from afar"
    # local names are drawn in the shipped Hangul font (subset into the page), not as missing glyphs
    local = frame.locator(".tl-place-local").first.text_content()
    script = "([name]) => document.fonts.load('11px \"TL Hangul\"', name).then(f => f.length)"
    assert frame.locator(".leaflet-container").evaluate(f"(el, args) => ({script})(args)", [local]) == 1
    # every label is in the place pane, above the background and under the incidents
    assert frame.locator(".leaflet-tlPlaces-pane .tl-place").count() == frame.locator(".tl-place").count()
    watch.assert_clean()
