"""A later release must open an older store: a real version-1 file, migrated and kept whole.

``tests/data/store/v1.sqlite`` is a store as release 0.1 wrote it: migration 1 only, plus a
scenario, one upload (three incidents, one rejected row) and its zone links. It is built
by :func:`build_v1` below; to rebuild it after a deliberate change of the rows::

    python -c "from tests.store.test_schema_versions import write_v1_fixture; write_v1_fixture()"

The same rows are written into a fresh PostGIS database after its migration 1, and both
are then opened with the current code.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import shapely

from geo.filters import Filters
from geo.ingest import delete_batch, ingest_file, reclassify
from geo.store import SCHEMA_VERSION, open_store
from geo.store._schema import MIGRATIONS, migration_sql, statements
from tests.ingest.helpers import NOW, template_text

V1_FILE = Path(__file__).resolve().parents[1] / "data" / "store" / "v1.sqlite"

LINE = shapely.LineString([(126.8, 38.0), (127.6, 38.1)])
DMZ = shapely.Polygon([(126.8, 37.97), (127.6, 37.97), (127.6, 38.13), (126.8, 38.13)])
V1_RECORDS = [
    {"event_id": "V1-1", "occurred_at": "2025-01-02T03:04:05Z", "lat": "38.05", "lon": "127.0",
     "category": "artillery_fire", "actor": "KPA", "fatalities": "2", "source": "team-a",
     "description": '포격 2회; "shells", north of the line'},
    {"event_id": "V1-2", "occurred_at": "2025-01-03", "lat": "38.02", "lon": "127.3",
     "category": "construction", "source": "team-a", "description": "Трактор и траншея"},
    {"event_id": "V1-3", "occurred_at": "2025-01-02T03:20:00Z", "lat": "38.051", "lon": "127.001",
     "category": "artillery_fire", "actor": "조선인민군", "fatalities": "0", "source": "team-b",
     "description": "دوي قصف"},
]  # fmt: skip
"""The upload the v1 store holds, as its CSV rows (the fixture stores what 0.1 made of them)."""

US = 1_000_000
V1_INCIDENTS = [  # the fields _v1_rows unpacks, in its order
    (1, "V1-1", "aff6597f7079659015f0f8d57f372f5b", 1735787045 * US, 1735787045 * US, "exact", 127.0, 38.05,
     "artillery_fire", "KPA", 2, "team-a", V1_RECORDS[0]["description"], None, "dmz", 2975.5, "left",
     "north", "north", "inferred_from_side", "breach", "no-artillery-dmz"),
    (2, "V1-2", "ffda932e3a2c15d529fa3197cf32d8ec", 1735862400 * US, 1735948799 * US, "day", 127.3, 38.02,
     "construction", "", None, "team-a", V1_RECORDS[1]["description"], None, "dmz", -3408.25, "right",
     "south", "south", "inferred_from_side", "no_breach", ""),
    (3, "V1-3", "d685c7191f06de7cc3120436ba322ac4", 1735788000 * US, 1735788000 * US, "exact", 127.001,
     38.051, "artillery_fire", "조선인민군", 0, "team-b", V1_RECORDS[2]["description"], 1, "dmz", 3086.0,
     "left", "north", "north", "inferred_from_side", "breach", "no-artillery-dmz"),
]  # fmt: skip
STARTED = 1735900000 * US


def _v1_rows(dialect: str) -> list[tuple[str, tuple[Any, ...]]]:
    """``(sql, params)`` inserting the v1 rows, with ``?`` placeholders and stored times (µs)."""
    geom = "?" if dialect == "sqlite" else "ST_GeomFromWKB(?, 4326)"
    scenario = {"name": "v1 fixture", "description": "A store written by release 0.1.", "synthetic": True,
                "manifest": "", "repairs": [], "loaded_at": "2025-01-01T00:00:00+00:00"}  # fmt: skip
    rows: list[tuple[str, tuple[Any, ...]]] = [
        ("INSERT INTO meta VALUES (?, ?)", ("schema_version", "1")),
        ("INSERT INTO meta VALUES (?, ?)", ("generation", "3")),
        ("INSERT INTO meta VALUES (?, ?)", ("scenario", json.dumps(scenario))),
        ("INSERT INTO meta VALUES (?, ?)", ("changed_at", "2025-01-03T10:00:00+00:00")),
        ("INSERT INTO parties VALUES (?, ?, ?, ?, ?)", ("north", "North", "N", "#c0392b", 0)),
        ("INSERT INTO parties VALUES (?, ?, ?, ?, ?)", ("south", "South", "S", "#2e86c1", 1)),
        (
            f"INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {geom})",
            ("mdl", "Demarcation line", "Armistice", "north", "south", "1953-07-27", None, "fixture", 0,
             shapely.to_wkb(LINE)),
        ),
        (
            f"INSERT INTO zones VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {geom})",
            ("dmz", "Demilitarized zone", "demilitarized_zone", "1953-07-27", None, None, None, None,
             "fixture", 0, shapely.to_wkb(DMZ)),
        ),
        (
            "INSERT INTO rules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("no-artillery-dmz", "dmz", '["artillery_fire"]', "[]", "high", "No artillery in the DMZ.",
             None, None, "[]", 0),
        ),
        ("INSERT INTO party_mapping VALUES (?, ?, ?, ?)", (0, "KPA", "iexact", "north")),
        (
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (1, "ana", "v1.csv", "ab" * 32, "template", "utf-8", "", 4, 3, 1, 0, 1, 2, "[]", "committed",
             STARTED, STARTED + 2 * US),
        ),
        (
            "INSERT INTO rejected_rows VALUES (?, ?, ?, ?)",
            (1, 5, "lat: '95' is out of range (a latitude is between -90 and 90)",
             "V1-4,2025-01-02,95,127.1,other"),
        ),
    ]  # fmt: skip
    for inc in V1_INCIDENTS:
        (iid, eid, digest, at, to, precision, lon, lat, cat, actor, fat, source, text, near,
         zones, dist, side, side_party, party, basis, verdict, rules) = inc  # fmt: skip
        values = (iid, source, eid, digest, at, at, to, precision, lon, lat, "near", None, "", cat, "", "",
                  actor, "", "", "", fat, text, "reported", 1, STARTED, near, zones, "mdl", dist, side,
                  side_party, party, basis, verdict, rules, "")  # fmt: skip
        rows.append((f"INSERT INTO incidents VALUES ({', '.join('?' * len(values))})", values))
        rows.append(("INSERT INTO incident_zones VALUES (?, ?)", ("dmz", iid)))
    return rows


def build_v1(execute: Callable[[str, tuple[Any, ...]], object], dialect: str) -> None:
    """Apply migration 1 only, then write the v1 rows (times as the dialect stores them)."""
    for stmt in statements(migration_sql(dialect, 1)):
        execute(stmt, ())
    for sql, params in _v1_rows(dialect):
        if dialect == "postgis":
            times = tuple(_pg_time(v) if isinstance(v, int) and v > 10**14 else v for v in params)
            execute(sql.replace("?", "%s"), times)
        else:
            execute(sql, params)


def _pg_time(us: int) -> datetime:
    return datetime.fromtimestamp(us / US, tz=UTC)


def write_v1_fixture(path: Path = V1_FILE) -> None:
    """(Re)build the committed v1 SQLite file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA page_size = 1024")  # a small file
        build_v1(conn.execute, "sqlite")
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, through a plain DB-API connection (no migration)."""
    conn = sqlite3.connect(url)
    try:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    finally:
        conn.close()


def test_released_migrations_are_never_edited():
    """A released migration is history: add a new one instead (this pins 1 and 2, as released)."""
    digests = {
        d: [hashlib.sha256(m.encode()).hexdigest()[:16] for m in MIGRATIONS[d][:2]] for d in MIGRATIONS
    }
    assert digests == {
        "sqlite": ["6d8a2dad26dd494c", "23e87f755eb160ad"],
        "postgis": ["9028f7554f690e8c", "489e69950fe017bd"],
    }


def test_the_v1_fixture_is_what_the_builder_makes(tmp_path):
    rebuilt = tmp_path / "v1.sqlite"
    write_v1_fixture(rebuilt)
    assert _dump(str(rebuilt)) == _dump(str(V1_FILE))
    assert V1_FILE.stat().st_size < 64_000
    conn = sqlite3.connect(V1_FILE)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    finally:
        conn.close()


def _check_migrated(store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert store.generation() == 3
    scenario = store.scenario()
    assert scenario.name == "v1 fixture"
    assert [p.id for p in scenario.parties] == ["north", "south"]
    assert scenario.lines[0].geometry.equals_exact(LINE, 0)
    assert scenario.zones[0].geometry.equals_exact(DMZ, 0)
    assert scenario.lines[0].valid_from == date(1953, 7, 27)
    assert scenario.rules[0].prohibits == ("artillery_fire",)

    view = store.query(order="incident_id")
    assert view["incident_id"].tolist() == [1, 2, 3]
    assert view["source_event_id"].tolist() == ["V1-1", "V1-2", "V1-3"]
    assert view["description"].tolist() == [r["description"] for r in V1_RECORDS]
    assert view["occurred_at"].tolist() == [
        pd.Timestamp("2025-01-02T03:04:05Z"),
        pd.Timestamp("2025-01-03T00:00:00Z"),
        pd.Timestamp("2025-01-02T03:20:00Z"),
    ]
    assert view["occurred_to"].iloc[1] == pd.Timestamp("2025-01-03T23:59:59Z")
    assert view["fatalities"].tolist()[0] == 2 and pd.isna(view["fatalities"].iloc[1])
    assert view["near_duplicate_of"].iloc[2] == 1
    assert view["distance_m"].tolist() == [2975.5, -3408.25, 3086.0]
    assert view["verdict"].tolist() == ["breach", "no_breach", "breach"]
    assert store.count(Filters(zones=("dmz",))) == 3
    assert store.count(Filters(verdicts=("breach",))) == 2

    (batch,) = store.batches()
    assert (batch.batch_id, batch.user_name, batch.accepted, batch.rejected, batch.status) == (
        1, "ana", 3, 1, "committed",
    )  # fmt: skip
    assert batch.started_at == datetime.fromtimestamp(STARTED / US, tz=UTC)
    assert store.rejected_rows(1)["line_no"].tolist() == [5]


def _upload_after_upgrade(store, tmp_path) -> None:
    # The same rows under new ids: their content hashes (written by 0.1) still match.
    renamed = [{**r, "event_id": r["event_id"] + "-again"} for r in V1_RECORDS]
    new = {"event_id": "V3-1", "occurred_at": "2025-02-01T00:00:00Z", "lat": "38.06", "lon": "127.1",
           "category": "artillery_fire", "source": "team-a", "description": "after the upgrade"}  # fmt: skip
    path = tmp_path / "after.csv"
    path.write_text(template_text([*renamed, new])[0], encoding="utf-8")
    summary = ingest_file(store, path, now=NOW)
    assert (summary.accepted, summary.duplicate) == (1, 3)
    assert store.max_incident_id() == 4 and summary.batch_id == 2
    assert store.incident(4)["zones"] == "dmz"
    assert reclassify(store).total == 4
    assert delete_batch(store, 1) == 3
    assert store.count() == 1


def test_current_code_opens_a_v1_sqlite_file(tmp_path):
    path = tmp_path / "v1.sqlite"
    shutil.copyfile(V1_FILE, path)
    store = open_store(f"sqlite:///{path}")
    try:
        _check_migrated(store)
        schema = dict(store.frame("SELECT name, sql FROM sqlite_master WHERE type = 'table'").values)
        assert "incident_id INTEGER PRIMARY KEY" in schema["incidents"]
        assert "WITHOUT ROWID" in schema["incident_zones"]
        _upload_after_upgrade(store, tmp_path)
    finally:
        store.close()
    reopened = open_store(f"sqlite:///{path}")  # opening an up-to-date store changes nothing
    assert reopened.schema_version() == SCHEMA_VERSION and reopened.count() == 1
    reopened.close()


@pytest.mark.postgis
def test_current_code_opens_a_v1_postgis_database(postgis_url, tmp_path):
    import psycopg

    with psycopg.connect(postgis_url) as conn:
        build_v1(conn.execute, "postgis")
    store = open_store(postgis_url)
    try:
        _check_migrated(store)
        _upload_after_upgrade(store, tmp_path)
    finally:
        store.close()
