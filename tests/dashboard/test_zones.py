"""Zones & rules: derive a buffer zone, draw one from GeoJSON, edit a rule; each save reclassifies.

The number of changed verdicts the page reports is checked against the store, read with SQL
before and after the save.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date

import numpy as np
import shapely
from pyproj import Transformer
from streamlit.testing.v1 import AppTest

from geo.services.ingest import load_scenario_into_store
from geo.store import open_store
from tests.dashboard.support import (
    ADMIN,
    ANALYST,
    BOTH_STORES,
    all_text,
    app,
    demo_scenario,
    plain,
    query,
    scalar,
)

IN_FORCE = date(2018, 11, 1)


def verdicts(url: str) -> dict[int, str]:
    return dict(query(url, "SELECT incident_id, verdict FROM incidents"))


def changed(before: dict[int, str], after: dict[int, str]) -> int:
    assert before.keys() == after.keys()
    return sum(before[i] != after[i] for i in before)


def button(at: AppTest, label: str) -> object:
    return next(b for b in at.button if b.label == label)


def saved_message(at: AppTest) -> tuple[str, int, int]:
    text = plain(all_text(at))
    found = re.search(r"(.+): saved\. ([\d,]+) incidents reclassified, ([\d,]+) verdicts changed\.", text)
    assert found, text
    return found.group(1), int(found.group(2).replace(",", "")), int(found.group(3).replace(",", ""))


def test_derive_buffer_zone_saves_reclassifies_and_counts_changes(db: str) -> None:
    before = verdicts(db)
    outside = sum(v == "outside_monitored_area" for v in before.values())
    at = app(ADMIN, page="zones")
    assert not at.exception
    at.text_input(key="bz_id").set_value("buffer-30")
    at.text_input(key="bz_name").set_value("30 km monitoring belt")
    at.selectbox(key="bz_kind").set_value("buffer_zone")
    at.selectbox(key="bz_line").set_value("mdl")
    at.number_input(key="bz_width").set_value(30.0)
    at.selectbox(key="bz_side").set_value("both")
    at.date_input(key="bz_from").set_value(IN_FORCE)
    button(at, "Derive zone and reclassify").click().run()
    assert not at.exception, all_text(at)

    after = verdicts(db)
    what, total, n = saved_message(at)
    assert what == "zone buffer-30"
    assert total == len(before)
    assert n == changed(before, after) > 0
    # A zone without rules makes incidents near the line monitored (no breach), never breaches.
    assert sum(v == "outside_monitored_area" for v in after.values()) < outside
    assert all(after[i] == before[i] or before[i] == "outside_monitored_area" for i in before)
    zone = open_store(db).scenario().zone("buffer-30")
    assert (zone.kind, zone.line, zone.width_m, zone.side) == ("buffer_zone", "mdl", 30000.0, "both")
    # Membership checked independently: distance to the line in a projection centred on it.
    line = demo_scenario().lines[0].geometry
    centre = line.centroid
    to_m = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +units=m", always_xy=True
    )
    metric_line = shapely.transform(line, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
    members = {i for (i,) in query(db, "SELECT incident_id FROM incident_zones WHERE zone_id = 'buffer-30'")}
    for incident, lon, lat in query(db, "SELECT incident_id, lon, lat FROM incidents"):
        metres = metric_line.distance(shapely.Point(*to_m.transform(lon, lat)))
        if metres < 29_800:
            assert incident in members, (incident, metres)
        elif metres > 30_200:
            assert incident not in members, (incident, metres)
    assert len(members) >= n
    assert (
        scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'scenario_load' AND user_name = 'ada'") == 1
    )
    # The new zone is listed on the page and offered as a map filter at once.
    again = app(ADMIN, page="zones")
    listed = [d.value for d in again.dataframe if "Kind" in d.value.columns and "Shape" in d.value.columns]
    assert "buffer-30" in listed[0]["Id"].tolist()
    assert "30,000 m both sides of mdl" in listed[0]["Shape"].tolist()
    live = app(ADMIN)
    assert "30 km monitoring belt" in live.sidebar.multiselect(key="f_zone").options


def test_derive_with_a_taken_id_says_why_and_saves_nothing(db: str) -> None:
    before = verdicts(db)
    at = app(ADMIN, page="zones")
    at.text_input(key="bz_id").set_value("dmz")
    button(at, "Derive zone and reclassify").click().run()
    assert not at.exception
    assert any("dmz" in e.value for e in at.error)
    assert verdicts(db) == before
    assert (
        scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'scenario_load' AND user_name = 'ada'") == 0
    )


@BOTH_STORES
def test_rule_edit_reclassifies(db: str) -> None:
    before = verdicts(db)
    at = app(ADMIN, page="zones")
    at.selectbox(key="r_pick").set_value("no-drill-north").run()
    cats = at.multiselect(key="r_cats_no-drill-north")
    assert cats.value == ["artillery_fire"]
    cats.set_value(["artillery_fire", "small_arms_fire", "drone_activity", "troop_movement"])
    at.checkbox(key="r_all_no-drill-north").check()
    at.text_area(key="r_text_no-drill-north").set_value("Edited in a test.")
    button(at, "Save rule and reclassify").click().run()
    assert not at.exception, all_text(at)
    after = verdicts(db)
    what, _, n = saved_message(at)
    assert what == "rule no-drill-north"
    assert n == changed(before, after) > 0
    rule = next(r for r in open_store(db).scenario().rules if r.id == "no-drill-north")
    assert set(rule.prohibits) == {"artillery_fire", "small_arms_fire", "drone_activity", "troop_movement"}
    assert rule.parties == ("*",)
    assert rule.text == "Edited in a test."
    # Widening a rule can only add breaches (or possible ones).
    worse = {"no_breach": 0, "possible_breach": 1, "breach": 2}
    assert all(worse.get(after[i], -1) >= worse.get(before[i], -1) for i in before)


def test_drawn_zone_from_geojson(db: str) -> None:
    line = demo_scenario().lines[0].geometry
    box = shapely.box(*line.buffer(0.05).bounds)
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box)}],
    }
    before = verdicts(db)
    at = app(ADMIN, page="zones")
    at.file_uploader(key="dz_file").set_value(
        ("area.geojson", json.dumps(doc).encode(), "application/geo+json")
    )
    at.text_input(key="dz_id").set_value("area-x")
    at.text_input(key="dz_name").set_value("Area <b>X</b>")
    at.selectbox(key="dz_kind").set_value("restricted_area")
    at.date_input(key="dz_from").set_value(IN_FORCE)
    button(at, "Add zone and reclassify").click().run()
    assert not at.exception, all_text(at)
    what, _, n = saved_message(at)
    assert what == "zone area-x"
    assert n == changed(before, verdicts(db))
    zone = open_store(db).scenario().zone("area-x")
    assert zone.name == "Area <b>X</b>"
    assert zone.geometry.equals_exact(box, 1e-6) or zone.geometry.symmetric_difference(box).area < 1e-9
    assert int(scalar(db, "SELECT COUNT(*) FROM incident_zones WHERE zone_id = 'area-x'")) > 0


def test_drawn_zone_rejects_a_file_that_is_not_geometry(db: str) -> None:
    at = app(ADMIN, page="zones")
    at.file_uploader(key="dz_file").set_value(("area.geojson", b"{not json", "application/geo+json"))
    at.text_input(key="dz_id").set_value("area-y")
    button(at, "Add zone and reclassify").click().run()
    assert not at.exception
    assert at.error
    assert "area-y" not in {z.id for z in open_store(db).scenario().zones}


def test_zones_page_refuses_an_analyst_even_when_opened_directly(db: str) -> None:
    from tests.dashboard.support import REPO, sign_in

    at = AppTest.from_file(str(REPO / "dashboard" / "views" / "zones.py"), default_timeout=60)
    sign_in(at, ANALYST).run()
    assert "does not allow this page" in all_text(at)
    assert not [b for b in at.button if "reclassify" in b.label]


def test_an_open_validity_reads_as_a_dash_in_every_language(db: str) -> None:
    """A line or zone in force with no end date: never the English word "None" in the tables."""
    for lang in ("en", "fr", "ar"):
        at = app(ADMIN, page="zones", query_params={"lang": lang})
        assert not at.exception
        _, lines, zones = (frame.value for frame in at.dataframe[:3])
        ends = {"en": "Valid to", "fr": "Valide jusqu'au", "ar": None}[lang] or lines.columns[5]
        assert lines.set_index(lines.columns[0]).loc["mdl", ends] == "—"
        by_id = zones.set_index(zones.columns[0])
        assert by_id.loc["dmz", ends] == "—" and by_id.loc["nofly-uav", ends] == "—"
        assert by_id.loc["nofly-uav", by_id.columns[3]] == date(2018, 11, 1)  # a real start stays a date
        assert not (lines.isna().any().any() or zones.isna().any().any())


def test_a_zone_with_no_dates_is_in_force_while_its_line_is(db: str) -> None:
    at = app(ADMIN, page="zones")
    at.text_input(key="bz_id").set_value("always")
    at.number_input(key="bz_width").set_value(30.0)
    button(at, "Derive zone and reclassify").click().run()
    assert not at.exception, all_text(at)
    assert saved_message(at)[0] == "zone always"
    zone = open_store(db).scenario().zone("always")
    assert (zone.valid_from, zone.valid_to) == (date(1953, 7, 27), None)  # the MDL's


def test_a_zone_cannot_outlive_its_line(db: str) -> None:
    before = verdicts(db)
    at = app(ADMIN, page="zones")
    at.text_input(key="bz_id").set_value("early")
    at.date_input(key="bz_from").set_value(date(1950, 6, 25))
    button(at, "Derive zone and reclassify").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert "zone[early].valid_from: 1950-06-25 is before line 'mdl' is in force (1953-07-27)" in plain(
        errors[0]
    )
    assert verdicts(db) == before
    assert "early" not in {z.id for z in open_store(db).scenario().zones}


def test_a_line_is_added_with_its_dates_and_joined_from_its_parts(db: str) -> None:
    parts = [[[126.8, 37.6], [127.0, 37.65]], [[127.2, 37.6], [127.0, 37.65]]]  # the second drawn backwards
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": c}}
            for c in parts
        ],
    }
    at = app(ADMIN, page="zones")
    at.file_uploader(key="l_file").set_value(
        ("han.geojson", json.dumps(doc).encode(), "application/geo+json")
    )
    at.text_input(key="l_id").set_value("han")
    at.selectbox(key="l_left").set_value("north")
    at.selectbox(key="l_right").set_value("south")
    at.date_input(key="l_from").set_value(date(2019, 1, 1))
    at.date_input(key="l_to").set_value(date(2019, 12, 31))
    button(at, "Add line and reclassify").click().run()
    assert not at.exception, all_text(at)
    assert saved_message(at)[0] == "line han"
    scen = open_store(db).scenario()
    line = scen.line("han")
    assert (line.valid_from, line.valid_to) == (date(2019, 1, 1), date(2019, 12, 31))
    assert list(line.geometry.coords) == [(126.8, 37.6), (127.0, 37.65), (127.2, 37.6)]
    assert any("feature 2 reversed" in r for r in scen.repairs)


def test_deriving_with_no_line_to_derive_from_says_why(db: str) -> None:
    url = db
    store = open_store(url)
    scen = store.scenario()
    drawn = tuple(z for z in scen.zones if not z.derived)
    kept = {z.id for z in drawn}
    bare = replace(scen, lines=(), zones=drawn, rules=tuple(r for r in scen.rules if r.zone in kept))
    load_scenario_into_store(store, bare)
    store.close()
    at = app(ADMIN, page="zones")
    assert "has no line yet" in all_text(at)
    at.text_input(key="bz_id").set_value("orphan")
    button(at, "Derive zone and reclassify").click().run()
    assert not at.exception
    assert [plain(e.value) for e in at.error] == [
        "dashboard/zone editor: zone[orphan].line: missing: give the line the zone derives from (or a file)"
    ]
    assert "orphan" not in {z.id for z in open_store(url).scenario().zones}
