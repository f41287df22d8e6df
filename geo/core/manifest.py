"""Load and validate a scenario manifest (TOML) into a :class:`~geo.core.model.Scenario`.

Every problem is collected first and reported once, one line each, in the form
``file: key: problem``.
"""

from __future__ import annotations

import csv
import tomllib
from datetime import date, timedelta
from pathlib import Path

import shapely
from shapely import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.validation import explain_validity

from geo._errors import ManifestError
from geo.core._antimeridian import lines_lonlat, polygons_lonlat
from geo.core._geomfiles import read_geometry_file
from geo.core._lineparts import assemble, parts_of
from geo.core._manifest_shape import (
    COLOUR_PATTERN,
    MATCH_KINDS,
    Problems,
    Table,
    check_entries,
    parse_date,
    table_key,
)
from geo.core.categories import vocabulary
from geo.core.model import DATA_KINDS, SEVERITIES, ZONE_KINDS, Line, Party, Rule, Scenario, Zone
from geo.core.zones import derive_zone_geometry, derived_validity, scenario_projection


def read_geometry(
    file: Path,
    *,
    key: str,
    kind: str,
    layer: str | None = None,
    crs: str | None = None,
    repair: bool = False,
    name: str | None = None,
) -> tuple[shapely.Geometry, list[str]]:
    """
    Read a line (``kind="line"``) or zone (``kind="zone"``) geometry file, checked.

    Parameters
    ----------
    file
        The geometry file.
    key
        The manifest key, for messages (``zone[dmz]``).
    kind
        ``line`` (LineString or MultiLineString, merged keeping direction) or ``zone``
        (Polygon or MultiPolygon, unioned).
    layer, crs
        As in :func:`geo.core._geomfiles.read_geometry_file`.
    repair
        Repair invalid geometries with ``make_valid`` instead of failing.
    name
        The file's name in messages (an uploaded file's own name); default: ``file``.

    Returns
    -------
    geometry, repairs
        The geometry in lon/lat, and one line per repair made.

    Raises
    ------
    ManifestError
        One line per problem, naming the file and key.
    """
    wanted: tuple[type, ...] = (LineString, MultiLineString) if kind == "line" else (Polygon, MultiPolygon)
    where = f"{key}.file"
    label = str(file) if name is None else name
    frame = read_geometry_file(file, key=where, layer=layer, crs=crs, name=label)
    geoms = [g for g in frame.geometry if g is not None and not g.is_empty]
    empty = len(frame) - len(geoms)
    if not geoms:
        raise ManifestError(f"{label}: {where}: every geometry is empty")
    if empty:
        raise ManifestError(f"{label}: {where}: {empty} empty geometry(ies)")
    bad = sorted({g.geom_type for g in geoms if not isinstance(g, wanted)})
    if bad:
        names = " or ".join(t.__name__ for t in wanted)
        raise ManifestError(
            f"{label}: {where}: {Path(label).name}: wrong geometry type {', '.join(bad)} (expected {names})"
        )
    repairs: list[str] = []
    invalid = [g for g in geoms if not g.is_valid]
    if invalid:
        reason = explain_validity(invalid[0])
        if not repair:
            raise ManifestError(
                f"{label}: {where}: invalid geometry: {reason} "
                "(fix the file, or set repair = true to apply make_valid)"
            )
        geoms = [g if g.is_valid else shapely.make_valid(g) for g in geoms]
        repairs.append(f"{label}: {where}: repaired {len(invalid)} invalid geometry(ies) ({reason})")
    if kind == "line":
        line = assemble(parts_of(geoms), where=f"{label}: {where}")
        first = parts_of(geoms[:1])[0].label
        repairs += [
            f"{label}: {where}: {label} reversed to run the line's way (that of {first})"
            for label in line.reversed
        ]
        return lines_lonlat(line.pieces), repairs
    polys = [p for g in geoms for p in shapely.get_parts(g) if isinstance(p, Polygon)]
    if not polys:
        raise ManifestError(f"{label}: {where}: repair left no polygon")
    union = shapely.union_all(polys) if len(polys) > 1 else polys[0]
    union = union if isinstance(union, Polygon | MultiPolygon) else MultiPolygon(polys)
    return polygons_lonlat(union), repairs


