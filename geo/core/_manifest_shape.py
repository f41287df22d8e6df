"""The shape of a scenario manifest: its tables, keys, value types, ids and translations.

Each check adds ``file: key: problem`` lines to a :class:`Problems` and drops the unsound
value, so the later checks in :mod:`geo.core.manifest` see only sound values.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

KEYS = {
    "scenario": {"name", "description", "synthetic", "party_mapping", "data", "attribution", "caveats"},
    "party": {"id", "name", "short_name", "colour"},
    "line": {
        "id",
        "name",
        "file",
        "layer",
        "crs",
        "left_party",
        "right_party",
        "agreement",
        "valid_from",
        "valid_to",
        "repair",
    },
    "zone": {
        "id",
        "name",
        "kind",
        "file",
        "layer",
        "crs",
        "line",
        "width_m",
        "side",
        "valid_from",
        "valid_to",
        "repair",
    },
    "rule": {
        "id",
        "zone",
        "prohibits",
        "parties",
        "severity",
        "text",
        "valid_from",
        "valid_to",
        "weapon_classes",
        "deadline",
    },
}
_REQUIRED = {
    "scenario": ("name",),
    "party": ("id", "name", "colour"),
    "line": ("id", "name", "file"),
    "zone": ("id", "name", "kind"),
    "rule": ("id", "zone", "prohibits", "parties", "severity", "text"),
}
_TEXT = (
    "id",
    "name",
    "file",
    "layer",
    "crs",
    "left_party",
    "right_party",
    "agreement",
    "kind",
    "line",
    "side",
    "zone",
    "severity",
    "text",
    "colour",
    "short_name",
    "description",
    "party_mapping",
    "data",
    "attribution",
)
_TRANSLATABLE = {
    "scenario": ("name", "description"),
    "party": ("name", "short_name"),
    "line": ("name",),
    "zone": ("name",),
    "rule": ("text",),
}
"""Texts that may be a plain string or a table of translations: ``name = { en = "…", ar = "…" }``."""
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    **dict.fromkeys(_TEXT, ((str,), "text")),
    "synthetic": ((bool,), "true or false"),
    "repair": ((bool,), "true or false"),
    "width_m": ((int, float), "a number"),
    "prohibits": ((list,), "a list of text"),
    "parties": ((list,), "a list of text"),
    "weapon_classes": ((list,), "a list of text"),
    "caveats": ((list,), "a list of text"),
    "deadline": ((date, str), "a date"),
    "valid_from": ((date, str), "a date"),
    "valid_to": ((date, str), "a date"),
}
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
COLOUR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
MATCH_KINDS = ("exact", "iexact", "icontains")


Table = dict[str, Any]
"""A TOML table as ``tomllib`` gives it."""


class Problems:
    """Collects ``file: key: problem`` lines (and the translations met on the way)."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: list[str] = []
        self.translations: dict[str, dict[str, str]] = {}

    def add(self, key: str, problem: str) -> None:
        self.lines.append(f"{self.file}: {key}: {problem}")


def parse_date(value: Any, key: str, problems: Problems) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.add(key, f"not a date: {value!r} (use YYYY-MM-DD)")
        return None


def table_key(kind: str, index: int, entry: Table) -> str:
    ident = entry.get("id")
    # An id that is not one printable line would break the one-line message: use the index.
    readable = isinstance(ident, str) and ident and ident.isprintable()
    return f"{kind}[{ident}]" if readable else f"{kind}[{index}]"


def check_entries(raw: Table, problems: Problems) -> None:
    for kind, allowed in KEYS.items():
        for i, entry in enumerate(_tables(raw, kind, problems)):
            key = kind if kind == "scenario" else table_key(kind, i, entry)
            _translations(kind, key, entry, problems)
            _check_types(key, entry, problems)
            for unknown in sorted(set(entry) - allowed):
                problems.add(
                    f"{key}.{unknown}", f"unknown key (expected one of {', '.join(sorted(allowed))})"
                )
            for need in _REQUIRED.get(kind, ()):
                if entry.get(need) in (None, "", []):
                    problems.add(f"{key}.{need}", "missing")
        _check_ids(kind, (raw.get(kind) or []) if kind != "scenario" else [], problems)
    for unknown in sorted(set(raw) - set(KEYS)):
        problems.add(unknown, "unknown table (expected scenario, party, line, zone, rule)")


def _translations(kind: str, key: str, entry: Table, problems: Problems) -> None:
    """Turn each translated text into its plain form (English, else the first) and keep the table."""
    for name in _TRANSLATABLE.get(kind, ()):
        value = entry.get(name)
        if not isinstance(value, dict):
            continue
        where = f"{key}.{name}"
        bad = [lang for lang in value if not _LANG.match(str(lang))]
        if bad:
            problems.add(where, f"not a language code: {', '.join(map(repr, bad))} (use en, ar, fr, fr-CH)")
        empty = [lang for lang, text in value.items() if not isinstance(text, str) or not text.strip()]
        if empty:
            problems.add(where, f"translation must be non-empty text: {', '.join(map(repr, empty))}")
        if not value:
            problems.add(where, "empty table: give the text, or a table of languages")
        if bad or empty or not value:
            del entry[name]
            continue
        entry[name] = value.get("en") or next(iter(value.values()))
        problems.translations[where] = {str(k): str(v) for k, v in value.items()}


def _tables(raw: Table, kind: str, problems: Problems) -> list[Table]:
    """The entries of a table kind, each a dict; a wrong shape is a problem (and dropped)."""
    entries = raw.get(kind, {} if kind == "scenario" else [])
    if kind == "scenario":
        if not isinstance(entries, dict):
            problems.add(kind, "must be a table ([scenario])")
            raw[kind] = entries = {}
        return [entries]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.add(kind, f"must be an array of tables ([[{kind}]])")
        raw[kind] = []
        return []
    return entries


def _check_types(key: str, entry: Table, problems: Problems) -> None:
    """Report (and drop) values of the wrong type, so later checks see only sound values."""
    for name in sorted(set(entry) & set(_TYPES)):
        types, what = _TYPES[name]
        value = entry[name]
        wrong = not isinstance(value, types) or (name == "width_m" and isinstance(value, bool))
        if not wrong and isinstance(value, list):
            wrong = not all(isinstance(v, str) for v in value)
        if wrong:
            problems.add(f"{key}.{name}", f"must be {what}, got {value!r}")
            del entry[name]


def _check_ids(kind: str, entries: list[Table], problems: Problems) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        ident = entry.get("id")
        if ident is None:
            continue
        key = table_key(kind, i, entry)
        if not ID_PATTERN.match(ident):
            problems.add(f"{key}.id", "must be letters, digits, '_', '.', '-' (at most 64)")
        elif ident in seen:
            problems.add(f"{key}.id", "duplicate id")
        seen.add(ident)
