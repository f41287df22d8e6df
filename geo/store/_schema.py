"""The store schema, as ordered migrations per dialect.

A store records its version in ``meta.schema_version``; opening an older store applies
the missing migrations in one transaction. Never edit a released migration: add one.
"""

from __future__ import annotations

# Dialect words: {TS} timestamp, {GEOM} scenario geometry, {BLOB} raw bytes, {REAL} float.
_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE parties (id TEXT PRIMARY KEY, name TEXT NOT NULL, short_name TEXT NOT NULL,
    colour TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE lines (id TEXT PRIMARY KEY, name TEXT NOT NULL, agreement TEXT NOT NULL,
    left_party TEXT, right_party TEXT, valid_from DATE, valid_to DATE, source TEXT NOT NULL,
    position INTEGER NOT NULL, geometry {GEOM} NOT NULL);
CREATE TABLE zones (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, valid_from DATE,
    valid_to DATE, line TEXT, width_m {REAL}, side TEXT, source TEXT NOT NULL,
    position INTEGER NOT NULL, geometry {GEOM} NOT NULL);
CREATE TABLE rules (id TEXT PRIMARY KEY, zone TEXT NOT NULL, prohibits TEXT NOT NULL,
    parties TEXT NOT NULL, severity TEXT NOT NULL, text TEXT NOT NULL, valid_from DATE, valid_to DATE,
    weapon_classes TEXT NOT NULL, position INTEGER NOT NULL);
CREATE TABLE party_mapping (position INTEGER PRIMARY KEY, pattern TEXT NOT NULL, match TEXT NOT NULL,
    party TEXT NOT NULL);
CREATE TABLE batches (batch_id BIGINT PRIMARY KEY, user_name TEXT NOT NULL, file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL, format TEXT NOT NULL, encoding TEXT NOT NULL, source TEXT NOT NULL,
    rows_read BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
    duplicate BIGINT NOT NULL, near_duplicates BIGINT NOT NULL, new_breaches BIGINT NOT NULL,
    warnings TEXT NOT NULL, status TEXT NOT NULL, started_at {TS} NOT NULL, finished_at {TS});
CREATE TABLE rejected_rows (batch_id BIGINT NOT NULL, line_no BIGINT NOT NULL, reason TEXT NOT NULL,
    raw TEXT NOT NULL, PRIMARY KEY (batch_id, line_no));
CREATE TABLE incidents (
    incident_id BIGINT PRIMARY KEY,
    source TEXT NOT NULL, source_event_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    occurred_at {TS} NOT NULL, occurred_from {TS} NOT NULL, occurred_to {TS} NOT NULL,
    date_precision TEXT NOT NULL, lon {REAL} NOT NULL, lat {REAL} NOT NULL,
    location_precision TEXT NOT NULL, location_uncertainty_m {REAL}, location_name TEXT NOT NULL,
    category TEXT NOT NULL, sub_category TEXT NOT NULL, weapon_class TEXT NOT NULL, actor TEXT NOT NULL,
    target TEXT NOT NULL, party TEXT NOT NULL, party_basis TEXT NOT NULL, fatalities BIGINT,
    description TEXT NOT NULL, verification TEXT NOT NULL,
    batch_id BIGINT NOT NULL, ingested_at {TS} NOT NULL, near_duplicate_of BIGINT,
    zones TEXT NOT NULL, nearest_line TEXT NOT NULL, distance_m {REAL}, side TEXT NOT NULL,
    side_party TEXT NOT NULL, attributed_party TEXT NOT NULL, attribution TEXT NOT NULL,
    verdict TEXT NOT NULL, rules TEXT NOT NULL, verdict_reason TEXT NOT NULL,
    UNIQUE (source, source_event_id), UNIQUE (content_hash));
CREATE INDEX incidents_time ON incidents (occurred_at);
CREATE INDEX incidents_verdict ON incidents (verdict, occurred_at);
CREATE INDEX incidents_party ON incidents (attributed_party, occurred_at);
CREATE INDEX incidents_category ON incidents (category, occurred_at);
CREATE INDEX incidents_batch ON incidents (batch_id);
CREATE TABLE incident_zones (zone_id TEXT NOT NULL, incident_id BIGINT NOT NULL,
    PRIMARY KEY (zone_id, incident_id));
CREATE INDEX incident_zones_incident ON incident_zones (incident_id);
"""

_V1_SQLITE = """
CREATE INDEX incidents_latlon ON incidents (lat, lon);
"""

_POSTGIS_EXTENSION = "CREATE EXTENSION IF NOT EXISTS postgis;\n"

_V1_POSTGIS = """
ALTER TABLE incidents ADD COLUMN geom geometry(Point, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED;
CREATE INDEX incidents_geom ON incidents USING GIST (geom);
CREATE INDEX lines_geometry ON lines USING GIST (geometry);
CREATE INDEX zones_geometry ON zones USING GIST (geometry);
"""

_V2 = """
CREATE TABLE verification_log (incident_id BIGINT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL,
    user_name TEXT NOT NULL, at {TS} NOT NULL, note TEXT NOT NULL);
CREATE INDEX verification_log_incident ON verification_log (incident_id);
CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    created_at {TS} NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE login_attempts (name TEXT NOT NULL, at {TS} NOT NULL, ok INTEGER NOT NULL);
CREATE INDEX login_attempts_name ON login_attempts (name, at);
CREATE TABLE audit_log (entry_id BIGINT PRIMARY KEY, at {TS} NOT NULL, user_name TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL);
"""

_V2_SQLITE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_V2_POSTGIS = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""

_INCIDENT_COLUMNS_V1 = """incident_id, source, source_event_id, content_hash, occurred_at, occurred_from,
    occurred_to, date_precision, lon, lat, location_precision, location_uncertainty_m, location_name,
    category, sub_category, weapon_class, actor, target, party, party_basis, fatalities, description,
    verification, batch_id, ingested_at, near_duplicate_of, zones, nearest_line, distance_m, side,
    side_party, attributed_party, attribution, verdict, rules, verdict_reason"""

# v3, SQLite only: ``incident_id`` becomes the rowid (``INTEGER PRIMARY KEY``), so the table
# needs no separate key index and id ranges are read straight from the table; zone links
# become a WITHOUT ROWID table (one tree instead of two). Same columns, constraints, indexes.
_V3_SQLITE = (
    """
CREATE TABLE incidents_v3 (
    incident_id INTEGER PRIMARY KEY,
    source TEXT NOT NULL, source_event_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    occurred_at INTEGER NOT NULL, occurred_from INTEGER NOT NULL, occurred_to INTEGER NOT NULL,
    date_precision TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
    location_precision TEXT NOT NULL, location_uncertainty_m REAL, location_name TEXT NOT NULL,
    category TEXT NOT NULL, sub_category TEXT NOT NULL, weapon_class TEXT NOT NULL, actor TEXT NOT NULL,
    target TEXT NOT NULL, party TEXT NOT NULL, party_basis TEXT NOT NULL, fatalities BIGINT,
    description TEXT NOT NULL, verification TEXT NOT NULL,
    batch_id BIGINT NOT NULL, ingested_at INTEGER NOT NULL, near_duplicate_of BIGINT,
    zones TEXT NOT NULL, nearest_line TEXT NOT NULL, distance_m REAL, side TEXT NOT NULL,
    side_party TEXT NOT NULL, attributed_party TEXT NOT NULL, attribution TEXT NOT NULL,
    verdict TEXT NOT NULL, rules TEXT NOT NULL, verdict_reason TEXT NOT NULL,
    UNIQUE (source, source_event_id), UNIQUE (content_hash));
"""
    + f"INSERT INTO incidents_v3 ({_INCIDENT_COLUMNS_V1})\n"
    + f"    SELECT {_INCIDENT_COLUMNS_V1} FROM incidents ORDER BY incident_id;\n"
    + """
DROP TABLE incidents;
ALTER TABLE incidents_v3 RENAME TO incidents;
CREATE INDEX incidents_time ON incidents (occurred_at);
CREATE INDEX incidents_verdict ON incidents (verdict, occurred_at);
CREATE INDEX incidents_party ON incidents (attributed_party, occurred_at);
CREATE INDEX incidents_category ON incidents (category, occurred_at);
CREATE INDEX incidents_batch ON incidents (batch_id);
CREATE INDEX incidents_latlon ON incidents (lat, lon);
CREATE TABLE incident_zones_v3 (zone_id TEXT NOT NULL, incident_id BIGINT NOT NULL,
    PRIMARY KEY (zone_id, incident_id)) WITHOUT ROWID;
INSERT INTO incident_zones_v3 (zone_id, incident_id) SELECT zone_id, incident_id FROM incident_zones;
DROP TABLE incident_zones;
ALTER TABLE incident_zones_v3 RENAME TO incident_zones;
CREATE INDEX incident_zones_incident ON incident_zones (incident_id);
"""
)

_V3_POSTGIS = ""  # PostgreSQL already keys incidents by their id alone

# v4: rows with distinct event ids are never merged by content, so the content hash is no
# longer unique (an index serves the look-alike search); near-duplicate flags become links
# (pairs with a kind and a review status) and their groups; the text filter reads folded
# copies of the searched text. The hashes and folded text are then (re)computed in Python
# (geo.store._migrate), in the same transaction.
_V4_LINKS = """
CREATE TABLE incident_links (incident_id BIGINT NOT NULL, other_id BIGINT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, distance_m {REAL}, gap_s {REAL}, batch_id BIGINT NOT NULL,
    reviewed_by TEXT NOT NULL DEFAULT '', reviewed_at {TS}, note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, other_id));
INSERT INTO incident_links (incident_id, other_id, kind, status, batch_id)
    SELECT incident_id, near_duplicate_of, 'cross_source', 'unreviewed', batch_id FROM incidents
    WHERE near_duplicate_of IS NOT NULL;
CREATE INDEX incident_links_other ON incident_links (other_id);
CREATE INDEX incident_links_status ON incident_links (status, kind);
CREATE TABLE incident_groups (incident_id BIGINT PRIMARY KEY, group_id BIGINT NOT NULL,
    unit_id BIGINT NOT NULL);
ALTER TABLE batches ADD COLUMN lookalikes BIGINT NOT NULL DEFAULT 0;
"""

_INCIDENT_COLUMNS_V4 = """incident_id, source, source_event_id, content_hash, occurred_at, occurred_from,
    occurred_to, date_precision, lon, lat, location_precision, location_uncertainty_m, location_name,
    category, sub_category, weapon_class, actor, target, party, party_basis, fatalities, description,
    verification, batch_id, ingested_at, zones, nearest_line, distance_m, side, side_party,
    attributed_party, attribution, verdict, rules, verdict_reason"""

_V4_SQLITE = (
    _V4_LINKS
    + """
CREATE TABLE incidents_v4 (
    incident_id INTEGER PRIMARY KEY,
    source TEXT NOT NULL, source_event_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    occurred_at INTEGER NOT NULL, occurred_from INTEGER NOT NULL, occurred_to INTEGER NOT NULL,
    date_precision TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
    location_precision TEXT NOT NULL, location_uncertainty_m REAL, location_name TEXT NOT NULL,
    category TEXT NOT NULL, sub_category TEXT NOT NULL, weapon_class TEXT NOT NULL, actor TEXT NOT NULL,
    target TEXT NOT NULL, party TEXT NOT NULL, party_basis TEXT NOT NULL, fatalities BIGINT,
    description TEXT NOT NULL, verification TEXT NOT NULL,
    batch_id BIGINT NOT NULL, ingested_at INTEGER NOT NULL,
    zones TEXT NOT NULL, nearest_line TEXT NOT NULL, distance_m REAL, side TEXT NOT NULL,
    side_party TEXT NOT NULL, attributed_party TEXT NOT NULL, attribution TEXT NOT NULL,
    verdict TEXT NOT NULL, rules TEXT NOT NULL, verdict_reason TEXT NOT NULL,
    description_folded TEXT NOT NULL DEFAULT '', actor_folded TEXT NOT NULL DEFAULT '',
    UNIQUE (source, source_event_id));
"""
    + f"INSERT INTO incidents_v4 ({_INCIDENT_COLUMNS_V4})\n"
    + f"    SELECT {_INCIDENT_COLUMNS_V4} FROM incidents ORDER BY incident_id;\n"
    + """
DROP TABLE incidents;
ALTER TABLE incidents_v4 RENAME TO incidents;
CREATE INDEX incidents_time ON incidents (occurred_at);
CREATE INDEX incidents_verdict ON incidents (verdict, occurred_at);
CREATE INDEX incidents_party ON incidents (attributed_party, occurred_at);
CREATE INDEX incidents_category ON incidents (category, occurred_at);
CREATE INDEX incidents_batch ON incidents (batch_id);
CREATE INDEX incidents_latlon ON incidents (lat, lon);
CREATE INDEX incidents_content_hash ON incidents (content_hash);
"""
)

_V4_POSTGIS = (
    _V4_LINKS
    + """
ALTER TABLE incidents DROP CONSTRAINT incidents_content_hash_key;
CREATE INDEX incidents_content_hash ON incidents (content_hash);
ALTER TABLE incidents DROP COLUMN near_duplicate_of;
ALTER TABLE incidents ADD COLUMN description_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN actor_folded TEXT NOT NULL DEFAULT '';
"""
)

# v5: an upload records the key of what was uploaded (the file's SHA-256 with the options it was
# read with and the scenario it was read against), so that an unchanged re-upload is recognised
# without reading its rows. Batches stored before have an empty key and are never matched. The
# store gets a random id (meta.store_id, geo.store._migrate), which files derived from it carry.
_V5 = """
ALTER TABLE batches ADD COLUMN upload_key TEXT NOT NULL DEFAULT '';
"""

# v6: sign-ins that last and cannot be turned against users. A session is a row keyed by the
# SHA-256 of its random id (the id itself lives only in the browser's cookie); a ticket lets the
# browser exchange it for that cookie once. Setup tokens let the first administrator be created
# on the web only by whoever reads the server's console. Sign-in attempts record the client
# address and their state, so that limits count per account and client and a pending attempt
# counts before its password is checked.
_V6 = """
CREATE TABLE sessions (session_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, role TEXT NOT NULL,
    kind TEXT NOT NULL, client TEXT NOT NULL, created_at {TS} NOT NULL, last_seen {TS} NOT NULL,
    expires_at {TS} NOT NULL, ended_at {TS}, end_reason TEXT NOT NULL DEFAULT '');
CREATE INDEX sessions_user ON sessions (user_name);
CREATE TABLE session_tickets (ticket_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL,
    expires_at {TS} NOT NULL);
CREATE TABLE setup_tokens (token_hash TEXT PRIMARY KEY, created_at {TS} NOT NULL,
    expires_at {TS} NOT NULL, used_at {TS}, used_by TEXT NOT NULL DEFAULT '');
ALTER TABLE login_attempts ADD COLUMN client TEXT NOT NULL DEFAULT '';
ALTER TABLE login_attempts ADD COLUMN attempt TEXT NOT NULL DEFAULT '';
ALTER TABLE login_attempts ADD COLUMN state TEXT NOT NULL DEFAULT '';
CREATE INDEX login_attempts_client ON login_attempts (client, at);
CREATE INDEX login_attempts_attempt ON login_attempts (attempt);
"""

# v7: each report's Admiralty grading (geo.core.grading): source reliability A-F and information
# credibility 1-6, empty when not graded. Evidence files (geo.services.evidence): one row per file,
# content-addressed by SHA-256 (the bytes live in the evidence directory), and its attachments.
_V7 = """
ALTER TABLE incidents ADD COLUMN source_reliability TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN info_credibility TEXT NOT NULL DEFAULT '';
CREATE INDEX incident_groups_group ON incident_groups (group_id);
CREATE TABLE evidence (sha256 TEXT PRIMARY KEY, media_type TEXT NOT NULL, size BIGINT NOT NULL,
    stored_at {TS} NOT NULL, exif_time {TS}, exif_lon {REAL}, exif_lat {REAL});
CREATE TABLE incident_evidence (incident_id BIGINT NOT NULL, sha256 TEXT NOT NULL, file_name TEXT NOT NULL,
    note TEXT NOT NULL, added_by TEXT NOT NULL, added_at {TS} NOT NULL, PRIMARY KEY (incident_id, sha256));
CREATE INDEX incident_evidence_sha256 ON incident_evidence (sha256);
"""

# v8: several scenarios side by side. A ``scenarios`` table holds each scenario's id, position
# and metadata; the scenario tables are keyed by (scenario_id, id); incidents, uploads and
# audit entries carry the scenario they belong to, and an event id is unique within its
# scenario (the same ACLED event may sit in two ceasefires). ``user_scenarios`` binds a user
# to the scenarios they may see (none: all). The data step (geo.store._migrate) names the
# scenario an existing store held and stamps its rows with it.
_V8_COMMON = """
CREATE TABLE scenarios (scenario_id TEXT PRIMARY KEY, position INTEGER NOT NULL, meta TEXT NOT NULL);
CREATE TABLE user_scenarios (name TEXT NOT NULL, scenario_id TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (name, scenario_id));
ALTER TABLE batches ADD COLUMN scenario_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN scenario_id TEXT NOT NULL DEFAULT '';
"""

_V8_SCENARIO_TABLES_SQLITE = """
CREATE TABLE parties_v8 (scenario_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
    short_name TEXT NOT NULL, colour TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (scenario_id, id));
INSERT INTO parties_v8 SELECT '', id, name, short_name, colour, position FROM parties;
DROP TABLE parties;
ALTER TABLE parties_v8 RENAME TO parties;
CREATE TABLE lines_v8 (scenario_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
    agreement TEXT NOT NULL, left_party TEXT, right_party TEXT, valid_from DATE, valid_to DATE,
    source TEXT NOT NULL, position INTEGER NOT NULL, geometry BLOB NOT NULL, PRIMARY KEY (scenario_id, id));
INSERT INTO lines_v8 SELECT '', id, name, agreement, left_party, right_party, valid_from, valid_to, source,
    position, geometry FROM lines;
DROP TABLE lines;
ALTER TABLE lines_v8 RENAME TO lines;
CREATE TABLE zones_v8 (scenario_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    valid_from DATE, valid_to DATE, line TEXT, width_m REAL, side TEXT, source TEXT NOT NULL,
    position INTEGER NOT NULL, geometry BLOB NOT NULL, PRIMARY KEY (scenario_id, id));
INSERT INTO zones_v8 SELECT '', id, name, kind, valid_from, valid_to, line, width_m, side, source, position,
    geometry FROM zones;
DROP TABLE zones;
ALTER TABLE zones_v8 RENAME TO zones;
CREATE TABLE rules_v8 (scenario_id TEXT NOT NULL, id TEXT NOT NULL, zone TEXT NOT NULL,
    prohibits TEXT NOT NULL, parties TEXT NOT NULL, severity TEXT NOT NULL, text TEXT NOT NULL,
    valid_from DATE, valid_to DATE, weapon_classes TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (scenario_id, id));
INSERT INTO rules_v8 SELECT '', id, zone, prohibits, parties, severity, text, valid_from, valid_to,
    weapon_classes, position FROM rules;
DROP TABLE rules;
ALTER TABLE rules_v8 RENAME TO rules;
CREATE TABLE party_mapping_v8 (scenario_id TEXT NOT NULL, position INTEGER NOT NULL, pattern TEXT NOT NULL,
    match TEXT NOT NULL, party TEXT NOT NULL, PRIMARY KEY (scenario_id, position));
INSERT INTO party_mapping_v8 SELECT '', position, pattern, match, party FROM party_mapping;
DROP TABLE party_mapping;
ALTER TABLE party_mapping_v8 RENAME TO party_mapping;
"""

_INCIDENT_COLUMNS_V8 = (
    _INCIDENT_COLUMNS_V4 + ", description_folded, actor_folded, source_reliability, info_credibility"
)

_V8_SQLITE = (
    _V8_COMMON
    + _V8_SCENARIO_TABLES_SQLITE
    + """
CREATE TABLE incidents_v8 (
    incident_id INTEGER PRIMARY KEY,
    source TEXT NOT NULL, source_event_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    occurred_at INTEGER NOT NULL, occurred_from INTEGER NOT NULL, occurred_to INTEGER NOT NULL,
    date_precision TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
    location_precision TEXT NOT NULL, location_uncertainty_m REAL, location_name TEXT NOT NULL,
    category TEXT NOT NULL, sub_category TEXT NOT NULL, weapon_class TEXT NOT NULL, actor TEXT NOT NULL,
    target TEXT NOT NULL, party TEXT NOT NULL, party_basis TEXT NOT NULL, fatalities BIGINT,
    description TEXT NOT NULL, verification TEXT NOT NULL,
    batch_id BIGINT NOT NULL, ingested_at INTEGER NOT NULL,
    zones TEXT NOT NULL, nearest_line TEXT NOT NULL, distance_m REAL, side TEXT NOT NULL,
    side_party TEXT NOT NULL, attributed_party TEXT NOT NULL, attribution TEXT NOT NULL,
    verdict TEXT NOT NULL, rules TEXT NOT NULL, verdict_reason TEXT NOT NULL,
    description_folded TEXT NOT NULL DEFAULT '', actor_folded TEXT NOT NULL DEFAULT '',
    source_reliability TEXT NOT NULL DEFAULT '', info_credibility TEXT NOT NULL DEFAULT '',
    scenario_id TEXT NOT NULL DEFAULT '',
    UNIQUE (scenario_id, source, source_event_id));
"""
    + f"INSERT INTO incidents_v8 ({_INCIDENT_COLUMNS_V8})\n"
    + f"    SELECT {_INCIDENT_COLUMNS_V8} FROM incidents ORDER BY incident_id;\n"
    + """
DROP TABLE incidents;
ALTER TABLE incidents_v8 RENAME TO incidents;
CREATE INDEX incidents_time ON incidents (occurred_at);
CREATE INDEX incidents_verdict ON incidents (verdict, occurred_at);
CREATE INDEX incidents_party ON incidents (attributed_party, occurred_at);
CREATE INDEX incidents_category ON incidents (category, occurred_at);
CREATE INDEX incidents_batch ON incidents (batch_id);
CREATE INDEX incidents_latlon ON incidents (lat, lon);
CREATE INDEX incidents_content_hash ON incidents (content_hash);
CREATE INDEX incidents_scenario ON incidents (scenario_id, occurred_at);
"""
)

_V8_POSTGIS = (
    _V8_COMMON
    + "".join(
        f"ALTER TABLE {t} ADD COLUMN scenario_id TEXT NOT NULL DEFAULT '';\n"
        f"ALTER TABLE {t} DROP CONSTRAINT {t}_pkey;\n"
        f"ALTER TABLE {t} ADD PRIMARY KEY (scenario_id, {key});\n"
        for t, key in (("parties", "id"), ("lines", "id"), ("zones", "id"), ("rules", "id"),
                       ("party_mapping", "position"))
    )
    + """
ALTER TABLE incidents ADD COLUMN scenario_id TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents DROP CONSTRAINT incidents_source_source_event_id_key;
ALTER TABLE incidents ADD CONSTRAINT incidents_scenario_event UNIQUE (scenario_id, source, source_event_id);
CREATE INDEX incidents_scenario ON incidents (scenario_id, occurred_at);
"""
)

# v9: the audit log becomes a hash chain (geo.store._audit): each entry keeps the SHA-256 of
# the entry before it and its own. The rewrite triggers are dropped here, the hashes of the
# entries already there computed (geo.store._migrate), and the triggers of AUDIT_TRIGGERS
# created, stronger: an insert must extend the chain, so INSERT OR REPLACE (which deletes
# without firing DELETE triggers unless recursive_triggers is on) is refused too.
_V9_SQLITE = """
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN entry_hash TEXT NOT NULL DEFAULT '';
DROP TRIGGER IF EXISTS audit_log_no_update;
DROP TRIGGER IF EXISTS audit_log_no_delete;
"""

_V9_POSTGIS = """
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN entry_hash TEXT NOT NULL DEFAULT '';
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
"""

# v10: the HTTP API. Bearer tokens (only the SHA-256 of each is kept; a token belongs to one
# scenario), the stored KoboToolbox/ODK column mappings per scenario and form, and the
# submissions pulled or pushed from those servers (their id and content digest, to
# reconcile edits with the incident each became).
_V10 = """
CREATE TABLE api_tokens (name TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    scenario_id TEXT NOT NULL, created_at {TS} NOT NULL, created_by TEXT NOT NULL,
    revoked_at {TS});
CREATE TABLE form_mappings (scenario_id TEXT NOT NULL, form TEXT NOT NULL, mapping TEXT NOT NULL,
    updated_at {TS} NOT NULL, PRIMARY KEY (scenario_id, form));
CREATE TABLE submissions (scenario_id TEXT NOT NULL, server TEXT NOT NULL, form TEXT NOT NULL,
    submission_id TEXT NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL, event_id TEXT NOT NULL,
    seen_at {TS} NOT NULL, PRIMARY KEY (scenario_id, server, form, submission_id));
"""

# v11: alerts (geo.services.alerts). Subscriptions belong to one scenario; each delivery is
# one alert for one subscription, unique by (subscription, event key), so an incident or a
# spike is never queued twice for a subscription. Times of these tables are integer
# microseconds since the epoch (UTC) in both dialects: the queue compares them, never
# shows them raw.
_V11 = """
CREATE TABLE alert_subscriptions (subscription_id BIGINT PRIMARY KEY, scenario_id TEXT NOT NULL,
    name TEXT NOT NULL, channel TEXT NOT NULL, target TEXT NOT NULL, secret TEXT NOT NULL,
    zones TEXT NOT NULL, parties TEXT NOT NULL, verdicts TEXT NOT NULL, spikes INTEGER NOT NULL,
    digest TEXT NOT NULL, retries INTEGER NOT NULL, backoff_s {REAL} NOT NULL,
    created_by TEXT NOT NULL, created_us BIGINT NOT NULL, UNIQUE (scenario_id, name));
CREATE TABLE alert_deliveries (delivery_id BIGINT PRIMARY KEY, scenario_id TEXT NOT NULL,
    subscription_id BIGINT NOT NULL, event_key TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL, next_us BIGINT NOT NULL, lease_us BIGINT NOT NULL,
    worker TEXT NOT NULL, last_error TEXT NOT NULL, created_us BIGINT NOT NULL, sent_us BIGINT,
    digest_id BIGINT, UNIQUE (subscription_id, event_key));
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_us);
CREATE INDEX alert_deliveries_scenario ON alert_deliveries (scenario_id, status);
"""

_GENESIS = "0" * 64

AUDIT_TRIGGERS = {
    "sqlite": f"""
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_insert BEFORE INSERT ON audit_log
    WHEN NEW.entry_id IS NOT (SELECT COALESCE(MAX(entry_id), 0) + 1 FROM audit_log)
      OR NEW.prev_hash IS NOT COALESCE((SELECT entry_hash FROM audit_log ORDER BY entry_id DESC LIMIT 1),
                                       '{_GENESIS}')
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: an entry must extend the chain'); END;
""",
    "postgis": f"""
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE OR REPLACE FUNCTION audit_log_extends_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE last_id BIGINT; last_hash TEXT;
BEGIN
    SELECT entry_id, entry_hash INTO last_id, last_hash FROM audit_log ORDER BY entry_id DESC LIMIT 1;
    IF NEW.entry_id IS DISTINCT FROM COALESCE(last_id, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, '{_GENESIS}') THEN
        RAISE EXCEPTION 'the audit log is append-only: an entry must extend the chain';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_append_only_insert BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_extends_chain();
