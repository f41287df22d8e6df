"""Users & audit: accounts, settings and the audit log, for admins."""

from __future__ import annotations

import re
import sqlite3

from tests.dashboard.support import (
    ADMIN,
    ANALYST,
    BOTH_STORES,
    all_text,
    app,
    plain,
    query,
    scalar,
    signed_in,
)


def test_admin_sees_accounts_and_the_audit_log(db: str) -> None:
    at = app(ADMIN, page="admin")
    assert not at.exception
    users = at.dataframe[0].value
    assert sorted(users["Name"]) == ["ada", "ana", "vic"]
    assert "password_hash" not in users.columns
    log = at.dataframe[-1].value
    assert len(log) == int(scalar(db, "SELECT COUNT(*) FROM audit_log"))
    assert {"user_set", "scenario_load"} <= set(log["Action"])
    assert list(log["Entry"]) == sorted(log["Entry"], reverse=True)  # newest first
    at.text_input(key="a_action").set_value("user_set").run()
    filtered = at.dataframe[-1].value
    assert sorted(filtered["Target"]) == ["ada", "ana", "vic"]
    at.text_input(key="a_user").set_value("nobody").run()
    assert at.dataframe[-1].value.empty


def test_admin_creates_an_account_that_can_then_sign_in(db: str) -> None:
    at = app(ADMIN, page="admin")
    at.text_input(key="a_new_name").set_value("olu")
    at.selectbox(key="a_new_role").set_value("analyst")
    at.text_input(key="a_new_password").set_value("another long password")
    next(b for b in at.button if b.label == "Create or update account").click().run()
    assert not at.exception
    assert "Account olu saved as analyst." in all_text(at)
    assert query(db, "SELECT role, disabled FROM users WHERE name = 'olu'") == [("analyst", 0)]
    login = app()
    login.text_input(key="login_name").set_value("olu")
    login.text_input(key="login_password").set_value("another long password")
    next(b for b in login.button if b.label == "Sign in").click().run()
    assert login.title[0].value == "Live map"
    assert "Signed in as **olu** (analyst)" in [c.value for c in login.sidebar.caption]


def test_short_password_is_refused_with_the_reason(db: str) -> None:
    at = app(ADMIN, page="admin")
    at.text_input(key="a_new_name").set_value("zed")
    at.text_input(key="a_new_password").set_value("short")
    next(b for b in at.button if b.label == "Create or update account").click().run()
    assert any("at least 10 characters" in e.value for e in at.error)
    assert query(db, "SELECT name FROM users WHERE name = 'zed'") == []


def test_disabling_an_account_ends_its_open_session(db: str) -> None:
    session = app(ANALYST, page="upload")
    assert session.title[0].value == "Upload incidents"
    admin = app(ADMIN, page="admin")
    admin.selectbox(key="a_who").set_value("ana")
    admin.button(key="a_disable").click().run()
    assert "Account ana disabled." in all_text(admin)
    session.run()
    assert session.title[0].value == "Truceline"  # the sign-in page
    assert signed_in(session) is None


@BOTH_STORES
def test_role_change_ends_the_open_session(db: str) -> None:
    session = app(ANALYST, page="upload")
    admin = app(ADMIN, page="admin")
    admin.text_input(key="a_new_name").set_value("ana")
    admin.selectbox(key="a_new_role").set_value("viewer")
    admin.text_input(key="a_new_password").set_value("correct horse battery")
    next(b for b in admin.button if b.label == "Create or update account").click().run()
    session.run()
    # A changed role ends the session: the next run asks for sign-in again, and says why.
    assert session.title[0].value == "Truceline"
    assert not session.file_uploader
    assert "Your account was changed by an administrator" in " ".join(i.value for i in session.info)
    assert signed_in(session) is None


def test_public_viewing_toggle(db: str) -> None:
    assert app().title[0].value == "Truceline"  # off: anonymous visitors get the sign-in page
    at = app(ADMIN, page="admin")
    at.toggle(key="a_public").set_value(True).run()
    assert scalar(db, "SELECT value FROM meta WHERE key = 'setting:public_read'") == "true"
    anonymous = app()
    assert anonymous.title[0].value == "Live map"
    assert any("Public read-only viewing is on" in i.value for i in anonymous.sidebar.info)
    audit = query(db, "SELECT user_name, target, after FROM audit_log WHERE action = 'setting'")
    assert audit == [("ada", "public_read", '{"value": true}')]


