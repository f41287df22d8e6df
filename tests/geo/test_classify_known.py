"""Classification against hand-computed answers on tiny scenarios at the equator."""

from __future__ import annotations

from datetime import date

import pytest

from geo.core.classify import classify
from geo.core.model import Zone

from .scenarios import derived, incidents, meridian_m, rule, scenario, square


def test_signed_distance_and_side_match_the_meridian_arc():
    scen = scenario([], [])
    got = classify(
        incidents([{"lon": 0.0, "lat": 0.01}, {"lon": 0.0, "lat": -0.02}, {"lon": 0.3, "lat": 0.0}]), scen
    )
    assert got["distance_m"].iloc[0] == pytest.approx(meridian_m(0.01), abs=0.05)  # 1105.74 m
    assert got["distance_m"].iloc[1] == pytest.approx(-meridian_m(0.02), abs=0.05)
    assert list(got["side"]) == ["left", "right", "on_line"]
    assert list(got["side_party"]) == ["north", "south", ""]
    assert got["distance_m"].iloc[2] == 0.0
    assert list(got["nearest_line"]) == ["eq", "eq", "eq"]


def test_past_the_end_of_a_line_distance_is_to_its_end_point():
    scen = scenario([], [])
    # 0.01 degrees of longitude east of the end at the equator: a(pi/180)(0.01) = 1113.19 m.
    got = classify(incidents([{"lon": 1.01, "lat": 0.0}]), scen)
    assert abs(got["distance_m"].iloc[0]) == pytest.approx(
        6_378_137.0 * 0.01 * 3.141592653589793 / 180, abs=0.05
    )


def test_nested_zones_list_every_zone_holding_the_point():
    zones = [derived("z1", 1000), derived("z2", 2000), derived("z5", 5000)]
    scen = scenario(zones, [rule("r5", "z5")])
    got = classify(
        incidents(
            [
                {"lon": 0, "lat": 0.0135},  # 1493 m
                {"lon": 0, "lat": -0.005},  # 553 m south
                {"lon": 0, "lat": 0.0455},
            ]
        ),  # 5031 m: outside all
        scen,
    )
    assert list(got["zones"]) == ["z2;z5", "z1;z2;z5", ""]
    assert list(got["verdict"]) == ["breach", "breach", "outside_monitored_area"]
    assert list(got["rules"]) == ["r5", "r5", ""]


def test_one_sided_zone_holds_only_its_side():
    zones = [derived("north2k", 2000, "left"), derived("south2k", 2000, "right")]
    scen = scenario(zones, [])
    got = classify(
        incidents([{"lon": 0, "lat": 0.0135}, {"lon": 0, "lat": -0.0135}, {"lon": 0, "lat": 0.0}]), scen
    )
    assert list(got["zones"]) == ["north2k", "south2k", "north2k;south2k"]


def test_width_edge_is_inclusive_and_just_outside_is_not():
    # 4975.8 m is inside a 5 km band; 5031 m is not.
    scen = scenario([derived("z5", 5000)], [rule("r", "z5")])
    got = classify(incidents([{"lon": 0, "lat": 0.045}, {"lon": 0, "lat": 0.0455}]), scen)
    assert list(got["verdict"]) == ["breach", "outside_monitored_area"]


def test_point_on_a_drawn_zone_edge_or_vertex_is_inside():
    box = Zone("box", "Box", "buffer_zone", square(0.5, 0.5, 0.6, 0.6))
    scen = scenario([box], [rule("r", "box")])
    got = classify(
        incidents([{"lon": 0.55, "lat": 0.5}, {"lon": 0.5, "lat": 0.5}, {"lon": 0.55, "lat": 0.4999}]), scen
    )
    assert list(got["zones"]) == ["box", "box", ""]
    assert list(got["verdict"]) == ["breach", "breach", "outside_monitored_area"]


def test_zone_validity_days_are_inclusive_utc():
    zone = derived("z", 5000, valid_from=date(2020, 1, 1), valid_to=date(2020, 12, 31))
    scen = scenario([zone], [rule("r", "z")])
    times = ["2019-12-31T23:59:59Z", "2020-01-01T00:00:00Z", "2020-12-31T23:59:59Z", "2021-01-01T00:00:00Z"]
    got = classify(incidents([{"lon": 0, "lat": 0.01, "occurred_at": t} for t in times]), scen)
    assert list(got["verdict"]) == ["outside_monitored_area", "breach", "breach", "outside_monitored_area"]
    assert list(got["zones"]) == ["", "z", "z", ""]


def test_rule_validity_is_separate_from_zone_validity():
    scen = scenario([derived("z", 5000)], [rule("r", "z", valid_from=date(2024, 7, 1))])
    got = classify(
        incidents(
            [
                {"lon": 0, "lat": 0.01, "occurred_at": "2024-06-30T10:00:00Z"},
                {"lon": 0, "lat": 0.01, "occurred_at": "2024-07-01T10:00:00Z"},
            ]
        ),
        scen,
    )
    assert list(got["verdict"]) == ["no_breach", "breach"]


def test_rule_bound_to_one_party():
    scen = scenario([derived("z", 5000)], [rule("r", "z", parties=("north",))])
    got = classify(
        incidents(
            [
                {"lon": 0, "lat": 0.01, "party": "north"},  # reported north: breach
                {"lon": 0, "lat": 0.01, "party": "south"},  # reported south: rule does not bind it
                {"lon": 0, "lat": 0.01},  # north side, party inferred: possible only
                {"lon": 0, "lat": -0.01},  # south side, inferred south: no breach
            ]
        ),
        scen,
    )
    assert list(got["verdict"]) == ["breach", "no_breach", "possible_breach", "no_breach"]
    assert list(got["attribution"]) == ["reported", "reported", "inferred_from_side", "inferred_from_side"]
    assert list(got["attributed_party"]) == ["north", "south", "north", "south"]
    assert "party inferred" in got["verdict_reason"].iloc[2]


