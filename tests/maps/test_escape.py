"""The escaping functions against a corpus of hostile text."""

from __future__ import annotations

import html
import json
import re

import folium
import pytest

from geo.render.webmap.escape import css_colour, html_text, script_json, template_html
from tests.maps.helpers import XSS_PAYLOADS


@pytest.mark.parametrize("text", XSS_PAYLOADS)
def test_html_text_leaves_no_markup_and_round_trips(text: str) -> None:
    out = html_text(text)
    assert not set(out) & set("<>\"'{}")
    assert html.unescape(out) == text


@pytest.mark.parametrize("text", XSS_PAYLOADS)
def test_template_html_is_inert_in_a_js_template_literal(text: str) -> None:
    out = template_html(text)
    # Nothing that ends the literal, interpolates, escapes or opens a tag survives.
    assert not set(out) & set("<>\"'`$\\{}")
    assert "${" not in out
    assert "</script" not in out.lower()
    # The HTML parser turns the entities back into the original text.
    assert html.unescape(out) == text


@pytest.mark.parametrize("text", XSS_PAYLOADS)
def test_script_json_is_inert_inside_a_script_element(text: str) -> None:
    value = {"text": text, "list": [text, 1, None], text: "as a key"}
    out = script_json(value)
    assert not set(out) & set("<>&'`$\u2028\u2029")
    assert "</script" not in out.lower()
    for tag in ("{{", "{%", "{#"):
        assert tag not in out
    assert json.loads(out) == value


def test_missing_values_become_empty_text() -> None:
    assert html_text(None) == ""
    assert html_text(float("nan")) == ""
    assert template_html(None) == ""
    assert html_text(12) == "12"


def test_script_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON"):
        script_json({"x": float("nan")})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#b03a2e", "#b03a2e"),
        ("#FFF", "#FFF"),
        ("steelblue", "steelblue"),
        (" red ", "red"),
        ("red;background:url(javascript:alert(1))", "#555555"),
        ("expression(alert(1))", "#555555"),
        ("#12345g", "#555555"),
        ('"><script>', "#555555"),
        ("", "#555555"),
        (None, "#555555"),
    ],
)
def test_css_colour_keeps_only_plain_colours(value: object, expected: str) -> None:
    assert css_colour(value) == expected


@pytest.mark.parametrize("text", XSS_PAYLOADS)
def test_folium_does_not_run_data_as_jinja(text: str) -> None:
    """branca compiles each macro's output again as a template: escaped text must survive it."""
    m = folium.Map(tiles=None)
    marker = folium.Marker([0, 0], tooltip=folium.Tooltip(template_html(text)))
    marker.add_to(m)
    page = m.get_root().render()
    (body,) = re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", page, flags=re.DOTALL)
    assert html.unescape(body) == text.strip()


def test_unescaped_folium_text_is_run_as_jinja() -> None:
    """The trap the escaping defuses: raw braces in a folium tooltip are evaluated on the server."""
    m = folium.Map(tiles=None)
    folium.Marker([0, 0], tooltip="{{ 7 * 7 }}").add_to(m)
    assert "49" in m.get_root().render()
