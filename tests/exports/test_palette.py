"""One legend: a verdict (and a zone kind) has the same colour in all four outputs.

One small view with one incident of each verdict is rendered as the live map (the
folium builder's page), the standalone HTML export, the PNG map image and the PDF
briefing. The colours are read back from what each output holds: the JSON payloads and
legend of the HTML pages, pixels of the PNG (at each incident and at the legend
swatches), and the fill-colour operators of the PDF's content streams.
"""

from __future__ import annotations

import html
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from geo.core.filters import Filters
from geo.core.model import VERDICTS, Scenario
from geo.render import palette
from geo.render.image import render_map_image
from geo.render.image.symbols import ALPHA
from geo.render.pdf import render_briefing_pdf
from geo.render.webmap import base_map, build_map, export_html, incident_layers
from tests.exports.conftest import AS_OF, incident_rows, mdl_point, to_view

FILTERS = Filters(since=AS_OF - pd.Timedelta(days=30))
PLACES = {
    "breach": {"share": 0.30, "north_m": 900.0},
    "possible_breach": {"share": 0.55, "north_m": 1_500.0, "location_precision": "region"},
    "no_breach": {"share": 0.70, "north_m": 12_000.0, "party": ""},
    "outside_monitored_area": {"share": 0.45, "north_m": 40_000.0, "party": ""},
}
"""Where each verdict's incident lies: in the DMZ; in it but coarse; 12 km north (a zone
with no rule on artillery); 40 km north (outside every zone)."""
DMZ = "Demilitarized Zone"
TOL = 12


def close(a: tuple[float, ...], b: str, tol: float = TOL) -> bool:
    return all(abs(float(x) - y) <= tol for x, y in zip(a[:3], palette.rgb(b), strict=True))


@pytest.fixture(scope="module")
def four(scenario: Scenario) -> pd.DataFrame:
    rows = []
    for verdict, place in PLACES.items():
        lon, lat = mdl_point(scenario, place["share"], north_m=place["north_m"])
        extra = {k: v for k, v in place.items() if k not in ("share", "north_m")}
        rows.append({"lon": lon, "lat": lat, "source_event_id": verdict, **extra})
    view = to_view(incident_rows(rows), scenario)
    assert view["verdict"].astype(str).tolist() == list(PLACES)
    return view


# --------------------------------------------------------------------------- HTML


def payloads(page: str, function: str) -> list[dict]:
    decoder = json.JSONDecoder()
    calls = re.finditer(rf"window\.Truceline\.{function}\(\w+, ", page)
    return [decoder.raw_decode(page, hit.end())[0] for hit in calls]


def html_marker_colours(page: str) -> dict[str, str]:
    """The fill colour each incident's marker gets, keyed by the verdict its row was built for."""
    out = {}
    for data in payloads(page, "markers"):
        source = data["f"]["source"]
        names = source if isinstance(source, list) else [source["d"][c] for c in source["c"]]
        for i, name in enumerate(names):
            out[name.split(": ")[-1]] = data["verdictColours"][data["v"][i]]
    return out


def legend(page: str) -> str:
    found = re.search(r'window\.Truceline\.control\(\w+, "bottomright", "tl-legend", (".*?")\);', page)
    assert found, "no legend control in the page"
    return json.loads(found.group(1))


def html_legend_colours(page: str) -> dict[str, str]:
    rows = re.findall(r'<circle [^>]*fill="(#[0-9a-f]{6})"[^>]*/></svg><span>([^<]+)</span>', legend(page))
    labels = {v: k for k, v in palette.VERDICT_LABELS.items()}
    return {labels[html.unescape(text)]: fill for fill, text in rows if html.unescape(text) in labels}


def html_zone_style(page: str, name: str) -> tuple[str, str, str, float]:
    """The DMZ as drawn (layer style colour, fill, fill opacity) and its legend swatch colour."""
    chunks = page.split("_styler(feature)")
    (chunk,) = [c for c in chunks if re.search(rf"bindTooltip\(\s*`<div>\s*{re.escape(name)}", c)]
    style = json.loads(re.search(r"return (\{.*?\});", chunk).group(1))
    label = html.escape(palette.zone_kind_label("demilitarized_zone"))
    swatch = re.search(
        rf'<rect [^>]*fill="(#[0-9a-f]{{6}})" fill-opacity="([0-9.]+)" stroke="(#[0-9a-f]{{6}})"[^>]*/></svg>'
        rf"<span>{label}</span>",
        legend(page),
    )
    assert swatch, "no DMZ swatch in the legend"
    assert swatch.group(1) == swatch.group(3) == style["color"] == style["fillColor"]
    return style["color"], swatch.group(1), swatch.group(3), float(swatch.group(2))


@pytest.fixture(scope="module")
def live_page(four: pd.DataFrame, scenario: Scenario) -> str:
    """The live map as the dashboard builds it: the base map and the incident layers."""
    m = base_map(scenario, layer_control=False)
    for group in incident_layers(four, scenario):
        group.add_to(m)
    return m.get_root().render()


@pytest.fixture(scope="module")
def export_page(four: pd.DataFrame, scenario: Scenario) -> str:
    return export_html(build_map(scenario, four, data_as_of=AS_OF))


# --------------------------------------------------------------------------- PNG


