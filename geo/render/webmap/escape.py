r"""Escaping of data text for the contexts a folium map puts it in.

Folium pastes text into three places, and each needs its own encoding:

- HTML that Leaflet parses (``innerHTML``): layer-control names, legend, popups
  bound with a JSON string, DivIcon labels. :func:`html_text` escapes it.
- HTML inside a JS template literal (folium ``Tooltip`` and ``Popup`` paste their
  text between backticks). HTML escaping is not enough there: `` ` ``, ``${`` and
  ``\\`` still act. :func:`template_html` escapes HTML, then turns those three
  characters into HTML entities, which the literal leaves alone and the HTML parser
  turns back into the characters.
- A JSON value inside a ``<script>`` element. :func:`script_json` encodes it so that
  no ``</script>``, ``<!--``, template-literal or line-terminator sequence survives.

All three also defuse Jinja: branca compiles the rendered output of every folium
macro *again* as a Jinja template (``Element(script(self, kwargs))``), so data text
holding ``{{ ... }}`` would be evaluated on the server. Braces become entities in
HTML, and a ``{`` that opens ``{{``, ``{%`` or ``{#`` becomes ``\u007b`` in JSON.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

_BRACE_ENTITIES = str.maketrans({"{": "&#123;", "}": "&#125;"})
_TEMPLATE_ENTITIES = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")
_SCRIPT_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "`": "\\u0060",
        "$": "\\u0024",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}")


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        if value != value:  # NaN, NA  # noqa: PLR0124
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def html_text(value: object) -> str:
    """
    Escape text for HTML element content or a quoted attribute.

    Parameters
    ----------
    value
        Any value; ``None`` and missing values become the empty string.

    Returns
    -------
    str
        Text with ``& < > " '`` and braces replaced by entities.
    """
    return html.escape(_text(value), quote=True).translate(_BRACE_ENTITIES)


def template_html(value: object) -> str:
    r"""
    Escape text for HTML that folium places inside a JS template literal.

    Parameters
    ----------
    value
        Any value; ``None`` and missing values become the empty string.

    Returns
    -------
    str
        :func:`html_text`, with `` ` ``, ``$`` and ``\\`` also replaced by entities.
    """
    return html_text(value).translate(_TEMPLATE_ENTITIES)


def script_json(value: Any) -> str:
    r"""
    Encode a value as JSON that is safe inside a ``<script>`` element.

    Parameters
    ----------
    value
        A JSON-serialisable value.

    Returns
    -------
    str
        Compact JSON (also a JS expression) with ``< > & ' ` $``, the line
        terminators U+2028 and U+2029, and any ``{`` that would open a Jinja tag
        written as ``\u`` escapes. Such a ``{`` is always inside a string: JSON
        syntax never puts ``{``, ``%`` or ``#`` right after a ``{``.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JINJA_OPEN.sub(r"\\u007b", text.translate(_SCRIPT_ESCAPES))


def css_colour(value: object, default: str = "#555555") -> str:
    """
    Return ``value`` if it is a plain CSS colour (hex or a name), else ``default``.

    Parameters
    ----------
    value
        A colour from data, such as a party colour.
    default
        The colour to use when ``value`` is not a plain colour.

    Returns
    -------
    str
        A string safe to place in a style attribute or a Leaflet path option.
    """
    text = _text(value).strip()
    return text if _COLOUR.fullmatch(text) else default
