"""``compare`` through click's CliRunner, on a real store file; counts checked with plain SQL."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli import cli

KEYS = {"zone", "party", "before", "after", "weeks", "rate_ratio", "ci_low", "ci_high", "p_value"}
AT = pd.Timestamp("2026-06-10T00:00:00Z")


def run(db: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.stdout if ok else result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('cli-time') / 'cli.db'}"
    run(db, "demo", "--n", "600", "--days", "40", "--end", "2026-06-30", "--private")
    return db


def sql_count(db: str, party: str, since: pd.Timestamp, until: pd.Timestamp) -> int:
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        value = conn.execute(
            "SELECT COUNT(*) FROM incidents WHERE COALESCE(attributed_party, '') = ? "
            "AND occurred_at >= ? AND occurred_at < ?",
            (party, since.value // 1000, until.value // 1000),
        ).fetchone()[0]
    conn.close()
    return int(value)


def test_compare_json_gives_one_object_per_zone_and_party_with_counts_sql_agrees_with(demo_db: str) -> None:
    out = run(demo_db, "compare", "--at", "2026-06-10", "--weeks", "2", "--json", "--scenario", "korea")
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == (6 + 1) * (2 + 1)  # zones and "(no zone)" × parties and "(unattributed)"
    assert all(r.keys() >= KEYS for r in records)
    assert {r["weeks"] for r in records} == {2}
    week2 = pd.Timedelta(days=14)
    for party, stored in (("north", "north"), ("south", "south"), ("(unattributed)", "")):
        # Every demo zone lies inside the 20 km no-fly zone: it and "(no zone)" hold each incident once.
        rows = [r for r in records if r["party"] == party and r["zone"] in ("nofly-fixed-wing", "(no zone)")]
        assert sum(r["before"] for r in rows) == sql_count(demo_db, stored, AT - week2, AT)
        assert sum(r["after"] for r in rows) == sql_count(demo_db, stored, AT, AT + week2)
    busy = max(records, key=lambda r: r["before"] + r["after"])
    assert busy["before"] > 0 and busy["after"] > 0
    assert busy["ci_low"] <= busy["rate_ratio"] <= busy["ci_high"]
    assert 0.0 <= busy["p_value"] <= 1.0


def test_compare_prints_a_table_for_people_and_says_how_it_was_computed(demo_db: str) -> None:
    out = run(demo_db, "compare", "--at", "2026-06-10", "--weeks", "2", "--zone", "dmz")
    lines = out.splitlines()
    assert lines[0].startswith("2 weeks before 2026-06-10 (2026-05-27 to 2026-06-10)")
    assert lines[1].split()[:2] == ["Zone", "Party"]
    assert all("Demilitarized Zone" in line for line in lines[2:4])
    assert "Clopper-Pearson" in out


def test_compare_defaults_to_the_agreement_date_and_says_when_the_data_do_not_cover_it(demo_db: str) -> None:
    out = run(demo_db, "compare")
    assert out.startswith("8 weeks before 1953-07-27")
    assert "No incident in these weeks." in out
    assert "The data begin on 2026-05-22" in out


def test_compare_refuses_bad_input_in_one_line(demo_db: str) -> None:
    out = run(demo_db, "compare", "--scenario", "lebanon-2024", ok=False)
    assert out.strip().splitlines() == [
        f"Error: {demo_db}: scenario: no scenario 'lebanon-2024' here (it holds korea)"
    ]
    out = run(demo_db, "compare", "--at", "2026-06-28", ok=False)
    assert "less than a week before the data end" in out
    assert len(out.strip().splitlines()) == 1
