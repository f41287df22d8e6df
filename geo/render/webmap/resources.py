"""The map's own scripts, stylesheet and element templates, shipped as files in ``templates/``.

- ``*.js``: plain functions on ``window.Truceline`` (``markers(layer, data)``,
  ``hexCells(layer, data)``, ``control(map, position, className, html)``), each file valid
  JavaScript on its own. :func:`script_library` joins them; the base map carries them once.
- ``map.css``: the styles of the legend, caption, popups and labels.
- ``*.html.j2``: the Jinja macros of the folium elements; they only call the functions
  above with JSON payloads.

branca compiles the rendered output of every element again as a Jinja template, so the
scripts and the stylesheet must hold no ``{{``, ``{%`` or ``{#`` (a test checks it).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from folium.template import Template

TEMPLATES = resources.files(__package__) / "templates"
SCRIPTS = ("control.js", "markers.js", "cells.js", "places.js")
"""The script files of :func:`script_library`, in load order."""


@cache
def text(name: str) -> str:
    """The content of one file of ``templates/``."""
    return (TEMPLATES / name).read_text(encoding="utf-8")


@cache
def template(name: str) -> Template:
    """A folium element template (``*.html.j2``) from ``templates/``."""
    return Template(text(name))


@cache
def script_library() -> str:
    """Every map script, joined: define once per page, before the layers that call it."""
    return "\n".join(text(name) for name in SCRIPTS)


@cache
def stylesheet() -> str:
    """The map's stylesheet."""
    return text("map.css")
