"""Places and rivers of the shipped basemap layers: data, the live map's payload, the HTML export, the PNG."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image

from geo import DEMO_MANIFEST, Scenario, load_scenario
from geo.core.filters import Filters
from geo.render.image.map_image import MapImage, render_map_image
from geo.render.places import ZOOM_STEPS, layers, min_zoom, places_in
from geo.render.webmap import base_map, export_html
from geo.render.webmap.places import PlaceLabels
from tests.maps.helpers import evil

REPO = Path(__file__).resolve().parents[2]
LEBANON = REPO / "data" / "scenarios" / "lebanon-2024" / "lebanon-2024.toml"
AS_OF = pd.Timestamp("2026-01-01T00:00:00Z")
EMPTY = pd.DataFrame({"lon": [], "lat": [], "verdict": []})


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._in = False

    def handle_starttag(self, tag: str, attrs: list) -> None:  # noqa: ARG002
        self._in = tag == "script"
        if self._in:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:  # noqa: ARG002
        self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.scripts[-1] += data


def places_payload_of(html: str) -> dict:
    """Parse the exported document and decode the JSON the place labels are drawn from."""
    parser = _Scripts()
    parser.feed(html)
    calls = [s for s in parser.scripts if "window.Truceline.places(" in s]
    assert len(calls) == 1
    start = calls[0].index("window.Truceline.places(")
    start = calls[0].index("{", start)
    payload, _ = json.JSONDecoder().raw_decode(calls[0][start:])
    return payload


def scenario_box(scenario: Scenario) -> tuple[float, float, float, float]:
    geoms = [ln.geometry for ln in scenario.lines] + [z.geometry for z in scenario.zones]
    return tuple(float(v) for v in shapely.total_bounds(geoms))  # type: ignore[return-value]


@pytest.fixture(scope="module")
def korea() -> Scenario:
    return load_scenario(DEMO_MANIFEST)


@pytest.fixture(scope="module")
def lebanon() -> Scenario:
    return load_scenario(LEBANON)


# ------------------------------------------------------------------------------ data


def test_each_pack_ships_its_layers_small_with_provenance() -> None:
    for folder in sorted((REPO / "data" / "scenarios").glob("*/pack.toml")):
        basemap = folder.parent / "basemap"
        size = sum(p.stat().st_size for p in basemap.iterdir())
        assert size <= 15 * 1024 * 1024, (folder.parent.name, size)
        provenance = (basemap / "PROVENANCE.md").read_text(encoding="utf-8")
        assert "CC BY 4.0" in provenance
        assert "tools/build_basemap.py" in provenance
        for name in ("places.geojson", "rivers.geojson"):
            data = json.loads((basemap / name).read_text(encoding="utf-8"))
            coords = re.findall(r"-?\d+\.(\d+)", json.dumps([f["geometry"] for f in data["features"]]))
            assert all(len(d) <= 5 for d in coords), name


def test_latin_labels_use_common_english_spellings_and_keep_the_geonames_id() -> None:
    by_id = {p.id: p for p in layers().places}
    assert by_id[278832].name == "Naqoura"
    assert by_id[276592].name == "Bint Jbeil"
    assert by_id[267008].name == "Tyre"
    assert by_id[1876373].name == "Kaesong"
    assert by_id[1876373].local == "개성"
    assert by_id[267008].local == "صور"


def test_labels_need_a_closer_zoom_the_smaller_the_place() -> None:
    pops = [10_000_000, *(p for p, _ in ZOOM_STEPS), 999, 0]
    zooms = [min_zoom(p) for p in pops]
    assert zooms == sorted(zooms)
    assert zooms[0] < zooms[-1]


def test_the_litani_is_the_lebanese_one_from_osm() -> None:
    found = layers()
    osm = [g for g, o in zip(found.rivers, found.osm_rivers, strict=True) if o]
    assert len(osm) == 1
    west, south, east, north = osm[0].bounds
    assert 35.2 < west < 35.3 and 33.2 < south < 33.4 and east < 36.1 and north < 34.0


# -------------------------------------------------------------------------- live map


def test_place_names_are_json_for_text_content_never_markup() -> None:
    hostile = {"name": [evil(0)], "local": ["</script><script>alert(1)</script>`${x}`"], "lat": [1.0]}
    element = PlaceLabels({**hostile, "lon": [1.0], "zoom": [5], "pane": "p", "attribution": "a"})
    assert "</script" not in element.payload and "<" not in element.payload
    assert "`" not in element.payload and "${" not in element.payload
    assert json.loads(element.payload)["local"] == hostile["local"]
    script = (REPO / "geo" / "render" / "webmap" / "templates" / "places.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and ".textContent = data.name[i]" in script


@pytest.mark.parametrize(
    ("which", "wanted", "at_least"),
    [("korea", {"Kaesong", "Yanggu", "Cheorwon"}, 20), ("lebanon", {"Naqoura", "Bint Jbeil", "Tyre"}, 20)],
)
def test_standalone_export_holds_the_regions_place_names(
    which: str, wanted: set[str], at_least: int, request: pytest.FixtureRequest
) -> None:
    scenario = request.getfixturevalue(which)
    html = export_html(base_map(scenario))
    payload = places_payload_of(html)
    west, south, east, north = scenario_box(scenario)
    lon, lat = np.array(payload["lon"]), np.array(payload["lat"])
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    names = {n for n, ok in zip(payload["name"], inside, strict=True) if ok}
    assert len(names) >= at_least
    assert wanted <= names
    assert all(1 <= z <= 18 for z in payload["zoom"])
    assert "GeoNames (CC BY 4.0)" in payload["attribution"]
    assert "Rivers" in html


# ------------------------------------------------------------------------------- PNG


def render(scenario: Scenario, *, places: bool = True) -> MapImage:
    return render_map_image(EMPTY, scenario, filters=Filters(), as_of=AS_OF, dpi=150, places=places)


@pytest.mark.parametrize(
    ("which", "wanted", "at_least"),
    [("korea", {"Kaesong", "Yanggu", "Cheorwon"}, 20), ("lebanon", {"Naqoura", "Bint Jbeil", "Tyre"}, 3)],
)
def test_png_snapshot_draws_the_regions_place_names(
    which: str, wanted: set[str], at_least: int, request: pytest.FixtureRequest
) -> None:
    scenario = request.getfixturevalue(which)
    with_places, without = render(scenario), render(scenario, places=False)
    assert without.place_labels == ()
    names = {label.text.split("\n")[0] for label in with_places.place_labels}
    assert len(names) >= at_least
    assert wanted <= names
    left, top, right, bottom = with_places.map_box
    drawn = np.asarray(Image.open(io.BytesIO(with_places.png)).convert("RGB"), dtype=int)
    plain = np.asarray(Image.open(io.BytesIO(without.png)).convert("RGB"), dtype=int)
    for label in with_places.place_labels:
        if label.text.split("\n")[0] not in wanted:
            continue
        x0, y0, x1, y1 = (int(v) for v in label.box)
        assert left <= x0 < x1 <= right and top <= y0 < y1 <= bottom
        # the label's pixels differ from the same map drawn without places, and hold dark text
        region = np.abs(drawn[y0:y1, x0:x1] - plain[y0:y1, x0:x1]).sum(axis=2)
        assert (region > 150).sum() > 20, label.text
        assert (drawn[y0:y1, x0:x1].sum(axis=2) < 300).sum() > 10, label.text
        # the place itself is where its label starts
        px, py = with_places.pixel(label.lon, label.lat)
        assert x0 - 12 <= px <= x0 + 12 and y1 - 12 <= py <= y1 + 12


def test_png_labels_never_overlap(korea: Scenario) -> None:
    labels = render(korea).place_labels
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart_x = a.box[2] <= b.box[0] or b.box[2] <= a.box[0]
            assert apart_x or a.box[3] <= b.box[1] or b.box[3] <= a.box[1]


def test_places_in_takes_longitudes_past_180() -> None:
    found = places_in((-234.4, 37.0, -230.6, 39.5))  # the Korean places, one turn west
    assert any(p.name == "Kaesong" and p.lon < -180 for p in found)


def test_local_names_are_drawn_in_shipped_fonts_subset_to_them(korea: Scenario, lebanon: Scenario) -> None:
    from fontTools.ttLib import TTFont

    for scenario, family, name in ((korea, "TL Hangul", "개성"), (lebanon, "TL Arabic", "صور")):
        html = export_html(base_map(scenario))
        rule = r'@font-face \{ font-family: "' + family + r'"; src: url\(data:font/\w+;base64,([^)]+)\)'
        found = re.search(rule, html)
        assert found, family
        font = TTFont(io.BytesIO(base64.b64decode(found.group(1))))
        cmap = font.getBestCmap()
        assert all(ord(c) in cmap for c in name)
        assert len(cmap) < 2_000  # a subset, not the whole font
