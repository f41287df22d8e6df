"""Payload and speed of the basemap places and rivers: export size and build time, label updates in Chromium.

Run from the repository root: ``python -m benchmarks.basemap`` (the Chromium part needs
Debian's ``chromium`` and Playwright; every request that is not ``file://`` is refused).
"""

from __future__ import annotations

import gzip
import tempfile
import time
from pathlib import Path

from geo import DEMO_MANIFEST, load_scenario
from geo.render.webmap import base_map, export_html

LEBANON = "data/scenarios/lebanon-2024/lebanon-2024.toml"


def export_sizes() -> None:
    for label, path in (("korea", DEMO_MANIFEST), ("lebanon-2024", LEBANON)):
        s = load_scenario(path)
        export_html(base_map(s))  # warm caches
        out = {}
        for places in (False, True):
            t = time.perf_counter()
            for _ in range(5):
                html = export_html(base_map(s, places=places))
            out[places] = (len(html), len(gzip.compress(html.encode())), (time.perf_counter() - t) / 5 * 1000)
        (a, ag, at), (b, bg, bt) = out[False], out[True]
        print(
            f"{label}: export {a} -> {b} bytes (+{b - a}), gzip {ag} -> {bg} (+{bg - ag}); "
            f"build+export {at:.0f} -> {bt:.0f} ms"
        )


def label_updates() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "lebanon.html"
        page_file.write_text(export_html(base_map(load_scenario(LEBANON))), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
            page.goto(page_file.as_uri())
            page.wait_for_selector(".tl-place")
            for zoom in (8, 10, 12):
                ms, count = page.evaluate(
                    "z => { const m = Object.values(window).find(v => v instanceof L.Map);"
                    " m.setZoom(z, {animate: false}); const t = performance.now();"
                    " for (let i = 0; i < 20; i++) m.fire('moveend');"
                    " const n = document.querySelectorAll('.tl-place').length;"
                    " return [(performance.now() - t) / 20, n]; }",
                    zoom,
                )
                print(f"lebanon-2024 zoom {zoom}: label update {ms:.2f} ms, {count} labels")
            browser.close()


if __name__ == "__main__":
    export_sizes()
    label_updates()