def test_coarse_location_is_never_a_definite_breach():
    scen = scenario([derived("z", 50_000)], [rule("r", "z")])
    got = classify(
        incidents([{"lon": 0, "lat": 0.01, "location_precision": p} for p in ("exact", "area", "region")]),
        scen,
    )
    assert list(got["verdict"]) == ["breach", "possible_breach", "possible_breach"]
    assert got["verdict_reason"].iloc[1] == "coarse location (area precision)"


def test_uncertainty_radius_that_reaches_outside_downgrades():
    scen = scenario([derived("z", 5000)], [rule("r", "z")])
    rows = [
        {"lon": 0, "lat": 0.01, "location_precision": "near"},  # 1106 m: 3.9 km margin > 2 km
        {"lon": 0, "lat": 0.036, "location_precision": "near"},  # 3981 m: 1 km margin < 2 km
        {"lon": 0, "lat": 0.036, "location_precision": "near", "location_uncertainty_m": 500},
        {"lon": 0, "lat": 0.055, "location_precision": "exact", "location_uncertainty_m": 1500},  # 6081 m
        {"lon": 0, "lat": 0.07, "location_precision": "exact", "location_uncertainty_m": 1500},  # 7740 m
    ]
    got = classify(incidents(rows), scen)
    assert list(got["verdict"]) == [
        "breach",
        "possible_breach",
        "breach",
        "possible_breach",
        "outside_monitored_area",
    ]
    assert got["verdict_reason"].iloc[1] == "location uncertainty reaches outside zone 'z'"
    assert got["zones"].iloc[3] == ""  # the point itself is outside


def test_uncertainty_near_a_drawn_zone_edge():
    box = Zone("box", "Box", "buffer_zone", square(0.5, 0.5, 0.6, 0.6))
    scen = scenario([box], [rule("r", "box")])
    inside_by = meridian_m(0.002)  # ~221 m inside the southern edge
    got = classify(
        incidents(
            [
                {"lon": 0.55, "lat": 0.502, "location_uncertainty_m": inside_by - 20},
                {"lon": 0.55, "lat": 0.502, "location_uncertainty_m": inside_by + 20},
                {"lon": 0.55, "lat": 0.498, "location_uncertainty_m": inside_by + 20},
            ]
        ),
        scen,
    )
    assert list(got["verdict"]) == ["breach", "possible_breach", "possible_breach"]


def test_category_not_prohibited_is_no_breach():
    scen = scenario([derived("z", 5000)], [rule("r", "z", cats=("drone_activity",))])
    got = classify(
        incidents(
            [
                {"lon": 0, "lat": 0.01, "category": "construction"},
                {"lon": 0, "lat": 0.01, "category": "drone_activity"},
            ]
        ),
        scen,
    )
    assert list(got["verdict"]) == ["no_breach", "breach"]


def test_weapon_class_narrows_a_rule():
    scen = scenario([derived("z", 5000)], [rule("r", "z", weapon_classes=("artillery_152mm",))])
    got = classify(
        incidents(
            [
                {"lon": 0, "lat": 0.01, "weapon_class": "artillery_152mm"},
                {"lon": 0, "lat": 0.01, "weapon_class": "mortar_82mm"},
            ]
        ),
        scen,
    )
    assert list(got["verdict"]) == ["breach", "no_breach"]


def test_date_window_straddling_a_rule_start_is_possible():
    scen = scenario([derived("z", 5000)], [rule("r", "z", valid_from=date(2024, 6, 15))])
    got = classify(
        incidents(
            [
                {
                    "lon": 0,
                    "lat": 0.01,
                    "occurred_at": "2024-06-15T00:00:00Z",
                    "occurred_from": "2024-06-01T00:00:00Z",
                    "occurred_to": "2024-06-30T00:00:00Z",
                }
            ]
        ),
        scen,
    )
    assert got["verdict"].iloc[0] == "possible_breach"
    assert "date window" in got["verdict_reason"].iloc[0]


def test_line_out_of_force_is_not_the_nearest_line():
    scen = scenario([], [], line_valid=(date(2030, 1, 1), None))
    got = classify(incidents([{"lon": 0, "lat": 0.01}]), scen)
    assert got["nearest_line"].iloc[0] == ""
    assert got["distance_m"].isna().all()
    assert got["attribution"].iloc[0] == "unattributed"


def test_empty_input_gives_empty_output():
    scen = scenario([derived("z", 5000)], [rule("r", "z")])
    got = classify(incidents([{"lon": 0, "lat": 0.01}]).iloc[0:0], scen)
    assert len(got) == 0
    assert list(got.columns)[:3] == ["zones", "nearest_line", "distance_m"]


def test_output_keeps_the_input_index():
    scen = scenario([derived("z", 5000)], [rule("r", "z")])
    frame = incidents([{"lon": 0, "lat": 0.01}, {"lon": 0, "lat": 0.5}])
    frame.index = [42, 7]
    got = classify(frame, scen)
    assert list(got.index) == [42, 7]
    assert list(got["verdict"]) == ["breach", "outside_monitored_area"]
