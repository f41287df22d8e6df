"""The audit log is a hash chain: rewrites are refused, and what gets past the triggers is found.

The attacks of the hardening review, each reproduced on SQLite and PostGIS:
``INSERT OR REPLACE`` (it deleted without firing DELETE triggers), ``DROP TRIGGER`` then
``DELETE``/``UPDATE``, a truncated tail, and sign-in names holding terminal escapes or
2 MB of text. The expected hashes are computed here from the documented canonical
encoding, not with geo's own function.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from geo._errors import AuthenticationError, InputError
from geo.cli import cli
from geo.core.auth import OPERATOR, Principal
from geo.services.accounts import add_user, authenticate, set_disabled
from geo.services.audit import verify_audit
from geo.services.settings import set_setting

GENESIS = "0" * 64
COLUMNS = "entry_id, at, user_name, action, target, before, after, prev_hash, entry_hash"
ESCAPES = "\x1b[2J\x1b[H2026-07-01 03:30:00  cli        user_set       admin  {}\u202e"


def canonical_hash(row: dict, prev: str) -> str:
    """SHA-256 of the compact JSON array the docs describe (docs/security.md)."""
    at = pd.Timestamp(row["at"]).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [int(row["entry_id"]), at, row["user_name"], row["action"], row["target"], row["before"],
              row["after"], row["scenario_id"], prev]  # fmt: skip
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


@pytest.fixture
def audited(store):
    """A store with a few audited changes: accounts, a setting, a sign-in."""
    add_user(store, "ada", "admin", "correct horse battery")
    add_user(store, "ana", "analyst", "correct horse battery")
    set_setting(store, "public_read", True, actor=OPERATOR)
    authenticate(store, "ana", "correct horse battery")
    set_disabled(store, "ana", True)
    return store


def entries(store) -> list[dict]:
    return store.frame("SELECT * FROM audit_log ORDER BY entry_id").to_dict("records")


def drop_triggers(store) -> None:
    with store.write() as tx:
        if store.dialect == "sqlite":
            for name in ("audit_log_no_update", "audit_log_no_delete", "audit_log_append_only_insert"):
                tx.execute(f"DROP TRIGGER {name}")
        else:
            for name in ("audit_log_no_change", "audit_log_no_truncate", "audit_log_append_only_insert"):
                tx.execute(f"DROP TRIGGER {name} ON audit_log")


def test_every_entry_carries_the_hash_of_the_one_before(audited):
    rows = entries(audited)
    assert len(rows) >= 5
    prev = GENESIS
    for expected_id, row in enumerate(rows, start=1):
        assert row["entry_id"] == expected_id
        assert row["prev_hash"] == prev
        assert row["entry_hash"] == canonical_hash(row, prev)
        prev = row["entry_hash"]
    check = verify_audit(audited)
    assert check.ok, check.problems
    assert (check.entries, check.head_id, check.head_hash) == (len(rows), len(rows), prev)
    assert audited.meta("audit_head") == f"{len(rows)}:{prev}"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE entry_id = 2",
        f"INSERT {{or_replace}} INTO audit_log ({COLUMNS}) SELECT entry_id, at, user_name, 'export', "
        "target, before, after, prev_hash, entry_hash FROM audit_log WHERE entry_id = 2 {on_conflict}",
        f"INSERT INTO audit_log ({COLUMNS}) SELECT MAX(entry_id) + 1, MAX(at), 'mallory', 'export', 'x', "
        "'{{}}', '{{}}', 'forged', 'forged' FROM audit_log",
    ],
    ids=["update", "delete-all", "delete-one", "insert-or-replace", "insert-forged-link"],
)
def test_rewrites_are_refused(audited, sql):
    before = entries(audited)
    sqlite = audited.dialect == "sqlite"
    statement = sql.format(
        or_replace="OR REPLACE" if sqlite else "",
        on_conflict="" if sqlite else
        "ON CONFLICT (entry_id) DO UPDATE SET action = excluded.action",
    )  # fmt: skip
    with pytest.raises(Exception, match="append-only"), audited.write() as tx:
        tx.execute(statement)
    assert entries(audited) == before
    assert verify_audit(audited).ok


@pytest.mark.postgis
def test_truncate_is_refused_on_postgis(postgis_url):
    from geo.store import open_store

    store = open_store(postgis_url)
    try:
        add_user(store, "ada", "admin", "correct horse battery")
        with pytest.raises(Exception, match="append-only"), store.write() as tx:
            tx.execute("TRUNCATE audit_log")
        assert store.scalar("SELECT COUNT(*) FROM audit_log") == 1
    finally:
        store.close()


def test_dropped_triggers_then_delete_is_found_naming_the_first_broken_entry(audited):
    drop_triggers(audited)
    with audited.write() as tx:
        tx.execute("DELETE FROM audit_log WHERE entry_id IN (2, 3)")
    check = verify_audit(audited)
    assert not check.ok
    assert check.broken_entry == 2
    assert check.problems[0] == "entry 2-3: missing (removed from the log)"
    assert any("trigger(s) refusing rewrites are missing" in p for p in check.problems)


def test_dropped_triggers_then_update_is_found(audited):
    drop_triggers(audited)
    with audited.write() as tx:
        tx.execute("UPDATE audit_log SET target = 'nobody' WHERE entry_id = 3")
    check = verify_audit(audited)
    assert check.broken_entry == 3
    assert check.problems[0] == "entry 3: changed after it was written (hash differs)"


def test_a_rewritten_entry_with_its_hash_recomputed_breaks_the_next_link(audited):
    drop_triggers(audited)
    row = entries(audited)[1]
    forged = {**row, "target": "nobody"}
    with audited.write() as tx:
        tx.execute(
            "UPDATE audit_log SET target = ?, entry_hash = ? WHERE entry_id = 2",
            ("nobody", canonical_hash(forged, row["prev_hash"])),
        )
    check = verify_audit(audited)
    assert check.problems[0] == "entry 3: does not follow entry 2 (prev_hash)"


def test_a_truncated_tail_is_found_by_the_recorded_head(audited):
    drop_triggers(audited)
    last = len(entries(audited))
    with audited.write() as tx:
        tx.execute("DELETE FROM audit_log WHERE entry_id >= ?", (last - 1,))
    check = verify_audit(audited)
    assert any(
        f"the log ends at entry {last - 2}, but the store recorded entry {last}" in p for p in check.problems
    )


def test_the_head_file_finds_a_tail_removed_with_the_recorded_head(store, tmp_path, monkeypatch):
    head = tmp_path / "audit.head"
    monkeypatch.setenv("TRUCELINE_AUDIT_HEAD", str(head))
    add_user(store, "ada", "admin", "correct horse battery")
    set_setting(store, "public_read", True, actor=OPERATOR)
    set_setting(store, "public_read", False, actor=OPERATOR)
    rows = entries(store)
    lines = head.read_text().splitlines()
    assert lines == [f"{r['entry_id']} {r['entry_hash']}" for r in rows]
    assert verify_audit(store).ok
    drop_triggers(store)
    with store.write() as tx:  # the attacker removes the last entry and rewrites the store's head
        tx.execute("DELETE FROM audit_log WHERE entry_id = ?", (len(rows),))
        tx.meta_set("audit_head", f"{len(rows) - 1}:{rows[-2]['entry_hash']}")
    check = verify_audit(store)
    assert (
        f"{head}: records entry {len(rows)}, but the log ends at entry {len(rows) - 1}" in check.problems[0]
    )


def test_a_rolled_back_change_writes_no_head(store, tmp_path, monkeypatch):
    head = tmp_path / "audit.head"
    monkeypatch.setenv("TRUCELINE_AUDIT_HEAD", str(head))
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.audit(OPERATOR, "setting", "x", {}, {})
        raise RuntimeError
    assert not head.exists()
    assert store.scalar("SELECT COUNT(*) FROM audit_log") == 0


def test_cli_audit_verify_exits_non_zero_naming_the_first_broken_entry(audited, monkeypatch):
    monkeypatch.setenv("TRUCELINE_DB", audited.dsn)
    ok = CliRunner().invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"audit log intact: {len(entries(audited))} entries" in ok.output
    drop_triggers(audited)
    with audited.write() as tx:
        tx.execute("DELETE FROM audit_log WHERE entry_id = 4")
    broken = CliRunner().invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1, broken.output
    assert "Error: audit log broken: entry 4: missing (removed from the log)" in broken.output


def test_names_with_terminal_escapes_are_printed_escaped(store, monkeypatch):
    monkeypatch.setenv("TRUCELINE_DB", store.dsn)
    set_setting(store, "public_read", True, actor=Principal(ESCAPES, "admin"))  # e.g. an OIDC display name
    out = CliRunner().invoke(cli, ["audit"]).output
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[2J\\x1b[H2026-07-01" in out
    assert "\\u202e" in out
    assert len(out.strip().splitlines()) == 1  # no forged line


def test_sign_in_names_with_escapes_or_megabytes_are_refused_and_not_stored(store):
    add_user(store, "ada", "admin", "correct horse battery")
    before = store.scalar("SELECT COUNT(*) FROM audit_log")
    for name in (ESCAPES, "a" * 2_000_000, "ada\n", ""):
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            authenticate(store, name, "correct horse battery")
    assert store.scalar("SELECT COUNT(*) FROM audit_log") == before
    assert store.scalar("SELECT COUNT(*) FROM login_attempts") == 0


def test_user_names_have_length_and_character_limits(store):
    for name in ("a" * 65, "a b", "x\x1b[2J", "\u202eadmin", "", "a/b"):
        with pytest.raises(InputError, match="user name"):
            add_user(store, name, "viewer", "correct horse battery")
    for name in ("a" * 64, "José.d-1", "ops@mission.org", "김철수"):
        add_user(store, name, "viewer", "correct horse battery")


def test_audit_entries_clip_huge_names(store):
    set_setting(store, "public_read", True, actor=Principal("m" * 2_000_000, "admin"))
    stored = store.scalar("SELECT user_name FROM audit_log")
    assert len(stored) == 256 and stored.endswith("\u2026")
    assert verify_audit(store).ok


def test_new_store_has_the_rewrite_triggers(store):
    assert verify_audit(store).ok
    assert verify_audit(store).entries == 0
