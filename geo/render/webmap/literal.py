r"""Rendered map text kept as text: branca no longer compiles every piece of it as a template.

When folium renders a map, branca wraps each element's rendered script, HTML and header in
a new ``branca.element.Element``, whose constructor compiles that text as a Jinja template
(a millisecond or more per piece, a tenth of a dashboard run's time with a few hundred
markers), to render it once, unchanged. :func:`install` makes branca keep such text as it
is when it holds no Jinja syntax: the rendered map is the same string, byte for byte.

Text that does hold ``{{``, ``{%`` or ``{#`` still goes through Jinja, as before. Text from
data never does: :mod:`.escape` turns its braces into entities or ``\u007b`` first.
"""

from __future__ import annotations

import re
from typing import Any

import branca.element
from jinja2 import Template

_JINJA_SYNTAX = re.compile(r"\{[{%#]")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class LiteralTemplate:
    """
    The template of a text without Jinja syntax: renders what Jinja would, without compiling.

    Jinja turns every line break into a newline and drops one final line break
    (``keep_trailing_newline`` is off in branca's templates); so does this.
    """

    __slots__ = ("text",)

    def __init__(self, source: str) -> None:
        lines = _NEWLINE.split(source)
        if lines[-1] == "":
            del lines[-1]
        self.text = "\n".join(lines)

    def render(self, *args: Any, **kwargs: Any) -> str:
        """The text (the element and its arguments are not used)."""
        del args, kwargs
        return self.text


def template(source: str) -> Template | LiteralTemplate:
    """A Jinja template of ``source``, or a :class:`LiteralTemplate` when it holds no Jinja syntax."""
    return Template(source) if _JINJA_SYNTAX.search(source) else LiteralTemplate(source)


def install() -> None:
    """Make branca's elements built from text use :func:`template` (idempotent)."""
    setattr(branca.element, "Template", template)  # noqa: B010 (the module does not export it)
