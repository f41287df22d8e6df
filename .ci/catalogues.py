"""Check that the translation catalogues are up to date with the code.

Extracts every ``_()``, ``N_()`` and ``ngettext()`` string from geo/ and dashboard/ (the
same extraction as ``pybabel extract -F babel.cfg``), then fails, naming the strings, when
a catalogue in ``geo/locale`` lacks a message, leaves one untranslated or fuzzy, or drops
or invents a ``{placeholder}``. Run from the repository root: ``python .ci/catalogues.py``.
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "geo" / "locale"
CHECKED = ("ar", "fr")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> set[str | tuple[str, ...]]:
    """The message ids the code holds now."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def placeholders(text: str) -> set[str]:
    """The named fields of a ``str.format`` template."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def problems(language: str, wanted: set[str | tuple[str, ...]]) -> list[str]:
    """What is wrong with one language's catalogue, one line each."""
    path = LOCALE / language / "LC_MESSAGES" / "truceline.po"
    if not path.exists():
        return [f"{language}: no catalogue at {path.relative_to(ROOT)}"]
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    have = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog if m.id}
    out = [f"{language}: missing: {msgid!r}" for msgid in sorted(wanted - set(have), key=str)]
    for msgid, message in sorted(have.items(), key=lambda kv: str(kv[0])):
        if msgid not in wanted:
            continue  # obsolete: harmless, `pybabel update` drops it
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy or not all(strings):
            out.append(f"{language}: untranslated{' (fuzzy)' if message.fuzzy else ''}: {msgid!r}")
            continue
        ids = [msgid] if isinstance(msgid, str) else list(msgid)
        allowed = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            unknown = placeholders(text) - allowed
            if unknown:
                out.append(f"{language}: placeholder {sorted(unknown)} not in the English: {msgid!r}")
    return out


def main() -> int:
    """Print what is wrong (or that all is well); 1 when a catalogue is out of date."""
    wanted = extracted()
    found = [line for language in CHECKED for line in problems(language, wanted)]
    for line in found:
        print(f"catalogues: {line}")  # noqa: T201 - a command-line check
    if found:
        print(  # noqa: T201
            "catalogues: out of date. Update with: pybabel extract -F babel.cfg --sort-output --no-location "
            "-k N_ -o geo/locale/truceline.pot . && pybabel update -i geo/locale/truceline.pot -d geo/locale "
            "-D truceline --no-fuzzy-matching; then translate (see docs/languages.md)."
        )
        return 1
    print(f"catalogues: {', '.join(CHECKED)} complete ({len(wanted)} messages)")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
