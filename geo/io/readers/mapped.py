"""Any other CSV, through an explicit column mapping (a TOML file or ``field=column`` pairs).

The mapping renames the file's columns to the house template's; the template reader
does the rest. A mapping file::

    [columns]                      # template field = the file's column
    event_id = "Report No"
    occurred_at = "Date/Time"
    lat = "Latitude"
    lon = "Longitude"
    category = "Type"

    [options]
    date_format = "%d/%m/%Y %H:%M" # strptime format; default: every form the readers accept
    dayfirst = true                # 03/04/2024 is 3 April (default: decided from the file's dates)
    timezone = "Asia/Seoul"        # naive times are local to this zone (default UTC)
    source = "team-b"              # the incidents' source
    encoding = "cp949"             # the file's encoding (default: detected)

    [defaults]                     # used where a cell is empty (or the column is absent)
    location_precision = "near"

    [values.category]              # the file's values -> Truceline's
    "Shelling" = "artillery_fire"
"""

from __future__ import annotations

import codecs
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo._errors import ReaderError
from geo.core.categories import vocabulary
from geo.core.grading import CREDIBILITY, RELIABILITY
from geo.core.model import LOCATION_PRECISIONS, VERIFICATION_STATUSES
from geo.io.readers import template

NAME = "mapped"
FIELDS: tuple[str, ...] = (*template.COLUMNS, *template.EXTRA_COLUMNS)
"""The template fields a mapping can fill."""
REQUIRED: tuple[str, ...] = ("occurred_at", "lat", "lon")
OPTIONS: tuple[str, ...] = ("date_format", "dayfirst", "timezone", "source", "encoding")
VALUE_FIELDS: tuple[str, ...] = (
    "category", "verification", "location_precision", "party", "source_reliability", "info_credibility",
)
"""Fields whose values can be translated with a ``[values.<field>]`` table."""


