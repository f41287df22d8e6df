"""Edit a scenario in memory: add zones (drawn or derived), lines and rules; remove them.

Every edit is checked like a manifest entry and returns a new :class:`~geo.core.model.Scenario`;
saving it with :func:`geo.services.ingest.load_scenario_into_store` reclassifies every incident.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import shapely

from geo._errors import ManifestError
from geo.core._manifest_shape import ID_PATTERN, Problems
from geo.core.manifest import check_dates, check_rule, check_zone_spec, read_geometry
from geo.core.model import Line, Rule, Scenario, Side, Zone
from geo.core.zones import derive_zone_geometry, derived_validity, scenario_projection

_WHERE = Path("dashboard")


def _check_id(scenario: Scenario, kind: str, ident: str, existing: set[str], problems: Problems) -> None:
    if not ID_PATTERN.match(ident):
        problems.add(f"{kind}[{ident}].id", "must be letters, digits, '_', '.', '-' (at most 64)")
    elif ident in existing:
        problems.add(f"{kind}[{ident}].id", f"a {kind} with this id exists in {scenario.name!r}")


def _read_upload(
    data: bytes, file_name: str, key: str, kind: str, repair: bool
) -> tuple[shapely.Geometry, list[str]]:
    suffix = Path(file_name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="truceline-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"  # never the uploaded name: it may hold a path
        path.write_bytes(data)
        geom, repairs = read_geometry(path, key=key, kind=kind, repair=repair, name=file_name)
    return geom, repairs


def add_drawn_zone(
    scenario: Scenario,
    *,
    zone_id: str,
    name: str,
    kind: str,
    data: bytes,
    file_name: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
    repair: bool = False,
) -> Scenario:
    """Add a zone drawn in an uploaded geometry file (GeoJSON, GPKG, zipped SHP, KML)."""
    problems = Problems(_WHERE / file_name)
    key = f"zone[{zone_id}]"
    _check_id(scenario, "zone", zone_id, {z.id for z in scenario.zones}, problems)
    check_zone_spec(key, {"kind": kind, "file": file_name}, set(), problems)
    check_dates(key, valid_from, valid_to, problems)
    if problems.lines:
        raise ManifestError(problems.lines)
    geom, repairs = _read_upload(data, file_name, key, "zone", repair)
    zone = Zone(zone_id, name or zone_id, kind, geom, valid_from, valid_to, source=file_name)
    return replace(scenario, zones=(*scenario.zones, zone), repairs=(*scenario.repairs, *repairs))


def add_line(
    scenario: Scenario,
    *,
    line_id: str,
    name: str,
    data: bytes,
    file_name: str,
    left_party: str | None,
    right_party: str | None,
    agreement: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Scenario:
    """Add a demarcation line from an uploaded geometry file."""
    problems = Problems(_WHERE / file_name)
    key = f"line[{line_id}]"
    _check_id(scenario, "line", line_id, {ln.id for ln in scenario.lines}, problems)
    parties = {p.id for p in scenario.parties}
    for side, value in (("left_party", left_party), ("right_party", right_party)):
        if value is not None and value not in parties:
            problems.add(f"{key}.{side}", f"unknown party {value!r}")
    check_dates(key, valid_from, valid_to, problems)
    if problems.lines:
        raise ManifestError(problems.lines)
    geom, repairs = _read_upload(data, file_name, key, "line", repair=False)
    line = Line(
        line_id, name or line_id, geom, left_party, right_party, agreement, valid_from, valid_to, file_name
    )
    return replace(scenario, lines=(*scenario.lines, line), repairs=(*scenario.repairs, *repairs))


def derive_zone(
    scenario: Scenario,
    *,
    zone_id: str,
    name: str,
    kind: str,
    line: str | None,
    width_m: float,
    side: Side,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Scenario:
    """
    Add a zone derived from a line: ``width_m`` meters on ``side`` (``both``, ``left``, ``right``).

    The zone is in force while its line is; ``valid_from``/``valid_to`` may narrow that,
    never widen it. An unknown line id is an error.
    """
    problems = Problems(_WHERE / "zone editor")
    key = f"zone[{zone_id}]"
    _check_id(scenario, "zone", zone_id, {z.id for z in scenario.zones}, problems)
    lines = {ln.id: ln for ln in scenario.lines}
    check_zone_spec(key, {"kind": kind, "line": line, "width_m": width_m, "side": side}, set(lines), problems)
    check_dates(key, valid_from, valid_to, problems)
    if line in lines:
        valid_from, valid_to = derived_validity(key, valid_from, valid_to, lines[line], problems.add)
    if problems.lines:
        raise ManifestError(problems.lines)
    projection = scenario_projection(
        [ln.geometry for ln in scenario.lines], [z.geometry for z in scenario.zones if not z.derived]
    )
    geom = derive_zone_geometry(lines[str(line)].geometry, float(width_m), side, projection)
    zone = Zone(zone_id, name or zone_id, kind, geom, valid_from, valid_to, line, float(width_m), side)
    return replace(scenario, zones=(*scenario.zones, zone))


def upsert_rule(scenario: Scenario, rule: Rule) -> Scenario:
    """Add a rule, or replace the rule with the same id."""
    problems = Problems(_WHERE / "rule editor")
    key = f"rule[{rule.id}]"
    if not ID_PATTERN.match(rule.id):
        problems.add(f"{key}.id", "must be letters, digits, '_', '.', '-' (at most 64)")
    if not rule.text.strip():
        problems.add(f"{key}.text", "missing (quote the agreement)")
    checked = check_rule(
        key,
        {
            "id": rule.id,
            "zone": rule.zone,
            "prohibits": list(rule.prohibits),
            "parties": list(rule.parties),
            "severity": rule.severity,
            "text": rule.text,
            "weapon_classes": list(rule.weapon_classes),
        },
        {z.id for z in scenario.zones},
        {p.id for p in scenario.parties},
        problems,
    )
    check_dates(key, rule.valid_from, rule.valid_to, problems)
    if problems.lines:
        raise ManifestError(problems.lines)
    checked = replace(checked, valid_from=rule.valid_from, valid_to=rule.valid_to, deadline=rule.deadline)
    rules = [checked if r.id == rule.id else r for r in scenario.rules]
    if rule.id not in {r.id for r in scenario.rules}:
        rules.append(checked)
    return replace(scenario, rules=tuple(rules))


def remove_rule(scenario: Scenario, rule_id: str) -> Scenario:
    """Remove a rule."""
    return replace(scenario, rules=tuple(r for r in scenario.rules if r.id != rule_id))


def remove_zone(scenario: Scenario, zone_id: str) -> Scenario:
    """Remove a zone and the rules that apply in it."""
    return replace(
        scenario,
        zones=tuple(z for z in scenario.zones if z.id != zone_id),
        rules=tuple(r for r in scenario.rules if r.zone != zone_id),
    )


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _translated(scenario: Scenario, key: str, value: object) -> str:
    """A value as TOML; a text with translations as a table of languages."""
    table = scenario.translations.get(key)
    if not table or not isinstance(value, str):
        return _toml(value)
    return "{ " + ", ".join(f"{_toml_key(lang)} = {_toml(text)}" for lang, text in table.items()) + " }"


def _toml_key(lang: str) -> str:
    return lang if lang.replace("-", "").isalnum() and lang.isascii() else json.dumps(lang)


def write_manifest(scenario: Scenario, folder: Path) -> Path:
    """
    Write a scenario as a manifest (``scenario.toml``) with one GeoJSON file per line and drawn zone.

    Returns
    -------
    Path
        The manifest; loading it gives back the same scenario.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out = [
        "[scenario]",
        f"name = {_translated(scenario, 'scenario.name', scenario.name)}",
        f"description = {_translated(scenario, 'scenario.description', scenario.description)}",
        f"synthetic = {_toml(scenario.synthetic)}",
    ]
    if scenario.data:
        out.append(f"data = {_toml(scenario.data)}")
    if scenario.attribution:
        out.append(f"attribution = {_toml(scenario.attribution)}")
    if scenario.caveats:
        out.append(f"caveats = {_toml(list(scenario.caveats))}")
    if scenario.party_mapping:
        with (folder / "party_mapping.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["pattern", "match", "party"])
            writer.writerows(scenario.party_mapping)
        out.append('party_mapping = "party_mapping.csv"')

    def geojson(name: str, geom: shapely.Geometry) -> str:
        doc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(geom))}
            ],
        }
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")
        return name

    def table(kind: str, fields: dict[str, object]) -> None:
        out.extend(["", f"[[{kind}]]"])
        prefix = f"{kind}[{fields['id']}]"
        out.extend(
            f"{k} = {_translated(scenario, f'{prefix}.{k}', v)}"
            for k, v in fields.items()
            if v is not None and v != ()
        )

    for p in scenario.parties:
        table("party", {"id": p.id, "name": p.name, "short_name": p.short_name, "colour": p.colour})
    for ln in scenario.lines:
        table(
            "line",
            {
                "id": ln.id,
                "name": ln.name,
                "agreement": ln.agreement or None,
                "file": geojson(f"line-{ln.id}.geojson", ln.geometry),
                "left_party": ln.left_party,
                "right_party": ln.right_party,
                "valid_from": ln.valid_from,
                "valid_to": ln.valid_to,
            },
        )
    for z in scenario.zones:
        shape = (
            {"line": z.line, "width_m": z.width_m, "side": z.side}
            if z.derived
            else {"file": geojson(f"zone-{z.id}.geojson", z.geometry)}
        )
        table(
            "zone",
            {
                "id": z.id,
                "name": z.name,
                "kind": z.kind,
                **shape,
                "valid_from": z.valid_from,
                "valid_to": z.valid_to,
            },
        )
    for r in scenario.rules:
        table(
            "rule",
            {
                "id": r.id,
                "zone": r.zone,
                "prohibits": list(r.prohibits),
                "parties": list(r.parties),
                "severity": r.severity,
                "text": r.text,
                "valid_from": r.valid_from if r.deadline is None else None,
                "deadline": r.deadline,
                "valid_to": r.valid_to,
                "weapon_classes": list(r.weapon_classes) or None,
            },
        )
    path = folder / "scenario.toml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
