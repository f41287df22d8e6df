"""Translations: every string a person reads goes through :func:`_` (gettext, domain ``truceline``).

The language is per run: the dashboard sets it for each page run of each session, the
command line once per invocation (:func:`use_language`). Placeholders are named and filled
after translation, so that translators can move them::

    _("{count} incidents match").format(count=n)

``N_`` marks a string for extraction where it is defined (a table of labels) and
translated where it is shown.

The catalogues are ``geo/locale/LANG/LC_MESSAGES/truceline.po``. A compiled ``.mo`` next to
one is used when it is at least as new; otherwise the ``.po`` is compiled in memory at first
use, so a fresh clone needs no build step. Numbers and dates go through :func:`number` and
:func:`when` (Babel, the current language, Western or Eastern Arabic digits per
:func:`set_digits`).
"""

from __future__ import annotations

import contextvars
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Literal

DOMAIN = "truceline"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "ar": "العربية", "fr": "Français", "ru": "Русский"}
"""The interface languages, each named in itself."""
RIGHT_TO_LEFT = frozenset({"ar"})
DEFAULT = "en"

Digits = Literal["latn", "arab"]
DIGITS: dict[str, str] = {"latn": "0123456789", "arab": "٠١٢٣٤٥٦٧٨٩"}
"""The digit systems a number may be written in: Western (``latn``) and Eastern Arabic (``arab``)."""

_current: contextvars.ContextVar[str] = contextvars.ContextVar("truceline_language", default=DEFAULT)
_digits: contextvars.ContextVar[str] = contextvars.ContextVar("truceline_digits", default="latn")


def catalogue_path(language: str, suffix: str = ".po") -> Path:
    """Where the catalogue of ``language`` lives (``.po`` source or ``.mo`` compiled)."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """
    The catalogue of ``language``, or no translation (English) when there is none.

    A ``.mo`` at least as new as its ``.po`` is read as is; otherwise the ``.po`` is
    compiled in memory (fuzzy entries left out, as ``pybabel compile`` does).
    """
    po, mo = catalogue_path(language), catalogue_path(language, ".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if not po.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def language() -> str:
    """The language of the current run."""
    return _current.get()


def set_language(code: str) -> None:
    """Use ``code`` (one of :data:`LANGUAGES`, else English) for the rest of this run."""
    _current.set(code if code in LANGUAGES else DEFAULT)


@contextmanager
def use_language(code: str) -> Iterator[None]:
    """Use ``code`` inside the block, then the language before it."""
    token = _current.set(code if code in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def digits() -> str:
    """The digit system of the current run (``latn`` or ``arab``)."""
    return _digits.get()


def set_digits(system: str) -> None:
    """Write numbers with ``system``'s digits (``latn``, else ``arab``) for the rest of this run."""
    _digits.set(system if system in DIGITS else "latn")


def _in_digits(text: str) -> str:
    system = digits()
    if system == "latn" or language() != "ar":
        return text
    return text.translate(str.maketrans(DIGITS["latn"], DIGITS[system]))


def number(value: float, *, decimals: int | None = None) -> str:
    """
    ``value`` written for the current language: its separators, and its digits for Arabic.

    Parameters
    ----------
    value
        The number.
    decimals
        Fixed decimals; ``None`` keeps up to three as Babel does.
    """
    from babel.numbers import format_decimal

    fmt = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    system = digits() if language() == "ar" else "latn"
    text = str(format_decimal(value, format=fmt, locale=language(), numbering_system=system))
    return _in_digits(text)  # a pattern's digits stay Western in Babel: the separators alone follow it


def when(value: datetime | date, *, style: str = "medium") -> str:
    """
    A UTC instant (or a date) written for the current language, with "UTC" after a time.

    Parameters
    ----------
    value
        A timezone-aware datetime (naive means UTC) or a date.
    style
        Babel's ``short``, ``medium`` or ``long``; ``iso`` for ``2026-11-27 13:05``,
        ``iso-seconds`` for ``2026-11-27 13:05:09`` and ``time`` for ``13:05:09``, in the
        language's digits.
    """
    from babel.dates import format_date, format_datetime

    if not isinstance(value, datetime):
        text = value.isoformat() if style == "iso" else str(format_date(value, style, locale=language()))
        return _in_digits(text)
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    fixed = {"iso": "%Y-%m-%d %H:%M", "iso-seconds": "%Y-%m-%d %H:%M:%S", "time": "%H:%M:%S"}
    if style in fixed:
        text = utc.strftime(fixed[style])
    else:
        text = str(format_datetime(utc, style, tzinfo=UTC, locale=language()))
    return _in_digits(text) + " UTC"


def is_rtl(code: str | None = None) -> bool:
    """Whether ``code`` (default: the current language) is written right to left."""
    return (code or language()) in RIGHT_TO_LEFT


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the current language."""
    return translations(language()).ngettext(singular, plural, n)


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """
    A message's form for each plural category of the current language (CLDR: ``one``, ``few``, ...).

    For scripts that choose the form themselves (``Intl.PluralRules(lang).select(n)`` in a
    browser): each category's form is the one ``ngettext`` gives a number of that category.
    """
    from babel import Locale

    rule = Locale.parse(language()).plural_form
    forms: dict[str, str] = {}
    for n in range(200):
        forms.setdefault(rule(n), ngettext(singular, plural, n))
    return forms


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name
    """Mark ``message`` for translation without translating it here."""
    return message


def accepted(header: str | None) -> list[str]:
    """
    The interface languages a browser's ``Accept-Language`` header asks for, best first.

    ``fr-CA,fr;q=0.9,ar;q=0.8`` gives ``["fr", "ar"]``; a region is dropped, a language
    Truceline does not speak is skipped, and ``q=0`` means "not this one".
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        code = tag.strip().lower().replace("_", "-").split("-")[0]
        weight = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if code in LANGUAGES and weight > 0:
            ranked.append((-weight, position, code))
    seen: list[str] = []
    for _w, _p, code in sorted(ranked):
        if code not in seen:
            seen.append(code)
    return seen


def choose(url: str | None, saved: str | None, browser: str | None) -> str:
    """
    The language of a page: the URL's ``lang``, else the user's saved choice, else the browser's.

    Parameters
    ----------
    url
        The ``lang`` query parameter (ignored unless one of :data:`LANGUAGES`).
    saved
        The signed-in user's saved preference.
    browser
        The browser's ``Accept-Language`` header (or a single locale such as ``fr-FR``).
    """
    for candidate in (url, saved):
        code = (candidate or "").strip().lower()
        if code in LANGUAGES:
            return code
    found = accepted(browser)
    return found[0] if found else DEFAULT