def test_roles_in_the_tables_are_in_the_page_s_language(db: str) -> None:
    app(ANALYST, page="upload")  # an open session of another role
    at = app(ADMIN, page="admin", query_params={"lang": "fr"})
    accounts, live = at.dataframe[0].value, at.dataframe[1].value
    roles = dict(zip(accounts["Nom"], accounts["Rôle"], strict=True))
    assert (roles["ada"], roles["ana"]) == ("administrateur", "analyste")
    assert set(live["Rôle"]) == {"administrateur", "analyste"}


def test_admin_sees_live_sessions_and_signs_an_account_out_everywhere(db: str) -> None:
    tabs = [app(ANALYST, page="upload") for _ in range(2)]
    at = app(ADMIN, page="admin")
    live = at.dataframe[1].value
    assert sorted(live["User"]) == ["ada", "ana", "ana"]
    assert "session_hash" not in live.columns
    stamped = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")  # no "+00:00" offsets in a table
    for heading in ("Created", "Last seen", "Expires"):
        assert all(stamped.fullmatch(value) for value in live[heading]), live[heading]
    assert all(stamped.fullmatch(value) for value in at.dataframe[-1].value["When"])  # the audit log
    at.selectbox(key="a_sessions_of").set_value("ana")
    at.button(key="a_end_sessions").click().run()
    assert "2 sessions of ana ended." in all_text(at)
    for tab in tabs:
        tab.run()
        assert tab.title[0].value == "Truceline"
        assert "An administrator signed you out" in all_text(tab)
    assert signed_in(at) is not None  # the admin's own session is untouched
    assert scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'sessions_end' AND target = 'ana'") == 1


def tamper_with_audit_log(db: str) -> str:
    """Drop the trigger that refuses deletions, then delete entry 3, as someone holding the database would.

    Returns the dropped trigger's name.
    """
    if db.startswith("postgresql"):
        import psycopg

        with psycopg.connect(db) as pg:
            pg.execute("DROP TRIGGER audit_log_no_change ON audit_log")
            pg.execute("DELETE FROM audit_log WHERE entry_id = 3")
        return "audit_log_no_change"
    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    with conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE entry_id = 3")
    conn.close()
    return "audit_log_no_delete"


def test_admin_page_shows_the_audit_chain_check(db: str) -> None:
    at = app(ADMIN, page="admin")
    assert not at.exception
    entries = int(scalar(db, "SELECT COUNT(*) FROM audit_log"))
    assert any(f"Hash chain intact: {entries:,} entries" in s.value for s in at.success)
    dropped = tamper_with_audit_log(db)
    at = app(ADMIN, page="admin")
    assert not at.exception
    errors = [plain(e.value) for e in at.error]
    assert errors[0] == "Audit log broken: entry 3: missing (removed from the log)"
    assert any(f"missing: {dropped}" in e for e in errors)


def test_audit_table_shows_control_characters_as_escapes(db: str) -> None:
    from geo.core.auth import Principal
    from geo.services.settings import set_setting
    from geo.store import open_store

    store = open_store(db)
    set_setting(store, "refresh_seconds", 30, actor=Principal("x\x1b[2J\u202eevil", "admin"))
    store.close()
    at = app(ADMIN, page="admin")
    names = at.dataframe[-1].value["User"].tolist()
    assert "x\\x1b[2J\\u202eevil" in names
    assert not any("\x1b" in n or "\u202e" in n for n in names)


def test_admin_is_warned_while_passwords_are_hashed_for_tests(db: str, monkeypatch) -> None:
    """The test run's cheap hashing (tests/conftest.py) is named on the page; the standard one is not."""
    at = app(ADMIN, page="admin")
    warnings = [w.value for w in at.warning]
    assert any("TRUCELINE_PASSWORD_HASHING=test" in w for w in warnings), warnings
    monkeypatch.delenv("TRUCELINE_PASSWORD_HASHING")
    at = app(ADMIN, page="admin")
    assert not any("TRUCELINE_PASSWORD_HASHING" in w.value for w in at.warning)
