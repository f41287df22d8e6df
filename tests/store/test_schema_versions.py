"""A later release must open an older store: real version-1 and version-3 files, migrated and kept whole.

``tests/data/store/v1.sqlite`` is a store as release 0.1 wrote it: migration 1 only, plus a
scenario, one upload (three incidents, one rejected row) and its zone links. It is built
by :func:`build_v1` below; to rebuild it after a deliberate change of the rows::

    python -c "from tests.store.test_schema_versions import write_v1_fixture; write_v1_fixture()"

The same rows are written into a fresh PostGIS database after its migration 1, and both
are then opened with the current code.

``tests/data/store/v3.sqlite`` is the v1 file as the last release of schema 3 (commit
0fc05d5) left it after migrating it and uploading ``v3_ucdp.csv`` (six UCDP events with
distinct ids, three of them at the place and day of another: that release merged them, 3
accepted, 3 duplicate) and ``v3_monitor.csv`` (three rows without event ids, two differing
only in party: merged too, 2 accepted, 1 duplicate). It cannot be rebuilt by later code:
it is history. Its version-3 rows are copied into PostGIS for the same checks there.

``tests/data/store/v5.sqlite`` is the v3 file as the last release of schema 5 (commit
e0caf96) left it after opening it (migrations 4 and 5): it is history too. Schema 6 adds
the reports' Admiralty grading; every report of an older store is ungraded.

``tests/data/store/v9_korea.sqlite`` is ``v5_korea.sqlite`` as the last release of schema 9
(commit 609130d) left it after opening it (migrations 6 to 9). Schema 10 adds the alert
subscriptions and their delivery queue, empty in an older store.
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

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.core.filters import Filters
from geo.services.ingest import delete_batch, ingest_file, reclassify
from geo.services.packs import load_pack
from geo.store import SCHEMA_VERSION, open_store
from geo.store._schema import MIGRATIONS, migration_sql, statements
from tests.ingest.helpers import NOW, template_text, write_incidents_csv
from tests.ingest.test_content_hash import reference

STORE_DATA = Path(__file__).resolve().parents[1] / "data" / "store"
V1_FILE = STORE_DATA / "v1.sqlite"
V3_FILE = STORE_DATA / "v3.sqlite"
V5_FILE = STORE_DATA / "v5.sqlite"
V5_KOREA = STORE_DATA / "v5_korea.sqlite"
V9_KOREA = STORE_DATA / "v9_korea.sqlite"

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
    """A released migration is history: add a new one instead (this pins 1 to 3, as released)."""
    digests = {
        d: [hashlib.sha256(m.encode()).hexdigest()[:16] for m in MIGRATIONS[d][:3]] for d in MIGRATIONS
    }
    assert digests == {
        "sqlite": ["6d8a2dad26dd494c", "23e87f755eb160ad", "9ec7275c42013ead"],
        "postgis": ["9028f7554f690e8c", "489e69950fe017bd", "e3b0c44298fc1c14"],
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
    # The near-duplicate flag of 0.1 is now a cross-source link, and its pair counts once.
    links = store.links()
    assert links[["incident_id", "other_id", "kind", "status", "batch_id"]].values.tolist() == [
        [3, 1, "cross_source", "unreviewed", 1]
    ]
    assert view["duplicate_group"].tolist() == [1, 2, 1]
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
    # The same rows under their ids are duplicates; a new row goes in.
    new = {"event_id": "V3-1", "occurred_at": "2025-02-01T00:00:00Z", "lat": "38.06", "lon": "127.1",
           "category": "artillery_fire", "source": "team-a", "description": "after the upgrade"}  # fmt: skip
    path = tmp_path / "after.csv"
    path.write_text(template_text([*V1_RECORDS, new])[0], encoding="utf-8")
    summary = ingest_file(store, path, now=NOW)
    assert (summary.accepted, summary.duplicate) == (1, 3)
    assert store.count(Filters(text="ТРАКТОР")) == 1  # the migrated rows are searchable
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


# -- version 3: the store of the release that merged distinct events ------------------------------------


def _v1_hash(row: dict[str, Any]) -> str:
    """The content hash as releases before schema 4 defined it (BLAKE2b of their canonical text)."""
    at = datetime.fromtimestamp(row["occurred_at"] / US, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    fatalities = "" if row["fatalities"] is None else str(int(row["fatalities"]))
    lon, lat = (str(float(np.round(row[c], 6))) for c in ("lon", "lat"))
    text = [row["source"], at, lon, lat, row["category"], row["actor"], fatalities, row["description"]]
    return hashlib.blake2b("\x1f".join(text).encode(), digest_size=16).hexdigest()


def _v4_hash(row: dict[str, Any]) -> str:
    """The content hash of schema 4, by the reference SipHash of the canonical text."""
    fatalities = "" if row["fatalities"] is None else str(int(row["fatalities"]))
    text = [row["source"], str(int(row["occurred_at"])), str(int(np.rint(row["lon"] * 1e6))),
            str(int(np.rint(row["lat"] * 1e6))), row["category"], row["actor"], row["party"], fatalities,
            row["description"]]  # fmt: skip
    return reference(text)


def _v3_incidents() -> list[dict[str, Any]]:
    conn = sqlite3.connect(V3_FILE)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM incidents ORDER BY incident_id")]
    finally:
        conn.close()


def test_the_v3_fixture_holds_what_the_release_before_wrote():
    conn = sqlite3.connect(V3_FILE)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
        batches = conn.execute("SELECT file_name, rows_read, accepted, duplicate FROM batches").fetchall()
    finally:
        conn.close()
    assert batches == [("v1.csv", 4, 3, 0), ("v3_ucdp.csv", 6, 3, 3), ("v3_monitor.csv", 3, 2, 1)]
    rows = _v3_incidents()
    assert [r["source_event_id"] for r in rows] == [
        "V1-1", "V1-2", "V1-3", "900101", "900103", "900105",
        "sha:" + rows[6]["content_hash"][:20], "sha:" + rows[7]["content_hash"][:20],
    ]  # fmt: skip
    assert all(r["content_hash"] == _v1_hash(r) for r in rows)  # hashes of the old definition
    assert V3_FILE.stat().st_size < 64_000


def _check_v4(store) -> None:
    """The v3 fixture, migrated: every row kept, rehashed, keyed anew where keyed by hash, searchable."""
    before = _v3_incidents()
    view = store.query(order="incident_id")
    assert view["incident_id"].tolist() == [r["incident_id"] for r in before]
    for column in ("source", "category", "actor", "party", "description", "verdict", "zones", "batch_id"):
        assert view[column].tolist() == [r[column] for r in before], column
    assert view["content_hash"].tolist() == [_v4_hash(r) for r in before]
    # Ids made from the old hash are made from the new one; the sources' own ids stay.
    expected_ids = [r["source_event_id"] for r in before[:6]] + [
        "sha:" + _v4_hash(r)[:20] for r in before[6:]
    ]
    assert view["source_event_id"].tolist() == expected_ids
    assert store.count(Filters(text="bursts HEARD")) == 1
    assert store.links()[["incident_id", "other_id"]].values.tolist() == [[3, 1]]


def _recover_merged_events(store) -> None:
    """Upload the original files again: the rows merged before go in, the stored ones are recognised."""
    ucdp = ingest_file(store, STORE_DATA / "v3_ucdp.csv", now=NOW)
    assert (ucdp.rows_read, ucdp.accepted, ucdp.duplicate) == (6, 3, 3)
    ids = store.query(columns=["incident_id", "source_event_id", "content_hash"]).set_index("source_event_id")
    assert ids.loc[["900102", "900104", "900106"], "incident_id"].tolist() == [12, 13, 14]
    # Each recovered event is flagged as a look-alike of the lowest event with its content.
    expected = []
    for event in ("900102", "900104", "900106"):
        alike = ids[(ids["content_hash"] == ids.at[event, "content_hash"]) & (ids.index != event)]
        lower = alike.loc[alike["incident_id"] < ids.at[event, "incident_id"], "incident_id"]
        if len(lower):
            expected.append([int(ids.at[event, "incident_id"]), int(lower.min())])
    lookalikes = store.links(kind="same_source_lookalike")[["incident_id", "other_id"]].values.tolist()
    assert lookalikes == expected and ucdp.lookalikes == len(expected)
    assert [12, 4] in lookalikes and [14, 4] in lookalikes  # the same place, day and deaths as 900101
    # Rows without ids: the stored two are recognised by their new keys; the one that differed
    # only in party (merged before) goes in.
    monitor = ingest_file(store, STORE_DATA / "v3_monitor.csv", now=NOW)
    assert (monitor.accepted, monitor.duplicate) == (1, 2)
    added = store.query(Filters(sources=("team-c",)), order="incident_id")
    assert added["party"].tolist() == ["north", "", "south"]
    # Nothing more to recover: both files again add nothing.
    for name in ("v3_ucdp.csv", "v3_monitor.csv"):
        assert ingest_file(store, STORE_DATA / name, now=NOW).accepted == 0
    assert store.count() == 12


def test_current_code_opens_a_v3_sqlite_file_and_recovers_the_merged_events(tmp_path):
    path = tmp_path / "v3.sqlite"
    shutil.copyfile(V3_FILE, path)
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        _check_v4(store)
        schema = dict(store.frame("SELECT name, sql FROM sqlite_master WHERE type = 'table'").values)
        assert "UNIQUE (scenario_id, source, source_event_id))" in schema["incidents"]
        assert "content_hash)" not in schema["incidents"] and "near_duplicate_of" not in schema["incidents"]
        _recover_merged_events(store)
    finally:
        store.close()


def _copy_v3_into_postgis(url: str) -> None:
    """The v3 fixture's rows, written into a PostGIS database at version 3."""
    import psycopg

    from geo.store._codec import TIME_COLUMNS

    src = sqlite3.connect(V3_FILE)
    try:
        with psycopg.connect(url) as pg:
            for version in (1, 2, 3):
                for stmt in statements(migration_sql("postgis", version)):
                    pg.execute(stmt)
            tables = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
                marks = ["ST_GeomFromWKB(%s, 4326)" if c == "geometry" else "%s" for c in columns]
                for row in src.execute(f"SELECT * FROM {table}"):
                    values = [
                        _pg_time(v) if c in TIME_COLUMNS and v is not None else v
                        for c, v in zip(columns, row, strict=True)
                    ]
                    pg.execute(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})", values
                    )
    finally:
        src.close()