@dataclass(frozen=True)
class ColumnMapping:
    """How a CSV's columns and values map to the house template."""

    columns: dict[str, str]
    """Template field -> the file's column name."""
    date_format: str | None = None
    dayfirst: bool | None = None
    """Whether ``03/04/2024`` is 3 April (True) or 4 March (False); None: decided from the file."""
    timezone: str | None = None
    source: str | None = None
    encoding: str | None = None
    defaults: dict[str, str] = field(default_factory=dict)
    """Template field -> value for empty cells (or for every row, when the field is not mapped)."""
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Template field -> {the file's value: Truceline's value}."""
    origin: str = "mapping"
    """Where the mapping came from, for messages."""


def _allowed(target: str) -> tuple[str, ...] | None:
    if target == "category":
        return tuple(sorted(vocabulary().ids))
    return {
        "verification": VERIFICATION_STATUSES,
        "location_precision": LOCATION_PRECISIONS,
        "source_reliability": RELIABILITY,
        "info_credibility": CREDIBILITY,
    }.get(target)


def _columns(raw: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for target, col in dict(raw.get("columns") or {}).items():
        if target not in FIELDS:
            problems.append(f"columns.{target}: unknown field (expected one of {', '.join(FIELDS)})")
        elif not isinstance(col, str) or not col.strip():
            problems.append(f"columns.{target}: must name a column of the file")
        else:
            columns[target] = col
    missing = [t for t in REQUIRED if t not in columns]
    if missing:
        problems.append(f"columns: {', '.join(missing)} must be mapped")
    return columns


def _options(raw: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    options = dict(raw.get("options") or {})
    problems.extend(f"options.{key}: unknown option (expected one of {', '.join(OPTIONS)})"
                    for key in sorted(set(options) - set(OPTIONS)))
    date_format = options.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        problems.append(f"options.date_format: not a strptime format: {date_format!r} "
                        "(e.g. '%d/%m/%Y %H:%M')")
    if not isinstance(options.get("dayfirst", True), bool):  # absent: decided from the file
        problems.append(f"options.dayfirst: must be true or false, got {options['dayfirst']!r}")
    timezone = options.get("timezone")
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(str(timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"options.timezone: unknown time zone {timezone!r} (e.g. 'Asia/Seoul')")
    encoding = options.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            problems.append(f"options.encoding: unknown encoding {encoding!r}")
    source = options.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        problems.append("options.source: must be a non-empty name")
    return options


def _defaults(raw: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    defaults: dict[str, str] = {}
    for target, value in dict(raw.get("defaults") or {}).items():
        allowed = _allowed(target)
        if target not in FIELDS or target in REQUIRED:
            problems.append(f"defaults.{target}: not a field that can have a default")
        elif allowed is not None and value not in allowed:
            problems.append(f"defaults.{target}: {value!r} is not one of {', '.join(allowed)}")
        else:
            defaults[target] = str(value)
    return defaults


def _values(raw: Mapping[str, Any], problems: list[str]) -> dict[str, dict[str, str]]:
    values: dict[str, dict[str, str]] = {}
    for target, table in dict(raw.get("values") or {}).items():
        allowed = _allowed(target)
        if target not in VALUE_FIELDS or not isinstance(table, dict):
            problems.append(f"values.{target}: expected a table for one of {', '.join(VALUE_FIELDS)}")
            continue
        problems.extend(f"values.{target}.{theirs}: {ours!r} is not one of {', '.join(allowed)}"
                        for theirs, ours in table.items() if allowed is not None and ours not in allowed)
        values[target] = {str(k): str(v) for k, v in table.items()}
    return values


def _build(raw: Mapping[str, Any], origin: str) -> ColumnMapping:
    problems = [f"{key}: unknown table (expected columns, options, defaults, values)"
                for key in sorted(set(raw) - {"columns", "options", "defaults", "values"})]
    columns = _columns(raw, problems)
    options = _options(raw, problems)
    defaults = _defaults(raw, problems)
    values = _values(raw, problems)
    if problems:
        msg = f"{origin}: " + "; ".join(problems)
        raise ReaderError(msg)
    return ColumnMapping(
        columns=columns, date_format=options.get("date_format"), dayfirst=options.get("dayfirst"),
        timezone=str(options["timezone"]) if options.get("timezone") else None, source=options.get("source"),
        encoding=options.get("encoding"), defaults=defaults, values=values, origin=origin,
    )


def load_mapping(path: str | Path) -> ColumnMapping:
    """
    Read a column mapping file (TOML).

    Parameters
    ----------
    path
        The mapping file: tables ``columns``, and optionally ``options``, ``defaults`` and
        ``values.<field>`` (see the module docstring and docs/incident-formats.md).

    Returns
    -------
    ColumnMapping

    Raises
    ------
    ReaderError
        Naming the file and every problem, on one line.
    """
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as err:
        msg = f"{file.name}: mapping file not found"
        raise ReaderError(msg) from err
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        msg = f"{file.name}: cannot read the mapping: {err}"
        raise ReaderError(msg) from err
    return _build(raw, file.name)


def mapping_from_pairs(pairs: Sequence[str]) -> ColumnMapping:
    """
    A column mapping from ``key=value`` pairs, as given on the command line.

    ``field=column`` maps a template field (``lat=Latitude``); an option is given the
    same way (``date_format=%d/%m/%Y``, ``dayfirst=false``, ``timezone=Asia/Seoul``,
    ``source=team-b``, ``encoding=cp949``); ``default.FIELD=value`` sets a default and
    ``values.FIELD.THEIRS=OURS`` translates a value.

    Parameters
    ----------
    pairs
        The pairs, each split at its first ``=``.

    Returns
    -------
    ColumnMapping
    """
    raw: dict[str, dict[str, Any]] = {"columns": {}, "options": {}, "defaults": {}, "values": {}}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"{pair!r}: expected field=column")
        elif key.startswith("default."):
            raw["defaults"][key.removeprefix("default.")] = value
        elif key.startswith("values."):
            target, _, theirs = key.removeprefix("values.").partition(".")
            raw["values"].setdefault(target, {})[theirs] = value
        elif key in OPTIONS:
            raw["options"][key] = _option(key, value)
        else:
            raw["columns"][key] = value
    if problems:
        msg = "mapping flags: " + "; ".join(problems)
        raise ReaderError(msg)
    return _build(raw, "mapping flags")


def _option(key: str, value: str) -> str | bool:
    if key != "dayfirst":
        return value
    lowered = value.strip().lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    return value


def resolve(mapping: ColumnMapping, header: Sequence[str], keys: Sequence[str], name: str) -> dict[str, str]:
    """
    Template field -> the raw frame's column key, for each mapped field.

    Columns are matched by their exact name, then ignoring case and surrounding spaces.

    Raises
    ------
    ReaderError
        When a mapped column is not in the file.
    """
    exact = dict(zip(header, keys, strict=True))
    loose: dict[str, str] = {}
    for h, k in zip(header, keys, strict=True):
        loose.setdefault(h.strip().casefold(), k)
    out, missing = {}, []
    for target, col in mapping.columns.items():
        key = exact.get(col) or loose.get(col.strip().casefold())
        if key is None:
            missing.append(f"{col!r} (for {target})")
        else:
            out[target] = key
    if missing:
        shown = ", ".join(repr(h) for h in header[:20]) + (", ..." if len(header) > 20 else "")
        msg = (f"{name}: {mapping.origin}: column(s) {', '.join(missing)} not in the file "
               f"(its columns: {shown})")
        raise ReaderError(msg)
    return out


def prepare(raw: pd.DataFrame, resolved: Mapping[str, str], mapping: ColumnMapping) -> pd.DataFrame:
    """The raw frame renamed to template fields, with defaults filled in."""
    out = pd.DataFrame({target: raw[key] for target, key in resolved.items()}, index=raw.index)
    for target, default in mapping.defaults.items():
        if target in out:
            out[target] = out[target].where(out[target].str.strip() != "", default)
        else:
            out[target] = pd.Series(default, index=raw.index, dtype="str")
    return out


def absent(resolved: Mapping[str, str], mapping: ColumnMapping) -> frozenset[str]:
    """Optional template fields neither mapped nor defaulted."""
    return frozenset(FIELDS) - set(resolved) - set(mapping.defaults)
