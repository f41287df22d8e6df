"""Rendered map text kept as text: the same map, byte for byte, as when branca compiled it all."""

from __future__ import annotations

import itertools
import re

import branca.element
import jinja2
import pandas as pd
import pytest
from branca.element import Element

from geo import Scenario
from geo.render.webmap import build_map, export_html
from geo.render.webmap.literal import LiteralTemplate, template

NOW = pd.Timestamp("2026-07-01T00:00:00Z")


def render(scenario: Scenario, view: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> str:
    """The exported map, its element ids numbered 1, 2, … instead of random (two renders compare)."""
    counter = itertools.count(1)
    monkeypatch.setattr(Element, "_generate_id", classmethod(lambda _cls: f"{next(counter):032x}"))
    return export_html(build_map(scenario, view, data_as_of=NOW))


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "",
        "\n",
        "a\n",
        "a\n\n",
        "a\r\nb\r\n",
        "a\rb\r",
        "a\r\n\r\n",
        "{ not jinja } {x} { {",
        "tab\tand trailing spaces  \n  ",
        "ends with a brace {",
    ],
)
def test_a_literal_renders_as_jinja_renders_it(text: str) -> None:
    assert isinstance(template(text), LiteralTemplate)
    assert template(text).render(this=None, kwargs={}) == jinja2.Template(text).render(this=None, kwargs={})


@pytest.mark.parametrize("text", ["{{ 6 * 7 }}", "{% if true %}x{% endif %}", "a {# note #} b"])
def test_text_with_jinja_syntax_still_goes_through_jinja(text: str) -> None:
    assert isinstance(template(text), jinja2.Template)
    assert Element(text).render() == jinja2.Template(text).render()


def test_branca_elements_of_plain_text_are_not_compiled() -> None:
    assert isinstance(Element("var x = 1;\n")._template, LiteralTemplate)


def test_a_whole_map_renders_the_same_as_with_every_piece_compiled(
    scenario: Scenario, evil_view: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = render(scenario, evil_view, monkeypatch)
    monkeypatch.setattr(branca.element, "Template", jinja2.Template)
    compiled = render(scenario, evil_view, monkeypatch)
    assert "Truceline.markers(" in kept  # the incidents are on it
    assert len(re.findall(r"L\.geoJson\(", kept)) >= len(scenario.zones) + len(scenario.lines)
    assert kept == compiled
