"""The catalogues of the printed outputs and the command line: every string translated, placeholders kept."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from geo.i18n import LOCALE_DIR, ngettext, translations, use_language
from geo.localize import language_from_environment, number, use_digits

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def printed_sources() -> list[Path]:
    """The modules of the briefings, the snapshot, the export service and the command line."""
    render = [p for p in (ROOT / "geo" / "render").rglob("*.py") if "webmap" not in p.parts]
    return sorted([*render, *(ROOT / "geo" / "cli").glob("*.py"), ROOT / "geo" / "services" / "exports.py"])


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> (msgid, plural) of every marked string of :func:`printed_sources`."""
    out: dict[str, tuple[str, ...]] = {}
    for path in printed_sources():
        for _line, message, _comments, _context in extract_from_file("python", str(path), keywords=KEYWORDS):
            ids = (message,) if isinstance(message, str) else tuple(message)
            if len(ids) > 1 or ids[0] not in out:
                out[ids[0]] = ids
    return out


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_every_printed_string_is_translated(lang):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "truceline.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    problems = []
    for msgid, ids in extracted().items():
        message = catalog.get(msgid)
        if message is not None and len(ids) > 1 and not isinstance(message.id, tuple):
            problems.append(f"not a plural entry: {msgid!r}")
            continue
        if message is None or message.fuzzy:
            problems.append(f"missing: {msgid!r}")
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms):
            problems.append(f"untranslated: {msgid!r}")
        allowed = set().union(*(fields(i) for i in ids))
        for form in forms:
            if fields(form) - allowed:  # a placeholder the code does not fill: KeyError when shown
                problems.append(f"unknown placeholder in {msgid!r}: {form!r}")
    assert not problems, "\n".join(problems)


def test_arabic_has_six_plural_forms():
    translations_ar = translations("ar")
    with use_language("ar"):
        shown = {
            n: translations_ar.ngettext("{count} breach", "{count} breaches", n) for n in (1, 2, 3, 11, 100)
        }
    assert shown == {
        1: "خرق واحد",
        2: "خرقان",
        3: "{count} خروقات",
        11: "{count} خرقا",
        100: "{count} خرق",
    }
    with use_language("ar"):
        assert ngettext("{count} breach", "{count} breaches", 11).format(count=11) == "11 خرقا"


def test_numbers_per_locale_and_digits():
    with use_language("fr"):
        assert number(1234567) == "1\u202f234\u202f567"
        with use_digits("arab"):  # Eastern digits are for Arabic text only
            assert number(12) == "12"
    with use_language("ar"):
        assert number(1234.5) == "1,234.5"
        with use_digits("arab"):
            assert number(1234.5) == "١٬٢٣٤٫٥"
    with pytest.raises(ValueError, match="digits"), use_digits("roman"):  # type: ignore[arg-type]
        pass


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TRUCELINE_LANG": "ar", "LANG": "fr_FR.UTF-8"}, "ar"),
        ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_GB.UTF-8"}, "fr"),
        ({"LANG": "ar_LB.UTF-8"}, "ar"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_language_from_environment(env, expected):
    assert language_from_environment(env) == expected
