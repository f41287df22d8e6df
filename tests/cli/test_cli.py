"""The command line, through click's CliRunner, on real store files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from geo import clock
from geo.cli import cli
from geo.core.filters import Filters
from geo.services.demo import DEMO_MANIFEST
from geo.store import open_store

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "data" / "templates" / "incidents_example.csv"


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(db: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


@pytest.fixture
def demo_db(db) -> str:
    run(db, "demo", "--n", "400", "--days", "30", "--end", "2026-06-30", "--private")
    return db


def test_scenario_validate_ok_and_bad(tmp_path):
    good = CliRunner().invoke(cli, ["scenario", "validate", str(DEMO_MANIFEST)])
    assert good.exit_code == 0 and good.output.strip().endswith(": ok")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[scenario]\nname = "x"\n[[zone]]\nid = "z"\nname = "Z"\nkind = "moat"\nline = "nope"\nwidth_m = -1\n'
    )
    result = CliRunner().invoke(cli, ["scenario", "validate", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{bad}: zone[z].") for line in lines)


def test_classify_writes_the_contract_columns(tmp_path):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        cli, ["classify", "--scenario", str(DEMO_MANIFEST), str(EXAMPLE), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    for col in (
        "event_id",
        "occurred_at",
        "lon",
        "lat",
        "category",
        "party",
        "attribution",
        "verdict",
        "rules",
        "zones",
        "nearest_line",
        "distance_m",
        "side",
    ):
        assert col in frame.columns, col
    assert set(frame["verdict"]) <= {"breach", "possible_breach", "no_breach", "outside_monitored_area"}
    assert frame["nearest_line"].eq("mdl").all()
    assert f"{len(frame)} classified" in result.output


def test_demo_is_idempotent_and_says_when_public(db):
    first = run(db, "demo", "--n", "300", "--days", "20", "--end", "2026-06-30")
    assert "synthetic incidents (labelled [SYNTHETIC]): 300 added (0 already there" in first
    assert "public read-only viewing is ON" in first
    again = run(db, "demo", "--n", "300", "--days", "20", "--end", "2026-06-30")
    assert "synthetic incidents (labelled [SYNTHETIC]): 0 added (300 already there" in again
    assert open_store(db).count() == 300


def test_ingest_json_summary_accounts_for_every_row(demo_db, tmp_path):
    bad = tmp_path / "bad.csv"
    text = EXAMPLE.read_text(encoding="utf-8").splitlines()
    rows = [
        *text,
        text[1].replace("EX-0001", "EX-9001").replace("37.9553", "95.0"),
        text[1].replace("EX-0001", "EX-9002").replace("2024-03-04", "2999-01-01"),
    ]
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    summary = json.loads(run(demo_db, "ingest", str(bad), "--json"))
    assert set(summary) >= {"batch_id", "rows_read", "accepted", "rejected", "duplicate", "warnings"}
    records = len(pd.read_csv(bad))  # the example has a line break inside a quoted field
    assert summary["rows_read"] == records
    assert summary["rejected"] == 2
    assert summary["accepted"] + summary["rejected"] + summary["duplicate"] == summary["rows_read"]
    again = json.loads(run(demo_db, "ingest", str(bad), "--json"))
    assert again["accepted"] == 0 and again["duplicate"] == summary["accepted"]
    rejected = tmp_path / "rejected.csv"
    out = run(demo_db, "batches", "rejected", str(summary["batch_id"]), "--out", str(rejected))
    assert "2 rejected rows" in out
    reasons = pd.read_csv(rejected)
    assert sorted(reasons["line_no"]) == [len(rows) - 1, len(rows)]  # physical lines of the two bad rows
    assert reasons["reason"].str.contains("lat").any() and reasons["reason"].str.contains("future").any()


def test_unreadable_file_exits_non_zero_with_one_line(demo_db, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02binary\x00" * 50)
    result = CliRunner().invoke(cli, ["--db", demo_db, "ingest", str(junk)])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: ") and "junk.csv" in result.output


def test_batches_list_and_delete(demo_db):
    listing = run(demo_db, "batches")
    assert "committed" in listing and "read 400" in listing
    assert "400 incidents removed" in run(demo_db, "batches", "delete", "1")
    assert open_store(demo_db).count() == 0
    assert "already deleted" in run(demo_db, "batches", "delete", "1", ok=False)


def test_export_filters_and_formats(demo_db, tmp_path):
    store = open_store(demo_db)
    breaches = store.count(store_filters := Filters(verdicts=("breach",)))
    assert breaches > 0
    out = tmp_path / "b.csv"
    assert f"{breaches} incidents" in run(
        demo_db, "export", "--format", "csv", "--out", str(out), "--verdict", "breach"
    )
    assert len(pd.read_csv(out)) == breaches == store.count(store_filters)
    geojson = tmp_path / "all.geojson"
    run(demo_db, "export", "--format", "geojson", "--out", str(geojson), "--party", "north")
    features = json.loads(geojson.read_text())["features"]
    assert {f["properties"]["party"] for f in features} == {"north"}
    gpkg = tmp_path / "all.gpkg"
    run(demo_db, "export", "--format", "gpkg", "--out", str(gpkg), "--zone", "dmz")
    import pyogrio

    assert {name for name, _ in pyogrio.list_layers(gpkg)} >= {"incidents", "lines", "zones"}


def test_snapshot_and_brief(demo_db, tmp_path):
    png, pdf = tmp_path / "m.png", tmp_path / "b.pdf"
    run(demo_db, "snapshot", "--out", str(png), "--since", "2026-06-01", "--dpi", "150")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run(demo_db, "brief", "--out", str(pdf), "--since", "2026-06-23")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "SYNTHETIC" in text.upper()


def test_reclassify_and_scenario_load(demo_db):
    assert "0 verdicts changed" in run(demo_db, "reclassify")
    assert "400 incidents reclassified" in run(demo_db, "scenario", "load", str(DEMO_MANIFEST))
    assert "zone dmz: Demilitarized Zone" in run(demo_db, "scenario", "show")


def test_users_and_audit(demo_db):
    run(demo_db, "users", "add", "ana", "--role", "analyst", "--password", "correct horse battery")
    assert "ana" in run(demo_db, "users", "list")
    too_short = CliRunner().invoke(
        cli, ["--db", demo_db, "users", "add", "bo", "--role", "viewer", "--password", "short"]
    )
    assert too_short.exit_code != 0 and "at least 10 characters" in too_short.output
    audit = run(demo_db, "audit", "--limit", "20")
    assert "user_set" in audit and "scenario_load" in audit and "upload" in audit


def test_users_add_warns_while_passwords_are_hashed_for_tests(demo_db, monkeypatch):
    args = ["--db", demo_db, "users", "add", "cy", "--role", "viewer", "--password", "correct horse battery"]
    warned = CliRunner().invoke(cli, args)  # the test run hashes with the test parameters
    assert warned.exit_code == 0 and "TRUCELINE_PASSWORD_HASHING=test" in warned.stderr
    assert "user cy: viewer" in warned.stdout
    monkeypatch.setenv("TRUCELINE_PASSWORD_HASHING", "standard")
    quiet = CliRunner().invoke(cli, args)
    assert quiet.exit_code == 0 and "TRUCELINE_PASSWORD_HASHING" not in quiet.output


def test_bad_options_fail_clearly(demo_db):
    result = CliRunner().invoke(
        cli, ["--db", demo_db, "export", "--format", "csv", "--out", "x.csv", "--since", "yesterday-ish"]
    )
    assert result.exit_code == 2 and "is not a date" in result.output
    result = CliRunner().invoke(cli, ["--db", "mysql://nope", "batches"])
    assert result.exit_code == 1 and "unsupported store URL" in result.output


def test_demo_live_adds_incidents_timestamped_now(demo_db):
    before = open_store(demo_db).count()
    out = run(
        demo_db,
        "demo",
        "--n",
        "400",
        "--days",
        "30",
        "--end",
        "2026-06-30",
        "--private",
        "--live",
        "--max-ticks",
        "2",
    )
    assert out.count("live: +") == 2
    store = open_store(demo_db)
    assert store.count() > before
    newest = store.query(limit=1)["occurred_at"].iloc[0]
    assert (pd.Timestamp(clock.now()) - newest) < pd.Timedelta(minutes=5)


def test_ingest_reads_in_the_readers_chunks_unless_told() -> None:
    from geo.io.readers import CHUNK_ROWS

    option = next(p for p in cli.commands["ingest"].params if p.name == "chunk_rows")
    assert option.default == CHUNK_ROWS
