"""Editing a scenario: every edit is checked like a manifest entry; manifests round-trip."""

from __future__ import annotations

import json

import pytest

from geo._errors import ManifestError
from geo.core.manifest import load_scenario
from geo.core.model import Rule
from geo.services.scenarios import (
    add_drawn_zone,
    add_line,
    derive_zone,
    remove_rule,
    remove_zone,
    upsert_rule,
    write_manifest,
)

BOX = {
    "type": "Polygon",
    "coordinates": [[[127.0, 38.0], [127.1, 38.0], [127.1, 38.1], [127.0, 38.1], [127.0, 38.0]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[127.0, 38.0], [127.1, 38.1], [127.1, 38.0], [127.0, 38.1], [127.0, 38.0]]],
}


def geojson(geom: dict) -> bytes:
    return json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": geom}]}
    ).encode()


def test_derive_zone_adds_a_checked_zone(demo_scenario):
    new = derive_zone(
        demo_scenario,
        zone_id="sz25",
        name="25 km south",
        kind="weapons_withdrawal_zone",
        line="mdl",
        width_m=25_000,
        side="right",
    )
    zone = new.zone("sz25")
    assert (zone.line, zone.width_m, zone.side) == ("mdl", 25_000, "right")
    assert zone.geometry.centroid.y < demo_scenario.line("mdl").geometry.centroid.y  # south of the line
    assert len(new.zones) == len(demo_scenario.zones) + 1
    with pytest.raises(ManifestError) as err:
        derive_zone(demo_scenario, zone_id="dmz", name="x", kind="moat", line="nope", width_m=0, side="both")
    text = str(err.value)
    assert "zone[dmz].id: a zone with this id exists" in text
    assert "zone[dmz].kind: unknown kind 'moat'" in text
    assert "zone[dmz].line: unknown line 'nope'" in text
    assert "zone[dmz].width_m: must be > 0" in text


def test_drawn_zone_from_an_upload(demo_scenario):
    new = add_drawn_zone(
        demo_scenario,
        zone_id="box",
        name="Box",
        kind="restricted_area",
        data=geojson(BOX),
        file_name="../../evil name.geojson",
    )
    assert new.zone("box").geometry.bounds == pytest.approx((127.0, 38.0, 127.1, 38.1))
    with pytest.raises(ManifestError, match="invalid geometry: Self-intersection"):
        add_drawn_zone(
            demo_scenario,
            zone_id="bow",
            name="Bow",
            kind="restricted_area",
            data=geojson(BOWTIE),
            file_name="bow.geojson",
        )
    repaired = add_drawn_zone(
        demo_scenario,
        zone_id="bow",
        name="Bow",
        kind="restricted_area",
        data=geojson(BOWTIE),
        file_name="bow.geojson",
        repair=True,
    )
    assert repaired.zone("bow").geometry.is_valid
    assert any("bow.geojson" in r and "repaired" in r for r in repaired.repairs)


def test_add_line_checks_parties(demo_scenario):
    line = {"type": "LineString", "coordinates": [[127.0, 38.0], [127.5, 38.2]]}
    new = add_line(
        demo_scenario,
        line_id="l2",
        name="L2",
        data=geojson(line),
        file_name="l2.geojson",
        left_party="north",
        right_party="south",
    )
    assert new.line("l2").left_party == "north"
    with pytest.raises(ManifestError, match=r"line\[l3\]\.left_party: unknown party 'east'"):
        add_line(
            demo_scenario,
            line_id="l3",
            name="L3",
            data=geojson(line),
            file_name="l3.geojson",
            left_party="east",
            right_party=None,
        )


def test_rules_upsert_and_remove(demo_scenario):
    rule = Rule("r-new", "dmz", ("drone_activity",), ("north",), "medium", "quoted clause")
    added = upsert_rule(demo_scenario, rule)
    assert added.rule("r-new") == rule
    changed = upsert_rule(added, Rule("r-new", "dmz", ("construction",), ("*",), "low", "new text"))
    assert changed.rule("r-new").prohibits == ("construction",)
    assert len(changed.rules) == len(added.rules)
    assert "r-new" not in {r.id for r in remove_rule(changed, "r-new").rules}
    without = remove_zone(demo_scenario, "dmz")
    assert "dmz" not in {z.id for z in without.zones}
    assert not [r for r in without.rules if r.zone == "dmz"]


def test_written_manifest_loads_back_the_same_scenario(demo_scenario, tmp_path):
    edited = derive_zone(
        demo_scenario,
        zone_id="sz25",
        name="25 km",
        kind="weapons_withdrawal_zone",
        line="mdl",
        width_m=25_000,
        side="right",
    )
    back = load_scenario(write_manifest(edited, tmp_path / "out"))
    assert back.parties == edited.parties
    assert back.rules == edited.rules
    assert back.party_mapping == edited.party_mapping
    assert (back.name, back.description, back.synthetic) == (
        edited.name,
        edited.description,
        edited.synthetic,
    )
    for mine, theirs in zip(back.zones, edited.zones, strict=True):
        assert (mine.id, mine.kind, mine.line, mine.width_m, mine.side, mine.valid_from) == (
            theirs.id,
            theirs.kind,
            theirs.line,
            theirs.width_m,
            theirs.side,
            theirs.valid_from,
        )
        assert mine.geometry.equals_exact(theirs.geometry, 1e-9)
