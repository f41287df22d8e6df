"""Translations: every string a person reads goes through :func:`_` (gettext, domain ``truceline``).

The language is per run: the dashboard sets it for each page run of each session, the
command line once per invocation (:func:`use_language`). Placeholders are named and filled
after translation, so that translators can move them::

    _("{count} incidents match").format(count=n)

``N_`` marks a string for extraction where it is defined (a table of labels) and
translated where it is shown.
"""

from __future__ import annotations

import contextvars
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

DOMAIN = "truceline"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "ar": "العربية", "fr": "Français", "ru": "Русский"}
"""The interface languages, each named in itself."""
RIGHT_TO_LEFT = frozenset({"ar"})
DEFAULT = "en"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("truceline_language", default=DEFAULT)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """
    The catalogue of ``language``, or no translation (English) when there is none.

    The compiled ``.mo`` is used when it is at least as new as its ``.po``; otherwise the
    ``.po`` itself is read (:func:`_po_translations`), so a checkout works before
    ``pybabel compile`` has run.
    """
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if po.is_file() and (not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime):
        return _po_translations(po, language)
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def _po_translations(po: Path, language: str) -> gettext.NullTranslations:
    """A catalogue read from its ``.po`` source (fuzzy entries left out, as ``pybabel compile`` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


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


def is_rtl(code: str | None = None) -> bool:
    """Whether ``code`` (default: the current language) is written right to left."""
    return (code or language()) in RIGHT_TO_LEFT


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the current language."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name
    """Mark ``message`` for translation without translating it here."""
    return message