@pytest.fixture(scope="module")
def png(four: pd.DataFrame, scenario: Scenario) -> dict[str, object]:
    """Colours read from the PNG: at each incident (unblended from its background), and the legend."""
    shown = render_map_image(four, scenario, filters=FILTERS, as_of=AS_OF, dpi=200)
    empty = render_map_image(four.iloc[:0], scenario, filters=FILTERS, as_of=AS_OF, dpi=200)
    assert empty.extent_m == shown.extent_m
    img = np.asarray(Image.open(io.BytesIO(shown.png)).convert("RGB"), dtype=float)
    bg = np.asarray(Image.open(io.BytesIO(empty.png)).convert("RGB"), dtype=float)
    at_incident = {}
    for row in four.itertuples():
        verdict = str(row.verdict)
        x, y = (int(v) for v in shown.pixel(row.lon, row.lat))
        pixel = np.median(img[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3), axis=0)
        under = np.median(bg[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3), axis=0)
        alpha = ALPHA[verdict]
        at_incident[verdict] = tuple((pixel - (1.0 - alpha) * under) / alpha)
    swatch = {k: tuple(img[int(y), int(x)]) for k, (x, y) in shown.legend_swatches.items()}
    return {"incident": at_incident, "swatch": swatch}


# --------------------------------------------------------------------------- PDF


def pdf_fills(page: object) -> dict[str, tuple[str, str | None]]:
    """For each text shown on a PDF page, the fill (and stroke) colour of the last shape filled before it."""
    state = {"fill": None, "stroke": None, "shape": None}
    out: dict[str, tuple[str, str | None]] = {}

    def colour(args: list) -> str:
        return "#{:02x}{:02x}{:02x}".format(*(round(float(a) * 255) for a in args))

    def before(op: bytes, args: list, *_: object) -> None:
        if op == b"rg":
            state["fill"] = colour(args)
        elif op == b"RG":
            state["stroke"] = colour(args)
        elif op in (b"f", b"f*", b"F", b"B", b"B*", b"b", b"b*"):
            state["shape"] = (state["fill"], state["stroke"] if op.upper().startswith(b"B") else None)

    def text(value: str, *_: object) -> None:
        if value.strip() and state["shape"] is not None:
            out.setdefault(value.strip(), state["shape"])

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return out


@pytest.fixture(scope="module")
def pdf(four: pd.DataFrame, scenario: Scenario) -> PdfReader:
    return PdfReader(io.BytesIO(render_briefing_pdf(four, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)))


# --------------------------------------------------------------------------- the checks


def test_each_verdict_has_one_colour_in_all_four_outputs(live_page, export_page, png, pdf):
    seen = {
        "live map markers": html_marker_colours(live_page),
        "live map legend": html_legend_colours(live_page),
        "HTML export markers": html_marker_colours(export_page),
        "HTML export legend": html_legend_colours(export_page),
        "PDF key": {v: pdf_fills(pdf.pages[0])[palette.VERDICT_LABELS[v]][0] for v in VERDICTS},
    }
    for output, colours in seen.items():
        assert colours == palette.VERDICT_COLOURS, output
    for verdict in VERDICTS:
        expected = palette.VERDICT_COLOURS[verdict]
        assert close(png["incident"][verdict], expected), (verdict, png["incident"][verdict], expected)
        assert close(png["swatch"][f"verdict:{verdict}"], expected), verdict


def test_the_map_inside_the_pdf_uses_the_palette(pdf):
    (picture,) = pdf.pages[0].images
    pixels = np.asarray(picture.image.convert("RGB"), dtype=int).reshape(-1, 3)
    for verdict, colour in palette.VERDICT_COLOURS.items():
        near = np.all(np.abs(pixels - np.array(palette.rgb(colour))) <= 6, axis=1)
        assert near.sum() >= 20, verdict


def test_the_dmz_has_one_colour_in_all_four_outputs(live_page, export_page, png, pdf, scenario):
    style = palette.zone_style("demilitarized_zone")
    for page in (live_page, export_page):
        colour, fill, stroke, opacity = html_zone_style(page, DMZ)
        assert (colour, fill, stroke, opacity) == (
            style.colour,
            style.colour,
            style.colour,
            style.swatch_opacity,
        )
    # The PNG legend swatch and the PDF's zone table paint the swatch opaque, as it looks on white.
    assert close(png["swatch"]["zone:dmz"], style.swatch_fill, tol=6)
    fill, stroke = pdf_fills(pdf.pages[1])[DMZ]
    assert (fill, stroke) == (style.swatch_fill, style.colour)
    assert style.swatch_fill == palette.blend(style.colour, style.swatch_opacity)


def test_parties_have_one_colour_in_the_outputs(live_page, pdf, scenario):
    north = scenario.party("north")
    assert palette.party_colours(scenario)["north"] == north.colour
    assert {tuple(p["partyColours"]) for p in payloads(live_page, "markers")} == {
        tuple(p.colour for p in scenario.parties)
    }
    assert f'stroke="{north.colour}"' in legend(live_page)
    latin = north.name.split("(")[0].strip()  # the Hangul part comes from the fallback font, as its own text
    (mark,) = [shape for text, shape in pdf_fills(pdf.pages[1]).items() if text.startswith(latin)]
    assert mark == (north.colour, north.colour)