""",
}
"""The triggers that refuse any rewrite of the audit log (created by migration 9's data step)."""

_V12 = """
DROP INDEX IF EXISTS incidents_time;
DROP INDEX IF EXISTS incidents_verdict;
DROP INDEX IF EXISTS incidents_party;
DROP INDEX IF EXISTS incidents_category;
"""
"""Indexes no query needs: every read carries its scenario, which ``incidents_scenario``
(``scenario_id, occurred_at``) leads with; each cost an upload a random-order insert per row."""

DIALECT_WORDS = {
    "sqlite": {"TS": "INTEGER", "GEOM": "BLOB", "BLOB": "BLOB", "REAL": "REAL"},
    "postgis": {
        "TS": "TIMESTAMPTZ",
        "GEOM": "geometry(Geometry, 4326)",
        "BLOB": "BYTEA",
        "REAL": "DOUBLE PRECISION",
    },
}

MIGRATIONS: dict[str, list[str]] = {
    "sqlite": [
        _V1 + _V1_SQLITE,
        _V2 + _V2_SQLITE,
        _V3_SQLITE,
        _V4_SQLITE,
        _V5,
        _V6,
        _V7,
        _V8_SQLITE,
        _V9_SQLITE,
        _V10,
        _V11,
        _V12,
    ],
    "postgis": [
        _POSTGIS_EXTENSION + _V1 + _V1_POSTGIS,
        _V2 + _V2_POSTGIS,
        _V3_POSTGIS,
        _V4_POSTGIS,
        _V5,
        _V6,
        _V7,
        _V8_POSTGIS,
        _V9_POSTGIS,
        _V10,
        _V11,
        _V12,
    ],
}
"""``MIGRATIONS[dialect][v - 1]`` brings a store from version ``v - 1`` to ``v``."""

SCHEMA_VERSION = 12


def migration_sql(dialect: str, version: int) -> str:
    """The SQL that brings a ``dialect`` store to ``version`` from the version before."""
    return MIGRATIONS[dialect][version - 1].format(**DIALECT_WORDS[dialect])


def statements(sql: str) -> list[str]:
    """Split a migration into statements (``$$`` bodies kept whole)."""
    out, buf, in_body = [], [], False
    for line in sql.splitlines():
        buf.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            stmt = "\n".join(buf).strip()
            if stmt.strip(";").strip():
                out.append(stmt)
            buf = []
    return out