def _geometry(
    base: Path, entry: Table, key: str, kind: str, problems: Problems, repairs: list[str], repair_all: bool
) -> shapely.Geometry | None:
    try:
        geom, fixed = read_geometry(
            base / str(entry["file"]),
            key=key,
            kind=kind,
            layer=entry.get("layer"),
            crs=entry.get("crs"),
            repair=bool(entry.get("repair", repair_all)),
        )
    except ManifestError as err:
        problems.lines.extend(err.problems)
        return None
    repairs += fixed
    return geom


def _party_mapping(file: Path, party_ids: set[str], problems: Problems) -> list[tuple[str, str, str]]:
    key = "scenario.party_mapping"
    if not file.is_file():
        problems.add(key, f"{file}: file not found")
        return []
    out = []
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"pattern", "party"} <= set(reader.fieldnames):
            problems.add(key, f"{file.name}: needs columns pattern, match, party")
            return []
        for line_no, row in enumerate(reader, start=2):
            match = (row.get("match") or "iexact").strip()
            party = (row.get("party") or "").strip()
            pattern = (row.get("pattern") or "").strip()
            if match not in MATCH_KINDS:
                problems.add(
                    key, f"{file.name} line {line_no}: match must be one of {', '.join(MATCH_KINDS)}"
                )
            elif party not in party_ids:
                problems.add(key, f"{file.name} line {line_no}: unknown party {party!r}")
            elif pattern:
                out.append((pattern, match, party))
    return out


def _parties(raw: Table, problems: Problems) -> list[Party]:
    parties = []
    for i, p in enumerate(raw.get("party", [])):
        key = table_key("party", i, p)
        if p.get("colour") and not COLOUR_PATTERN.match(str(p["colour"])):
            problems.add(f"{key}.colour", f"not a #rrggbb colour: {p['colour']!r}")
        parties.append(
            Party(
                id=str(p.get("id", "")),
                name=str(p.get("name", "")),
                short_name=str(p.get("short_name") or p.get("name", "")),
                colour=str(p.get("colour", "#777777")),
            )
        )
    return parties


def _lines(
    raw: Table, base: Path, party_ids: set[str], problems: Problems, repairs: list[str], repair: bool
) -> list[Line]:
    lines = []
    for i, ln in enumerate(raw.get("line", [])):
        key = table_key("line", i, ln)
        sides = {}
        for side in ("left_party", "right_party"):
            value = ln.get(side)
            if value is not None and value not in party_ids:
                problems.add(f"{key}.{side}", f"unknown party {value!r}")
            sides[side] = None if value is None else str(value)
        valid_from = parse_date(ln.get("valid_from"), f"{key}.valid_from", problems)
        valid_to = parse_date(ln.get("valid_to"), f"{key}.valid_to", problems)
        check_dates(key, valid_from, valid_to, problems)
        geom = _geometry(base, ln, key, "line", problems, repairs, repair) if ln.get("file") else None
        if geom is not None:
            lines.append(
                Line(
                    id=str(ln.get("id", "")),  # a missing id is already a problem
                    name=str(ln.get("name", "")),
                    geometry=geom,
                    agreement=str(ln.get("agreement", "")),
                    valid_from=valid_from,
                    valid_to=valid_to,
                    source=str(ln.get("file", "")),
                    **sides,
                )
            )
    return lines


def check_zone_spec(key: str, z: Table, line_ids: set[str], problems: Problems) -> None:
    """Check a zone entry's kind and, for a derived zone, its line, width and side."""
    if z.get("kind") and z["kind"] not in ZONE_KINDS:
        problems.add(f"{key}.kind", f"unknown kind {z['kind']!r} (expected one of {', '.join(ZONE_KINDS)})")
    if z.get("file"):
        if z.get("line") is not None:
            problems.add(key, "give either file, or line with width_m and side, not both")
        return
    if not z.get("line"):
        problems.add(f"{key}.line", "missing: give the line the zone derives from (or a file)")
    elif z["line"] not in line_ids:
        problems.add(f"{key}.line", f"unknown line {z['line']!r}")
    width = z.get("width_m")
    if not isinstance(width, int | float) or isinstance(width, bool):
        problems.add(f"{key}.width_m", "missing or not a number (meters)")
    elif not width > 0:
        problems.add(f"{key}.width_m", f"must be > 0 meters, got {width}")
    if z.get("side", "both") not in ("both", "left", "right"):
        problems.add(f"{key}.side", f"must be both, left or right, got {z.get('side')!r}")


