"""The map's vendored scripts and styles: local URLs for the dashboard, inlining for exports.

The files live in ``dashboard/static/vendor/`` (see ``docs/offline-assets.md``).
Streamlit serves that folder at ``/app/static/vendor/`` when static serving is on.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import folium
from branca.element import Element
from folium.elements import JSCSSMixin

from geo._paths import VENDOR

VENDOR_DIR = VENDOR
STATIC_URL = "/app/static/vendor"
"""Where Streamlit serves ``dashboard/static/vendor`` (``server.enableStaticServing``)."""

MAP_JS: tuple[tuple[str, str], ...] = (("leaflet", "leaflet/leaflet.js"),)
MAP_CSS: tuple[tuple[str, str], ...] = (("leaflet_css", "leaflet/leaflet.css"),)
"""The only assets a Truceline map needs: Leaflet 1.9.4. No jQuery, Bootstrap or fonts."""

_SCRIPT_TAG = re.compile(r'<script src="([^"]*)"></script>')
_CSS_TAG = re.compile(r'<link rel="stylesheet" href="([^"]*)"/>')
_CSS_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def use_local_assets(m: folium.Map, static_url: str = STATIC_URL) -> None:
    """Point one map (not the class) at the vendored Leaflet, dropping folium's CDN defaults."""
    base = static_url.rstrip("/")
    m.default_js = [(name, f"{base}/{rel}") for name, rel in MAP_JS]
    m.default_css = [(name, f"{base}/{rel}") for name, rel in MAP_CSS]


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def check_local(m: Element, static_url: str = STATIC_URL) -> None:
    """
    Raise if any element of the map would load a script or style from elsewhere.

    Parameters
    ----------
    m
        A folium map (or any element): every descendant is checked.
    static_url
        The only URL prefix allowed.

    Raises
    ------
    ValueError
        Naming the element and the URL.
    """
    base = static_url.rstrip("/") + "/"
    for element in _walk(m):
        if not isinstance(element, JSCSSMixin):
            continue
        for name, url in [*element.default_js, *element.default_css]:
            if not url.startswith(base):
                msg = f"map: {element.get_name()}.{name}: asset {url} is not vendored under {base}"
                raise ValueError(msg)


@cache
def _read(rel: str) -> str:
    return (VENDOR_DIR / rel).read_text(encoding="utf-8")


@cache
def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _vendor_path(url: str, base: str) -> str:
    if not url.startswith(base):
        msg = f"export: {url}: not a vendored asset under {base}"
        raise ValueError(msg)
    rel = url[len(base) :]
    path = (VENDOR_DIR / rel).resolve()
    if VENDOR_DIR.resolve() not in path.parents or not path.is_file():
        msg = f"export: {url}: no such file in {VENDOR_DIR}"
        raise ValueError(msg)
    return rel


@cache
def inline_css(rel: str) -> str:
    """A vendored stylesheet with its relative ``url(...)`` images as data URIs."""
    folder = (VENDOR_DIR / rel).parent

    def repl(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#")):
            return match.group(0)
        path = (folder / target).resolve()
        if not path.is_file():
            msg = f"{rel}: url({target}): no such file"
            raise ValueError(msg)
        return f'url("{_data_uri(path)}")'

    return _CSS_URL.sub(repl, _read(rel)).replace("</style", "<\\/style")


@cache
def inline_js(rel: str) -> str:
    """A vendored script, ready to sit inside a ``<script>`` element."""
    return _SOURCE_MAP.sub("", _read(rel)).replace("</script", "<\\/script")


def inline_assets(page: str, static_url: str = STATIC_URL) -> str:
    """
    Replace the vendored ``<script src>`` and stylesheet links of a page by their content.

    Parameters
    ----------
    page
        The HTML of a rendered folium figure.
    static_url
        The URL prefix the links use.

    Returns
    -------
    str
        One self-contained HTML page.

    Raises
    ------
    ValueError
        If the page links a script or stylesheet that is not vendored.
    """
    base = static_url.rstrip("/") + "/"
    page = _SCRIPT_TAG.sub(lambda m: f"<script>{inline_js(_vendor_path(m.group(1), base))}</script>", page)
    return _CSS_TAG.sub(lambda m: f"<style>{inline_css(_vendor_path(m.group(1), base))}</style>", page)
