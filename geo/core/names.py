r"""User-supplied names as identifiers and as text to print: limits, and control characters made visible.

Text from users (sign-in names, file names, descriptions, zone names) reaches terminals,
log lines and pages. A name holding ``ESC [2J`` clears a terminal and can forge the lines
after it; a right-to-left override (U+202E) reverses what follows on screen. Every
output of user text goes through :func:`printable`, which writes such characters as
escapes (``\x1b``, ``\u202e``) instead.
"""

from __future__ import annotations

import re

from geo._errors import InputError

MAX_USER_NAME = 64
"""Longest local account name."""
MAX_NAME = 200
"""Longest free-text name (a saved mapping, an upload's source, a file name as recorded)."""
MAX_AUDIT_FIELD = 256
"""Longest user name or target an audit entry records; longer ones are clipped (with ``…``)."""

USER_NAME = re.compile(r"[\w.@-]{1,64}")
"""A local account name: letters and digits of any script, ``.``, ``_``, ``@`` and ``-``."""

_FORMAT = "\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{_FORMAT}]")
_CONTROL_ANY = re.compile(f"[\x00-\x1f{_FORMAT}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"  # \u form: valid in JSON text too


def printable(text: object, *, keep_newlines: bool = False) -> str:
    r"""
    Text safe to print: control, format and bidirectional characters written as escapes.

    Parameters
    ----------
    text
        Any value (``None`` gives ``""``).
    keep_newlines
        Keep line feeds and tabs as they are (multi-line text shown as such); by default
        they are escaped too, so one value stays on one line.

    Returns
    -------
    str
        ``text`` with C0 and C1 controls, DEL, zero-width and bidirectional formatting
        characters and line/paragraph separators replaced by ``\xNN`` (ASCII controls) or
        ``\uNNNN`` (the rest, so that a JSON line printed through it stays valid JSON).
    """
    if text is None:
        return ""
    pattern = _CONTROL if keep_newlines else _CONTROL_ANY
    return pattern.sub(_escape, str(text))


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`printable` would escape (line feeds and tabs included)."""
    return bool(_CONTROL_ANY.search(text))


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def check_user_name(name: str) -> str:
    """
    A local account name, checked.

    Raises
    ------
    InputError
        When it is empty, longer than :data:`MAX_USER_NAME` characters, or holds anything
        but letters, digits, ``.``, ``_``, ``@`` and ``-`` (no spaces, no control characters).
    """
    if not USER_NAME.fullmatch(name):
        shown = printable(clip(name, 40))
        msg = f"user name {shown!r}: use 1-{MAX_USER_NAME} letters, digits, '.', '_', '@' or '-'"
        raise InputError(msg)
    return name


def check_name(what: str, value: str, *, limit: int = MAX_NAME) -> str:
    """
    A free-text name (a saved mapping, a source), checked: 1 to ``limit`` characters, no control characters.

    Raises
    ------
    InputError
        Naming ``what`` and the problem.
    """
    if not value.strip():
        msg = f"{what}: must not be empty"
        raise InputError(msg)
    if len(value) > limit:
        msg = f"{what}: at most {limit} characters (got {len(value):,})"
        raise InputError(msg)
    if has_control(value):
        msg = f"{what} {printable(clip(value, 40))!r}: control characters are not allowed"
        raise InputError(msg)
    return value