def check_rule(key: str, r: Table, zone_ids: set[str], party_ids: set[str], problems: Problems) -> Rule:
    """Check a rule entry against the zones, parties and vocabulary; return the rule."""
    vocab = vocabulary()
    if r.get("zone") is not None and r["zone"] not in zone_ids:
        problems.add(f"{key}.zone", f"unknown zone {r['zone']!r}")
    prohibits = r.get("prohibits", [])
    if not isinstance(prohibits, list):
        problems.add(f"{key}.prohibits", "must be a list of category ids")
        prohibits = []
    for cat in prohibits:
        if cat not in vocab.ids:
            problems.add(f"{key}.prohibits", f"unknown category {cat!r} (see {vocab.path})")
    bound = r.get("parties", [])
    if not isinstance(bound, list) or not bound:
        problems.add(f"{key}.parties", 'must be ["*"] or a list of party ids')
        bound = []
    for pid in bound:
        if pid != "*" and pid not in party_ids:
            problems.add(f"{key}.parties", f"unknown party {pid!r}")
    if r.get("severity") and r["severity"] not in SEVERITIES:
        problems.add(f"{key}.severity", f"must be one of {', '.join(SEVERITIES)}")
    valid_from = parse_date(r.get("valid_from"), f"{key}.valid_from", problems)
    valid_to = parse_date(r.get("valid_to"), f"{key}.valid_to", problems)
    deadline = parse_date(r.get("deadline"), f"{key}.deadline", problems)
    if deadline is not None:
        if valid_from is not None and valid_from <= deadline:
            problems.add(
                f"{key}.valid_from",
                f"{valid_from} is not after the deadline ({deadline}): the rule is in force "
                "from the day after its deadline (leave valid_from out)",
            )
        valid_from = valid_from or deadline + timedelta(days=1)
    check_dates(key, valid_from, valid_to, problems)
    return Rule(
        id=str(r.get("id", "")),
        zone=str(r.get("zone", "")),
        prohibits=tuple(map(str, prohibits)),
        parties=tuple(map(str, bound)),
        severity=str(r.get("severity", "")),
        text=str(r.get("text", "")),
        valid_from=valid_from,
        valid_to=valid_to,
        weapon_classes=tuple(map(str, r.get("weapon_classes", []))),
        deadline=deadline,
    )


def check_dates(key: str, valid_from: date | None, valid_to: date | None, problems: Problems) -> None:
    """Report a ``valid_to`` before ``valid_from``."""
    if valid_from and valid_to and valid_to < valid_from:
        problems.add(f"{key}.valid_to", f"{valid_to} is before valid_from ({valid_from})")


def zone_dates(
    key: str, z: Table, lines: dict[str, Line], problems: Problems
) -> tuple[date | None, date | None]:
    """
    The dates a zone entry is in force, checked.

    A derived zone takes its line's validity where it gives no date of its own, and its
    own dates may only narrow the line's (see :func:`geo.core.zones.derived_validity`).
    """
    valid_from = parse_date(z.get("valid_from"), f"{key}.valid_from", problems)
    valid_to = parse_date(z.get("valid_to"), f"{key}.valid_to", problems)
    check_dates(key, valid_from, valid_to, problems)
    line = lines.get(str(z.get("line"))) if z.get("line") is not None else None
    if line is None:
        return valid_from, valid_to
    return derived_validity(key, valid_from, valid_to, line, problems.add)


