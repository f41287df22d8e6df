"""A derived zone lives and dies with its line; an unknown line id is an error everywhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from geo._errors import ManifestError
from geo.core.classify import classify, prepare
from geo.core.manifest import load_scenario, validate_manifest
from geo.services.ingest import load_scenario_into_store
from geo.services.scenarios import derive_zone, write_manifest
from geo.store import open_store
from tests.conftest import write_geojson

from .scenarios import derived, incidents, rule, scenario

LINE_FROM, LINE_TO = date(2020, 1, 1), date(2024, 12, 31)
# 1105.74 m north of the equator line, well inside any zone of 2 km or more.
NEAR = {"lon": 0.0, "lat": 0.01}


def at(day: str) -> dict:
    return {**NEAR, "occurred_at": f"{day}T12:00:00Z"}


def test_a_derived_zone_outside_its_lines_validity_holds_nothing() -> None:
    # The zone carries no dates of its own: it is in force exactly while its line is.
    scen = scenario([derived("band", 2000)], [rule("r", "band")], line_valid=(LINE_FROM, LINE_TO))
    got = classify(incidents([at("2019-12-31"), at("2020-01-01"), at("2024-12-31"), at("2025-01-01")]), scen)
    assert list(got["zones"]) == ["", "band", "band", ""]
    assert list(got["verdict"]) == ["outside_monitored_area", "breach", "breach", "outside_monitored_area"]


def test_a_derived_zone_can_narrow_its_lines_validity() -> None:
    zone = derived("band", 2000, valid_from=date(2021, 6, 1), valid_to=date(2021, 6, 30))
    scen = scenario([zone], [rule("r", "band")], line_valid=(LINE_FROM, LINE_TO))
    got = classify(incidents([at("2021-05-31"), at("2021-06-15"), at("2021-07-01")]), scen)
    assert list(got["zones"]) == ["", "band", ""]


def test_classification_never_lets_a_zone_outlive_its_line() -> None:
    # A zone record wider than its line (a store written before the rule) still holds
    # nothing while its line is not in force.
    zone = derived("band", 2000, valid_from=date(2000, 1, 1), valid_to=date(2030, 1, 1))
    scen = scenario([zone], [rule("r", "band")], line_valid=(LINE_FROM, LINE_TO))
    got = classify(incidents([at("2019-06-01"), at("2022-06-01"), at("2026-06-01")]), scen)
    assert list(got["zones"]) == ["", "band", ""]


HEAD = """
[scenario]
name = "Validity"

[[party]]
id = "north"
name = "North"
colour = "#aa0000"

[[party]]
id = "south"
name = "South"
colour = "#0000aa"

[[line]]
id = "eq"
name = "Equator line"
file = "line.geojson"
left_party = "north"
right_party = "south"
valid_from = 2020-01-01
valid_to = 2024-12-31

