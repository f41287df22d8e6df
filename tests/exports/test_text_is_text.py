"""Names and titles are text in every static output: no mathtext, no PDF aliases, no markup."""

from __future__ import annotations

import ast
import dataclasses
import io
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from geo.core.filters import Filters
from geo.render.image import render_map_png
from geo.render.pdf import history_since, render_briefing_pdf
from tests.exports.conftest import AS_OF, incident_rows, mdl_point, to_view

FILTERS = Filters(since=AS_OF - pd.Timedelta(days=30))
PAYLOAD = "$x^2$ {{7*7}} <b>b</b> {nb} $x^$"
"""Breaks mathtext (``$x^$`` does not parse), Jinja, HTML and fpdf2's page-count alias."""
RENDER = Path(__file__).resolve().parents[2] / "geo" / "render"


def hostile(scenario):
    """The demo scenario with every name, agreement and rule text holding the payload."""
    parties = tuple(
        dataclasses.replace(p, name=f"{p.name} {PAYLOAD}", short_name=f"{PAYLOAD}") for p in scenario.parties
    )
    lines = tuple(
        dataclasses.replace(ln, name=f"{ln.name} {PAYLOAD}", agreement=PAYLOAD) for ln in scenario.lines
    )
    zones = tuple(dataclasses.replace(z, name=f"{z.name} {PAYLOAD}") for z in scenario.zones)
    return dataclasses.replace(
        scenario, name=f"Scenario {PAYLOAD}", parties=parties, lines=lines, zones=zones
    )


@pytest.fixture(scope="module")
def view(scenario):
    rows = []
    for i in range(3):
        lon, lat = mdl_point(scenario, 0.2 + 0.2 * i, north_m=800.0)
        rows.append(
            {
                "lon": lon,
                "lat": lat,
                "location_name": f"Place {PAYLOAD}",
                "description": PAYLOAD,
                "source_event_id": f"T-{i}",
                "actor": PAYLOAD,
            }
        )
    return to_view(incident_rows(rows), scenario)


def test_png_snapshot_with_dollar_pairs_in_every_name(view, scenario):
    png = render_map_png(view, hostile(scenario), filters=FILTERS, as_of=AS_OF, size="a4", dpi=150)
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_pdf_briefing_prints_the_payload_verbatim(view, scenario):
    scen = hostile(scenario)
    history = FILTERS.with_(since=history_since(FILTERS, AS_OF)).apply(view)
    pdf = render_briefing_pdf(view, scen, filters=FILTERS, as_of=AS_OF, history=history, dpi=150)
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "$x^2$" in text
    assert "$x^$" in text
    assert "{{7*7}}" in text
    assert "<b>b</b>" in text
    assert "{nb}" in text  # not replaced by the page count
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert f"Page 1 of {pages}" in text


def test_every_matplotlib_text_call_turns_mathtext_off():
    """Each ``text``/``annotate``/label call in geo/render passes ``parse_math=False``."""
    names = {"text", "annotate", "set_title", "set_xlabel", "set_ylabel", "suptitle"}
    missing = []
    for path in RENDER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in names
                and not (
                    node.func.attr == "set_title" and path.parent.name == "pdf" and path.name == "document.py"
                )
                and not any(k.arg == "parse_math" for k in node.keywords)
            ):
                missing.append(f"{path.relative_to(RENDER)}:{node.lineno}")
    assert not missing