def _zones(
    specs: list[tuple[str, Table, tuple[date | None, date | None]]],
    drawn: dict[str, shapely.Geometry],
    lines: list[Line],
    problems: Problems,
) -> list[Zone]:
    projection = scenario_projection([ln.geometry for ln in lines], list(drawn.values()))
    line_map = {ln.id: ln for ln in lines}
    zones = []
    for key, z, (valid_from, valid_to) in specs:
        if z.get("file"):
            geom = drawn[str(z.get("id"))]
        else:
            try:
                geom = derive_zone_geometry(
                    line_map[z["line"]].geometry, float(z["width_m"]), z.get("side", "both"), projection
                )
            except (ValueError, shapely.errors.GEOSException) as err:
                problems.add(key, f"cannot derive the zone: {err}")
                continue
        zones.append(
            Zone(
                id=str(z.get("id", "")),
                name=str(z.get("name", "")),
                kind=str(z["kind"]),
                geometry=geom,
                valid_from=valid_from,
                valid_to=valid_to,
                line=z.get("line"),
                width_m=float(z["width_m"]) if z.get("line") else None,
                side=z.get("side", "both") if z.get("line") else None,
                source=str(z.get("file", "")),
            )
        )
    return zones


def load_scenario(path: str | Path, *, repair: bool = False) -> Scenario:
    """
    Read a scenario manifest and every geometry file it names.

    Parameters
    ----------
    path
        The TOML manifest. Geometry files are relative to it.
    repair
        Repair every invalid geometry with ``make_valid`` (and report it) instead of
        failing. A line or zone can also opt in with ``repair = true``.

    Returns
    -------
    Scenario

    Raises
    ------
    ManifestError
        With one line per problem, each naming the file and the key.
    """
    file = Path(path)
    problems = Problems(file)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ManifestError(f"{file}: manifest: file not found") from err
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ManifestError(f"{file}: manifest: cannot parse TOML: {err}") from err
    check_entries(raw, problems)
    meta = raw.get("scenario", {})
    base = file.parent
    repairs: list[str] = []
    parties = _parties(raw, problems)
    party_ids = {p.id for p in parties}
    lines = _lines(raw, base, party_ids, problems, repairs, repair)
    line_ids = {str(ln.get("id")) for ln in raw.get("line", [])}
    keyed = [(table_key("zone", i, z), z) for i, z in enumerate(raw.get("zone", []))]
    drawn: dict[str, shapely.Geometry] = {}
    line_map = {ln.id: ln for ln in lines}
    specs = []
    for key, z in keyed:
        check_zone_spec(key, z, line_ids, problems)
        specs.append((key, z, zone_dates(key, z, line_map, problems)))
        if z.get("file") and z.get("line") is None:
            geom = _geometry(base, z, key, "zone", problems, repairs, repair)
            if geom is not None:
                drawn[str(z.get("id"))] = geom
    zone_ids = {str(z.get("id")) for _, z in keyed}
    rules = [
        check_rule(table_key("rule", i, r), r, zone_ids, party_ids, problems)
        for i, r in enumerate(raw.get("rule", []))
    ]
    if meta.get("data") is not None and meta["data"] not in DATA_KINDS:
        problems.add("scenario.data", f"must be one of {', '.join(DATA_KINDS)}, got {meta['data']!r}")
    if meta.get("data") in ("synthetic", "mixed") and meta.get("synthetic") is False:
        problems.add("scenario.synthetic", f"false, but data = {meta['data']!r} includes synthetic records")
    mapping: list[tuple[str, str, str]] = []
    if meta.get("party_mapping"):
        mapping = _party_mapping(base / str(meta["party_mapping"]), party_ids, problems)
    if problems.lines:
        raise ManifestError(problems.lines)
    zones = _zones(specs, drawn, lines, problems)
    if problems.lines:
        raise ManifestError(problems.lines)
    return Scenario(
        name=str(meta.get("name", "")),
        description=str(meta.get("description", "")),
        synthetic=bool(meta.get("synthetic", False)) or meta.get("data") in ("synthetic", "mixed"),
        parties=tuple(parties),
        lines=tuple(lines),
        zones=tuple(zones),
        rules=tuple(rules),
        party_mapping=tuple(mapping),
        repairs=tuple(repairs),
        data=str(meta.get("data") or ""),
        attribution=str(meta.get("attribution") or ""),
        caveats=tuple(str(c) for c in meta.get("caveats", [])),
        translations=problems.translations,
    )


def validate_manifest(path: str | Path) -> list[str]:
    """Return one line per problem in a manifest; empty when it is valid."""
    try:
        load_scenario(path)
    except ManifestError as err:
        return err.problems
    return []
