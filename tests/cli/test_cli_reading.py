"""How ``ingest`` and ``classify`` read a file: ``--encoding``, ``--dayfirst`` and ``--monthfirst``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.services.demo import DEMO_MANIFEST
from geo.store import open_store
from tests.cli.test_cli import run

DATA = DEMO_MANIFEST.parents[3] / "tests" / "data" / "readers"
HEADER = "event_id,occurred_at,lat,lon,category,actor,description"
AMBIGUOUS = (
    f"{HEADER}\r\n"
    "E1,09/05/2014 00:00,38.1,127.1,artillery_fire,조선인민군,first\r\n"
    "E2,10/06/2014 14:00,38.1,127.1,artillery_fire,조선인민군,second\r\n"
).encode()
HEBREW = f"{HEADER}\r\nE1,2024-05-01,38.1,127.1,other,צבא ההגנה לישראל,ירי ליד הגבול\r\n".encode("cp1255")


@pytest.fixture
def scenario_db(tmp_path) -> str:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run(db, "scenario", "load", str(DEMO_MANIFEST))
    return db


def stored(db: str) -> pd.DataFrame:
    store = open_store(db)
    try:
        return store.query().set_index("source_event_id")
    finally:
        store.close()


def test_ingest_json_reports_the_encoding_of_an_excel_resaved_ucdp_file(scenario_db):
    summary = json.loads(run(scenario_db, "ingest", str(DATA / "ucdp_ged_excel_us.csv"), "--json"))
    assert {k: summary[k] for k in ("format", "encoding", "rows_read", "accepted", "rejected")} == {
        "format": "ucdp",
        "encoding": "cp1252",
        "rows_read": 60,
        "accepted": 60,
        "rejected": 0,
    }
    text = run(scenario_db, "ingest", str(DATA / "ucdp_ged_excel_fr.csv"))
    assert text.splitlines()[0].endswith("ucdp_ged_excel_fr.csv (ucdp, cp1252)")


def test_an_ambiguous_file_is_refused_in_one_line_and_the_order_flags_resolve_it(scenario_db, tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(AMBIGUOUS)
    result = CliRunner().invoke(cli, ["--db", scenario_db, "ingest", str(path), "--json"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: log.csv: occurred_at: dates such as '09/05/2014 00:00' (9 May 2014 or 5 September 2014) and "
        "'10/06/2014 14:00' (10 June 2014 or 6 October 2014) read either day first or month first, and no "
        "date in the file tells which; choose the order (--dayfirst or --monthfirst)\n"
    )
    assert json.loads(run(scenario_db, "ingest", str(path), "--dayfirst", "--json"))["accepted"] == 2
    rows = stored(scenario_db)
    assert rows["occurred_at"].tolist() == [
        pd.Timestamp("2014-06-10T14:00", tz="UTC"),
        pd.Timestamp("2014-05-09", tz="UTC"),
    ]
    assert rows.loc["E1", "actor"] == "조선인민군"


def test_monthfirst_reads_the_other_way(scenario_db, tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(AMBIGUOUS)
    run(scenario_db, "ingest", str(path), "--monthfirst")
    assert stored(scenario_db).loc["E1", "occurred_at"] == pd.Timestamp("2014-09-05", tz="UTC")


def test_encoding_overrides_detection(scenario_db, tmp_path):
    path = tmp_path / "hebrew.csv"
    path.write_bytes(HEBREW)
    result = CliRunner().invoke(cli, ["--db", scenario_db, "ingest", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: hebrew.csv: cannot tell the encoding: ")
    assert result.output.endswith("; name the encoding (--encoding)\n")
    summary = json.loads(run(scenario_db, "ingest", str(path), "--encoding", "cp1255", "--json"))
    assert (summary["encoding"], summary["accepted"]) == ("cp1255", 1)
    assert stored(scenario_db).loc["E1", "actor"] == "צבא ההגנה לישראל"
    bad = CliRunner().invoke(cli, ["--db", scenario_db, "ingest", str(path), "--encoding", "klingon"])
    assert (bad.exit_code, bad.output) == (1, "Error: hebrew.csv: unknown encoding 'klingon'\n")


def test_classify_takes_the_same_options(tmp_path):
    source, out = tmp_path / "log.csv", tmp_path / "out.csv"
    source.write_bytes(AMBIGUOUS.decode().replace("조선인민군", "צה״ל").encode("cp1255"))
    args = ["classify", "--scenario", str(DEMO_MANIFEST), str(source), "--out", str(out)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: log.csv: cannot tell the encoding")
    undecided = CliRunner().invoke(cli, [*args, "--encoding", "cp1255"])
    assert undecided.exit_code == 1
    assert "choose the order (--dayfirst or --monthfirst)" in undecided.output
    ok = CliRunner().invoke(cli, [*args, "--encoding", "cp1255", "--monthfirst"])
    assert ok.exit_code == 0, ok.output
    written = pd.read_csv(out, dtype=str)
    assert written["occurred_at"].str[:10].tolist() == ["2014-09-05", "2014-10-06"]
    assert written["actor"].tolist() == ["צה״ל", "צה״ל"]