[[zone]]
id = "band"
name = "Band"
kind = "buffer_zone"
line = "eq"
width_m = 2000
"""


def manifest(tmp_path: Path, zone_dates: str = "") -> Path:
    write_geojson(
        tmp_path / "line.geojson", [{"type": "LineString", "coordinates": [[-1.0, 0.0], [1.0, 0.0]]}]
    )
    path = tmp_path / "scenario.toml"
    path.write_text(HEAD + zone_dates, encoding="utf-8")
    return path


def test_manifest_zone_takes_its_lines_validity(tmp_path: Path) -> None:
    zone = load_scenario(manifest(tmp_path)).zone("band")
    assert (zone.valid_from, zone.valid_to) == (LINE_FROM, LINE_TO)
    narrowed = load_scenario(manifest(tmp_path, "valid_from = 2022-01-01\n")).zone("band")
    assert (narrowed.valid_from, narrowed.valid_to) == (date(2022, 1, 1), LINE_TO)


@pytest.mark.parametrize(
    ("dates", "problem"),
    [
        (
            "valid_from = 2019-01-01\n",
            "zone[band].valid_from: 2019-01-01 is before line 'eq' is in force (2020-01-01); "
            "a derived zone can narrow its line's validity, not widen it",
        ),
        (
            "valid_to = 2025-06-30\n",
            "zone[band].valid_to: 2025-06-30 is after line 'eq' ends (2024-12-31); "
            "a derived zone can narrow its line's validity, not widen it",
        ),
        (
            "valid_from = 2026-01-01\n",
            "zone[band].valid_from: 2026-01-01 is after line 'eq' ends (2024-12-31)",
        ),
        (
            "valid_from = 2023-01-01\nvalid_to = 2022-01-01\n",
            "zone[band].valid_to: 2022-01-01 is before valid_from (2023-01-01)",
        ),
    ],
)
def test_manifest_zone_widening_its_line_is_one_line_error(tmp_path: Path, dates: str, problem: str) -> None:
    path = manifest(tmp_path, dates)
    assert validate_manifest(path) == [f"{path}: {problem}"]


@pytest.fixture
def based(tmp_path: Path):
    return load_scenario(manifest(tmp_path))


def test_derive_zone_takes_narrows_and_refuses_to_widen(based) -> None:
    kw = {"name": "x", "kind": "buffer_zone", "line": "eq", "width_m": 3000.0, "side": "both"}
    zone = derive_zone(based, zone_id="z3", **kw).zone("z3")
    assert (zone.valid_from, zone.valid_to) == (LINE_FROM, LINE_TO)
    zone = derive_zone(based, zone_id="z4", valid_to=date(2023, 1, 1), **kw).zone("z4")
    assert (zone.valid_from, zone.valid_to) == (LINE_FROM, date(2023, 1, 1))
    with pytest.raises(ManifestError, match=r"zone\[z5\]\.valid_from: 2019-01-01 is before line 'eq'") as err:
        derive_zone(based, zone_id="z5", valid_from=date(2019, 1, 1), **kw)
    assert len(err.value.problems) == 1


def test_the_written_manifest_keeps_the_validity(based, tmp_path: Path) -> None:
    again = load_scenario(write_manifest(based, tmp_path / "out"))
    zone = again.zone("band")
    assert (zone.valid_from, zone.valid_to) == (LINE_FROM, LINE_TO)


# Unknown line ids: every entry point fails, none falls back to another line.


def test_unknown_line_in_the_manifest(tmp_path: Path) -> None:
    path = manifest(
        tmp_path, '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nline = "nope"\nwidth_m = 5\n'
    )
    assert validate_manifest(path) == [f"{path}: zone[z].line: unknown line 'nope'"]


@pytest.mark.parametrize(
    ("line", "problem"), [("nope", "unknown line 'nope'"), (None, "missing"), ("", "missing")]
)
def test_unknown_or_missing_line_in_the_editor(based, line: str | None, problem: str) -> None:
    with pytest.raises(ManifestError, match=rf"zone\[z\]\.line: {problem}") as err:
        derive_zone(based, zone_id="z", name="Z", kind="buffer_zone", line=line, width_m=1000.0, side="both")
    assert len(err.value.problems) == 1


def orphan(scen):
    """The scenario with its derived zone pointing at a line that does not exist."""
    return replace(scen, zones=tuple(replace(z, line="gone") for z in scen.zones))


def test_unknown_line_when_classifying(based) -> None:
    # Two lines, so that a fallback to "the last line" would have something to use.
    two = replace(based, lines=(*based.lines, replace(based.lines[0], id="other")))
    with pytest.raises(ManifestError, match=r"^Validity: zone\[band\]\.line: unknown line 'gone'$"):
        prepare(orphan(two))
    with pytest.raises(ManifestError, match=r"unknown line 'gone'"):
        classify(incidents([at("2022-06-01")]), orphan(two))


def test_unknown_line_when_storing_leaves_the_store_unchanged(based, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        load_scenario_into_store(store, based)
        with pytest.raises(ManifestError, match=r"unknown line 'gone'"):
            load_scenario_into_store(store, replace(orphan(based), name="Orphan"))
        assert store.scenario().name == "Validity"
        assert store.scenario().zone("band").line == "eq"
    finally:
        store.close()
