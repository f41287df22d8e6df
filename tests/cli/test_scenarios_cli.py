"""Scenario packs and several scenarios in one store, on the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.services.accounts import add_user, grant_scenario
from geo.store import open_store


def run(db: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_every_pack_validates_by_id():
    for pack in ("korea", "lebanon-2024", "libya-2020"):
        result = CliRunner().invoke(cli, ["scenario", "validate", pack])
        assert result.exit_code == 0 and result.output.strip() == f"{pack}: ok", result.output


def test_demo_scenario_lebanon_loads_the_cc0_and_the_synthetic_records(db, tmp_path):
    out = run(db, "demo", "--scenario", "lebanon-2024", "--n", "50", "--private")
    assert "fpv_strikes_2026_cc0.csv (real data, CC0 1.0): 149 added" in out
    assert "synthetic incidents (labelled [SYNTHETIC]): 50 added" in out
    store = open_store(db).using("lebanon-2024")
    try:
        sources = store.query(columns=["source"])["source"].value_counts().to_dict()
        assert sources == {"fpv-catalogue-cc0": 149, "synthetic-lebanon-2024": 50}
        again = run(db, "demo", "--scenario", "lebanon-2024", "--n", "50", "--private")
        assert "0 added (149 already there" in again and store.count() == 199
    finally:
        store.close()


def test_demo_all_loads_three_scenarios_and_commands_take_one(db, tmp_path):
    run(db, "demo", "--all", "--n", "30", "--days", "20", "--end", "2026-06-30", "--private")
    listed = json.loads(run(db, "scenario", "list", "--json"))
    assert [(r["id"], r["incidents"], r["data"]) for r in listed] == [
        ("korea", 30, "synthetic"),
        ("lebanon-2024", 179, "mixed"),
        ("libya-2020", 30, "synthetic"),
    ]
    assert listed[0]["default"] and not listed[1]["default"]
    text = run(db, "scenario", "list")
    assert text.splitlines()[0].startswith("* korea")
    out = tmp_path / "libya.csv"
    run(db, "export", "--scenario", "libya-2020", "--format", "csv", "--out", str(out))
    frame = pd.read_csv(out)
    assert len(frame) == 30 and set(frame["source"]) == {"synthetic-libya-2020"}
    run(db, "--scenario", "lebanon-2024", "export", "--format", "csv", "--out", str(out))
    assert len(pd.read_csv(out)) == 179
    batches = run(db, "batches", "--scenario", "libya-2020")
    assert "synthetic libya-2020" in batches and "fpv_strikes" not in batches
    audit = run(db, "audit", "--scenario", "libya-2020", "--limit", "100")
    assert "Libya" in audit and "Lebanon" not in audit and "Korean" not in audit


def test_an_unknown_scenario_is_one_line_and_exit_1(db):
    run(db, "demo", "--scenario", "libya-2020", "--n", "5", "--private")
    out = run(db, "--scenario", "lebanon-2024", "batches", ok=False)
    assert "scenario 'lebanon-2024': not in the store (it holds libya-2020" in out
    assert len(out.strip().splitlines()) == 1


def test_users_grant_binds_an_account_to_a_scenario(db):
    run(db, "demo", "--all", "--n", "5", "--days", "5", "--end", "2026-06-30", "--private")
    store = open_store(db)
    add_user(store, "leila", "viewer", "a long password 1")
    store.close()
    assert "viewer in lebanon-2024" in run(db, "users", "grant", "leila", "--scenario", "lebanon-2024",
                                           "--role", "viewer")
    assert "viewer in lebanon-2024" in run(db, "users", "list")
    out = run(db, "users", "grant", "leila", "--scenario", "nope", "--role", "viewer", ok=False)
    assert "no scenario 'nope'" in out
    store = open_store(db)
    grant_scenario(store, "leila", "libya-2020", "analyst")
    store.close()
    assert "analyst in libya-2020" in run(db, "users", "list")
    assert "no longer bound to libya-2020" in run(db, "users", "revoke", "leila", "--scenario", "libya-2020")
