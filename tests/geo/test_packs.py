"""The shipped scenario packs: they validate, their real records classify as a plain
point-in-polygon says, their synthetic records are marked, and their caveats travel."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from geo._errors import ManifestError
from geo.core.classify import classify
from geo.core.manifest import load_scenario, validate_manifest
from geo.io.readers import read_incidents
from geo.io.writers import export_bytes
from geo.render.webmap import build_map
from geo.services.packs import PACKS_DIR, generate_pack_incidents, pack_ids, read_pack, validate_pack

LEBANON = PACKS_DIR / "lebanon-2024"


def test_the_three_packs_are_shipped_and_validate():
    assert pack_ids() == ["korea", "lebanon-2024", "libya-2020"]
    for pack in pack_ids():
        assert validate_pack(pack) == [], pack
        assert validate_manifest(read_pack(pack).manifest) == [], pack


def _cc0() -> pd.DataFrame:
    scen = load_scenario(LEBANON / "lebanon-2024.toml")
    chunks = list(read_incidents(LEBANON / "incidents" / "fpv_strikes_2026_cc0.csv", format="template",
                                 party_mapping=scen.party_mapping, parties={p.id for p in scen.parties}))
    assert sum(len(c.rejected) for c in chunks) == 0
    return pd.concat([c.frame for c in chunks], ignore_index=True)


def test_the_cc0_records_classify_exactly_as_shapely_point_in_polygon_on_the_shipped_polygon():
    frame = _cc0()
    assert len(frame) == 149
    scen = load_scenario(LEBANON / "lebanon-2024.toml")
    got = classify(frame, scen)
    # The polygon read independently of the loader: the file as shipped, through shapely alone.
    doc = json.loads((LEBANON / "south_litani_area_approx.geojson").read_text(encoding="utf-8"))
    polygon = shapely.union_all([shape(f["geometry"]) for f in doc["features"]])
    expected = shapely.contains_xy(polygon, frame["lon"].to_numpy(), frame["lat"].to_numpy())
    inside = got["zones"].astype(str).str.split(";").map(lambda z: "south-litani" in z).to_numpy()
    assert np.array_equal(inside, expected)
    assert int(expected.sum()) == 92  # as the seed file's in_south_litani_approx column says
    with (LEBANON / "incidents" / "fpv_strikes_2026_cc0.csv").open(encoding="utf-8") as handle:
        assert [r["event_id"] for r in csv.DictReader(handle)] == list(frame["source_event_id"])


def test_the_cc0_records_are_hezbollah_drone_strikes_judged_by_the_south_litani_rule():
    frame = _cc0()
    got = classify(frame, load_scenario(LEBANON / "lebanon-2024.toml"))
    assert set(frame["party"]) == {"hezbollah"}
    inside = got["zones"].astype(str).str.contains("south-litani")
    rules = got["rules"].astype(str)
    assert rules[inside & (got["verdict"] == "breach")].str.contains("south-litani-state-forces-only").any()
    # Just outside, a 2 km uncertainty may still reach inside: possible, never a breach of it.
    near = ~inside & rules.str.contains("south-litani-state-forces-only")
    assert near.any() and (got.loc[near, "verdict"] == "possible_breach").all()
    # Town-level geocodes (about 2 km) near the Litani can only be possible breaches.
    assert set(got.loc[inside, "verdict"]) <= {"breach", "possible_breach"}


def test_pack_synthetic_records_are_seeded_marked_and_in_their_window():
    pack = read_pack("libya-2020")
    scen = load_scenario(pack.manifest)
    one = generate_pack_incidents(scen, pack.synthetic, seed=3, n=400)
    two = generate_pack_incidents(scen, pack.synthetic, seed=3, n=400)
    pd.testing.assert_frame_equal(one, two)
    assert one["description"].str.startswith("[SYNTHETIC] ").all()
    assert (one["source"] == "synthetic-libya-2020").all()
    assert one["occurred_at"].min() >= pd.Timestamp("2020-10-23", tz="UTC")
    assert one["occurred_at"].max() < pd.Timestamp("2021-05-01", tz="UTC")
    assert set(one["date_precision"]) == {"day", "week", "month"}
    assert (one["occurred_from"] <= one["occurred_at"]).all()
    assert (one["occurred_to"] >= one["occurred_at"]).all()
    assert {"gna", "lna", "foreign"} <= set(one["party"])
    got = classify(one, scen)
    # Around the deadline (23 Jan 2021) a week- or month-dated record is at most possible.
    first_day = pd.Timestamp("2021-01-24", tz="UTC")
    wide = one["date_precision"].isin(["week", "month"])
    near = (one["occurred_from"] < first_day) & (one["occurred_to"] >= first_day) & wide
    deadline_rules = got["rules"].astype(str).str.contains("frontline-units-to-camps|foreign-fighters-out")
    assert (near & deadline_rules & (got["verdict"] == "possible_breach")).any()
    assert not (near & deadline_rules & (got["verdict"] == "breach")).any()


def test_the_illustrative_line_is_labelled_on_the_map_and_in_exports():
    scen = load_scenario(PACKS_DIR / "libya-2020" / "libya-2020.toml")
    assert "ILLUSTRATIVE" in scen.line("sirte-hun").name
    assert "ILLUSTRATIVE" in scen.zone("sirte-jufra").name
    html = build_map(scen, pd.DataFrame(columns=["lon", "lat", "verdict"])).get_root().render()
    assert "ILLUSTRATIVE: no agreed line was published" in html
    doc = json.loads(export_bytes(pd.DataFrame({"lon": [], "lat": [], "source": []}), scen, "geojson"))
    assert doc["truceline_provenance"]["data"] == "synthetic"
    assert any("ILLUSTRATIVE" in c for c in doc["truceline_provenance"]["caveats"])


def test_mixed_data_gets_its_own_banner_and_the_blue_line_caveat():
    scen = load_scenario(LEBANON / "lebanon-2024.toml")
    assert scen.data_kind == "mixed"
    html = build_map(scen, pd.DataFrame(columns=["lon", "lat", "verdict"])).get_root().render()
    assert "REAL AND SYNTHETIC DATA" in html
    assert "not the UN Blue Line" in html
    assert "OpenStreetMap" in html


def test_translated_names_keep_the_plain_string_form(tmp_path: Path):
    scen = load_scenario(LEBANON / "lebanon-2024.toml")
    assert scen.name == "Lebanon: cessation of hostilities of 27 November 2024"
    assert scen.text("scenario.name", "ar", scen.name).startswith("لبنان")
    assert scen.text("scenario.name", "fr-CH", scen.name).startswith("Liban")
    assert scen.text("scenario.name", "ru", scen.name) == scen.name
    assert scen.text("party[israel].short_name", "fr", "") == "Israël"
    korea = load_scenario(PACKS_DIR / "korea" / "korea.toml")
    assert korea.translations == {} and korea.name.startswith("Korean Peninsula")


def test_a_bad_translation_table_is_one_problem_per_key(tmp_path: Path):
    (tmp_path / "m.toml").write_text(
        '[scenario]\nname = { en = "A", "not a lang" = "B", fr = "" }\n', encoding="utf-8"
    )
    with pytest.raises(ManifestError) as err:
        load_scenario(tmp_path / "m.toml")
    assert any("scenario.name: not a language code: 'not a lang'" in p for p in err.value.problems)
    assert any("scenario.name: translation must be non-empty text: 'fr'" in p for p in err.value.problems)


def test_a_pack_whose_data_kind_disagrees_with_what_it_ships_is_a_problem(tmp_path: Path):
    import shutil

    folder = tmp_path / "libya-2020"
    shutil.copytree(PACKS_DIR / "libya-2020", folder)
    manifest = folder / "libya-2020.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('data = "synthetic"', 'data = "real"'),
                        encoding="utf-8")
    problems = validate_pack(folder)
    assert any("scenario.data: says 'real' but the pack ships synthetic data" in p for p in problems)


def test_the_store_keeps_what_the_manifest_says_of_provenance_translations_and_deadlines(store):
    from geo.core.auth import OPERATOR
    from geo.services.ingest import load_scenario_into_store

    scen = load_scenario(LEBANON / "lebanon-2024.toml")
    load_scenario_into_store(store, scen, manifest="lebanon-2024.toml", actor=OPERATOR)
    back = store.scenario()
    assert back.rules == scen.rules
    assert back.rule("israeli-withdrawal-60-days").deadline.isoformat() == "2025-01-26"
    assert (back.data, back.attribution, back.caveats) == (scen.data, scen.attribution, scen.caveats)
    assert back.translations == scen.translations