@pytest.mark.postgis
def test_current_code_opens_a_v3_postgis_database_and_recovers_the_merged_events(postgis_url):
    _copy_v3_into_postgis(postgis_url)
    store = open_store(postgis_url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        _check_v4(store)
        _recover_merged_events(store)
    finally:
        store.close()


def _v6_rows(execute: Callable[..., Any], at: Any) -> None:
    """An account and four failed sign-ins as a release before schema 6 recorded them (no client)."""
    execute(
        "INSERT INTO users (name, role, password_hash, created_at, disabled) "
        "VALUES ('ana', 'analyst', ?, ?, 0)",
        ("$argon2id$v=19$m=65536,t=3,p=4$bm90LWEtcmVhbC1zYWx0$bm90LWEtcmVhbC1oYXNo", at),
    )
    for _ in range(4):
        execute("INSERT INTO login_attempts (name, at, ok) VALUES ('ana', ?, 0)", (at,))


def _check_v6(store) -> None:
    """Old failures still count (for the client they carry: none), and sessions can be opened."""
    from geo import AuthenticationError
    from geo.core.auth import Principal
    from geo.services import accounts, sessions

    assert store.schema_version() == SCHEMA_VERSION
    states = store.frame("SELECT client, state, ok FROM login_attempts")
    assert states.to_dict("list") == {"client": [""] * 4, "state": [""] * 4, "ok": [0] * 4}
    with pytest.raises(AuthenticationError, match="wrong user name"):
        accounts.authenticate(store, "ana", "a wrong password", now=NOW)
    with pytest.raises(AuthenticationError, match="too many failed sign-ins"):
        accounts.authenticate(store, "ana", "a wrong password", now=NOW)
    sid, _ticket = sessions.start(store, Principal("ana", "analyst"), now=NOW)
    assert sessions.resume(store, sid, now=NOW).principal == Principal("ana", "analyst")


def test_current_code_opens_a_v3_sqlite_file_into_schema_6_sessions_and_attempts(tmp_path):
    path = tmp_path / "v3.sqlite"
    shutil.copyfile(V3_FILE, path)
    conn = sqlite3.connect(path)
    with conn:
        _v6_rows(conn.execute, int(pd.Timestamp(NOW).value // 1000) - 60_000_000)
    conn.close()
    store = open_store(f"sqlite:///{path}")
    try:
        _check_v6(store)
    finally:
        store.close()


# -- version 8: several scenarios in one store --------------------------------------------------------


def test_a_v3_store_s_one_scenario_becomes_the_default_scenario(tmp_path):
    path = tmp_path / "v3.sqlite"
    shutil.copyfile(V3_FILE, path)
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.scenario_ids() == ["default"]  # "v1 fixture" is no shipped pack
        assert store.scenario().name == "v1 fixture"
        stamped = store.frame("SELECT scenario_id, COUNT(*) AS n FROM incidents GROUP BY scenario_id")
        assert stamped.values.tolist() == [["default", store.count()]]
        assert store.frame("SELECT DISTINCT scenario_id FROM batches")["scenario_id"].tolist() == ["default"]
        assert set(store.frame("SELECT DISTINCT scenario_id FROM audit_log")["scenario_id"]) <= {""}
    finally:
        store.close()


@pytest.mark.postgis
def test_current_code_opens_a_v3_postgis_database_into_schema_6_sessions_and_attempts(postgis_url):
    import psycopg

    _copy_v3_into_postgis(postgis_url)
    with psycopg.connect(postgis_url) as pg:
        at = pd.Timestamp(NOW) - pd.Timedelta(minutes=1)
        _v6_rows(lambda sql, p: pg.execute(sql.replace("?", "%s"), p), at)
    store = open_store(postgis_url)
    try:
        _check_v6(store)
    finally:
        store.close()


def test_current_code_opens_a_v5_sqlite_file_with_every_report_ungraded(tmp_path):
    from geo.core.auth import Principal
    from geo.services.ingest import set_grading

    conn = sqlite3.connect(V5_FILE)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("5",)
        columns = [r[1] for r in conn.execute("PRAGMA table_info(incidents)")]
        rows = "SELECT incident_id, source_event_id, description, verdict FROM incidents ORDER BY incident_id"
        before = conn.execute(rows).fetchall()
    finally:
        conn.close()
    assert "source_reliability" not in columns
    path = tmp_path / "v5.sqlite"
    shutil.copyfile(V5_FILE, path)
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        view = store.query(order="incident_id")
        kept = view[["incident_id", "source_event_id", "description", "verdict"]].values.tolist()
        assert kept == [list(r) for r in before]
        assert set(view["source_reliability"]) == set(view["info_credibility"]) == {""}
        assert set(view["verdict_note"]) == {""}
        assert store.count(Filters(grade="F6")) == 0
        set_grading(store, 1, "C", "3", actor=Principal("ana", "analyst"))
        assert store.count(Filters(grade="C3")) == 1
    finally:
        store.close()


def test_a_single_scenario_store_of_the_previous_schema_migrates(tmp_path):
    path = tmp_path / "v5.sqlite"
    shutil.copyfile(V5_KOREA, path)
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.scenario_ids() == ["korea"]  # recognised as the shipped pack it was loaded from
        assert store.scenario_id == "korea" and store.meta("scenario") is None
        korea = store.scenario()
        assert korea.name.startswith("Korean Peninsula") and len(korea.zones) == 6
        assert store.count() == 40
        assert store.frame("SELECT DISTINCT scenario_id FROM incidents")["scenario_id"].tolist() == ["korea"]
        verdicts = store.query(columns=["incident_id", "verdict"])
        load_pack(store, "lebanon-2024", n=10)
        assert store.scenario_ids() == ["korea", "lebanon-2024"]
        assert (store.count(), store.using("lebanon-2024").count()) == (40, 159)
        pd.testing.assert_frame_equal(store.query(columns=["incident_id", "verdict"]), verdicts)
        # Uploads without a scenario go to the default one, as before.
        assert ingest_file(store, V5_KOREA.parent / "v3_monitor.csv").accepted >= 1
    finally:
        store.close()


def test_a_v3_file_gets_its_audit_log_hash_chained(tmp_path):
    """Migration 9: the audit entries already there get their hashes, the chain verifies, rewrites fail."""
    from geo.services.audit import verify_audit
    from tests.store.test_audit_chain import GENESIS, canonical_hash

    path = tmp_path / "v3.sqlite"
    shutil.copyfile(V3_FILE, path)
    store = open_store(f"sqlite:///{path}")
    try:
        rows = store.frame("SELECT * FROM audit_log ORDER BY entry_id").to_dict("records")
        assert [(r["entry_id"], r["action"]) for r in rows] == [(1, "upload"), (2, "upload")]
        prev = GENESIS
        for row in rows:
            assert row["prev_hash"] == prev
            assert row["entry_hash"] == canonical_hash(row, prev)
            prev = row["entry_hash"]
        assert verify_audit(store).ok
        with pytest.raises(Exception, match="append-only"), store.write() as tx:
            tx.execute("INSERT OR REPLACE INTO audit_log SELECT * FROM audit_log WHERE entry_id = 1")
    finally:
        store.close()


def test_a_store_of_schema_5_gets_the_api_tables_and_its_incidents_stay_readable(tmp_path):
    """Migration 10: API tokens, form mappings and seen submissions; nothing before them changes."""
    from geo.services.forms import FormMapping, get_mapping, set_mapping
    from geo.services.tokens import add_token, list_tokens, token_for

    path = tmp_path / "v5.sqlite"
    shutil.copyfile(V5_KOREA, path)
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert not tables & {"api_tokens", "form_mappings", "submissions"}
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.count() == 40
        assert list_tokens(store) == []
        secret = add_token(store, "phone-1", "analyst")
        assert token_for(store, secret).scenario_id == "korea"
        set_mapping(store, FormMapping("form1", {"category": "what"}))
        assert get_mapping(store, "form1") == FormMapping("form1", {"category": "what"})
        assert store.frame("SELECT COUNT(*) AS n FROM submissions")["n"].iloc[0] == 0
    finally:
        store.close()


def test_a_schema_9_store_gets_empty_alert_tables_that_work(tmp_path):
    """Migration 11 (10 on the way): alert subscriptions and deliveries, empty; an upload queues alerts."""
    from geo.services import alerts

    path = tmp_path / "v9.sqlite"
    shutil.copyfile(V9_KOREA, path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("9",)
    conn.close()
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.scalar("SELECT COUNT(*) FROM alert_subscriptions") == 0
        assert store.scalar("SELECT COUNT(*) FROM alert_deliveries") == 0
        assert store.count() == 40 and store.scenario_ids() == ["korea"]
        alerts.add_subscription(store, "all", webhook="https://example.org/hook")
        with pytest.raises(Exception, match="UNIQUE"), store.write() as tx:
            tx.execute(
                "INSERT INTO alert_subscriptions SELECT subscription_id + 1, scenario_id, name, channel, "
                "target, secret, zones, parties, verdicts, spikes, digest, retries, backoff_s, created_by, "
                "created_us FROM alert_subscriptions"
            )
        summary = ingest_file(store, write_incidents_csv(tmp_path / "new.csv", 200), now=NOW)
        queued = store.scalar("SELECT COUNT(*) FROM alert_deliveries WHERE status = 'pending'")
        found = store.query(Filters(verdicts=("breach", "possible_breach")), columns=["batch_id"])
        assert queued == int((found["batch_id"] == summary.batch_id).sum()) > 0
    finally:
        store.close()


INCIDENT_INDEXES = {"incidents_batch", "incidents_content_hash", "incidents_latlon", "incidents_scenario"}
"""The named indexes of ``incidents`` in SQLite since migration 12 (besides the unique key)."""


def _incident_indexes(store) -> set[str]:
    if store.dialect == "sqlite":  # the unique key's automatic index has no SQL
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' AND sql NOT NULL"
        )
    else:
        sql = (
            "SELECT indexname AS name FROM pg_indexes "
            "WHERE tablename = 'incidents' AND indexname <> 'incidents_pkey'"
        )
    return set(store.frame(sql)["name"])


def test_migration_12_drops_the_indexes_no_query_needs_and_searches_still_use_the_scenario_s(tmp_path):
    """A schema-9 file loses the time, verdict, party and category indexes, as a new store never has them."""
    path = tmp_path / "v9.sqlite"
    shutil.copyfile(V9_KOREA, path)
    conn = sqlite3.connect(path)
    before = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'incidents'")}
    conn.close()
    assert {"incidents_time", "incidents_verdict", "incidents_party", "incidents_category"} <= before
    old, new = open_store(f"sqlite:///{path}"), open_store(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert _incident_indexes(old) == _incident_indexes(new) == INCIDENT_INDEXES
        plan = " ".join(
            str(row)
            for row in old.frame(
                "EXPLAIN QUERY PLAN SELECT incident_id FROM incidents WHERE scenario_id = 'korea' "
                "AND verdict IN ('breach') AND occurred_at >= 0 ORDER BY occurred_at DESC LIMIT 10"
            ).to_numpy()
        )
        assert "incidents_scenario" in plan
        verdicts = old.query()["verdict"]
        for verdict in ("breach", "no_breach"):
            assert old.count(Filters(verdicts=(verdict,))) == (verdicts == verdict).sum() > 0
    finally:
        old.close()
        new.close()


@pytest.mark.postgis
def test_a_postgis_store_has_the_same_incident_indexes_less_latlon_plus_its_point_index(postgis_url):
    store = open_store(postgis_url)
    try:
        assert _incident_indexes(store) == (INCIDENT_INDEXES - {"incidents_latlon"}) | {
            "incidents_geom",
            "incidents_scenario_event",
        }
    finally:
        store.close()
