"""Issue 6: every role against every page, the sign-in form, its rate limit, and session timeouts.

A forbidden page must be missing from the navigation, must not be reachable by its URL, and
must refuse on its own when its file is run with a user who may not see it.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geo import clock
from geo.core.auth import Principal
from geo.services.accounts import issue_setup_token
from geo.services.settings import set_setting
from geo.store import open_store
from tests.dashboard.support import (
    ADMIN,
    ANALYST,
    BOTH_STORES,
    PAGES,
    PASSWORD,
    REPO,
    TITLES,
    VIEWER,
    all_text,
    app,
    navigation,
    open_url_path,
    plain,
    query,
    sign_in,
    signed_in,
    title,
)

ALLOWED = {
    "anonymous, public viewing off": set(),
    "anonymous, public viewing on": {"live_map", "trends", "incident", "export"},
    "viewer": {"live_map", "trends", "incident", "export"},
    "analyst": {"live_map", "trends", "incident", "export", "upload", "review"},
    "admin": set(PAGES),
}
WHO = {
    "anonymous, public viewing off": None,
    "anonymous, public viewing on": None,
    "viewer": VIEWER,
    "analyst": ANALYST,
    "admin": ADMIN,
}
MENU = {
    "live_map": "Live map",
    "trends": "Trends",
    "incident": "Incident",
    "upload": "Upload",
    "export": "Export",
    "review": "Review",
    "zones": "Zones & rules",
    "admin": "Users & audit",
    "alerts": "Alerts",
}
# What a forbidden page would show if it ran: none of it may appear.
FORBIDDEN_MARKS = {
    "upload": lambda at: bool(at.file_uploader),
    "zones": lambda at: any("reclassify" in b.label for b in at.button),
    "admin": lambda at: any(b.label == "Create or update account" for b in at.button),
    "export": lambda at: any(b.key == "e_go" for b in at.button),
    "live_map": lambda at: bool(at.get("component_instance")),
    "trends": lambda at: bool(at.get("vega_lite_chart")),
    "incident": lambda at: any(n.key == "i_id" for n in at.number_input),
    "review": lambda at: any(s.key == "r_status" for s in at.selectbox),
    "alerts": lambda at: any(b.label == "Add subscription" for b in at.button),
}


def public(url: str, on: bool) -> None:
    store = open_store(url)
    set_setting(store, "public_read", on)
    store.close()


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_against_each_page(db: str, role: str) -> None:
    public(db, role == "anonymous, public viewing on")
    user = WHO[role]
    allowed = ALLOWED[role]
    at = app(user)
    assert not at.exception, all_text(at)
    if not allowed:
        assert title(at) == TITLES["login"]
        assert navigation(at) == {"login"}
        assert not at.get("component_instance")
    else:
        assert navigation(at) == allowed
    landing = TITLES["refused"] if allowed else TITLES["login"]
    for page in PAGES:
        if page in allowed:
            at.switch_page(f"views/{page}.py").run()
            assert not at.exception, f"{role} on {page}: {all_text(at)}"
            assert title(at) == TITLES[page], f"{role} on {page}"
            continue
        # Not in the navigation: AppTest cannot even switch to it ...
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{page}.py")
        # ... and typing its URL shows a refusal (signed in) or the sign-in form, never the page.
        open_url_path(at, page)
        assert not at.exception
        assert title(at) == landing, f"{role} reached {page} by URL"
        assert not FORBIDDEN_MARKS[page](at)
        if WHO[role] is None and allowed:  # the public viewer is asked to sign in, not told off
            assert f"The {MENU[page]} page needs an account: sign in" in all_text(at)
            assert "does not allow" not in all_text(at)
        elif allowed:
            assert f"does not allow the {MENU[page]} page" in all_text(at)


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("page", PAGES)
def test_each_page_refuses_on_its_own(db: str, role: str, page: str) -> None:
    """Run the page file itself (no navigation in front of it): it must check the role too."""
    public(db, role == "anonymous, public viewing on")
    at = AppTest.from_file(str(REPO / "dashboard" / "views" / f"{page}.py"), default_timeout=60)
    if WHO[role] is not None:
        sign_in(at, WHO[role])
    at.run()
    refused = [e.value for e in at.error if "Sign in to see" in e.value or "does not allow" in e.value]
    if page in ALLOWED[role]:
        # Alone, without the navigation, links to other pages cannot resolve; the guard must let it run.
        assert not refused, f"{role} refused on {page}"
        assert FORBIDDEN_MARKS[page](at) or at.exception, f"{role} should see {page}"
    else:
        assert FORBIDDEN_MARKS[page](at) is False, f"{role} saw {page}"
        assert refused, all_text(at)
        assert not at.exception


def sign_in_form(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").set_value(name)
    at.text_input(key="login_password").set_value(password)
    return next(b for b in at.button if b.label == "Sign in").click().run()


@BOTH_STORES
def test_sign_in_form_wrong_then_right_password(db: str) -> None:
    at = app()
    assert title(at) == "Truceline"
    sign_in_form(at, "ana", "not the password")
    assert [plain(e.value) for e in at.error] == ["wrong user name or password, or the account is disabled"]
    assert signed_in(at) is None
    sign_in_form(at, "nobody", PASSWORD)
    assert [plain(e.value) for e in at.error] == ["wrong user name or password, or the account is disabled"]
    sign_in_form(at, "ana", PASSWORD)
    assert title(at) == "Live map"
    assert signed_in(at) == Principal("ana", "analyst")
    assert navigation(at) == ALLOWED["analyst"]
    logins = query(db, "SELECT user_name, action FROM audit_log WHERE action LIKE 'login%' ORDER BY entry_id")
    assert logins == [("ana", "login_failed"), ("nobody", "login_failed"), ("ana", "login")]


def test_sign_in_is_rate_limited(db: str) -> None:
    at = app()
    for _ in range(5):
        sign_in_form(at, "vic", "wrong password!")
    sign_in_form(at, "vic", PASSWORD)  # the right password, too late
    assert any("too many failed sign-ins for 'vic'" in plain(e.value) for e in at.error), all_text(at)
    assert signed_in(at) is None
    # Another account is not locked by vic's failures; this browser, having failed five times,
    # waits a second first (the per-address slowdown), then signs in.
    sign_in_form(at, "ana", PASSWORD)
    assert any("wait 1 s before trying again" in plain(e.value) for e in at.error), all_text(at)
    time.sleep(1.05)
    sign_in_form(at, "ana", PASSWORD)
    assert title(at) == "Live map"


@BOTH_STORES
def test_first_run_setup_creates_the_first_admin(db: str) -> None:
    store = open_store(db)
    with store.write() as tx:
        tx.execute("DELETE FROM users")
    store.close()
    store = open_store(db)
    token = issue_setup_token(store)
    store.close()
    at = app()
    assert "First-run setup" in all_text(at)

    def create(token: str) -> None:
        at.text_input(key="setup_token").set_value(token)
        at.text_input(key="setup_name").set_value("root")
        at.text_input(key="setup_password").set_value("a long enough password")
        at.text_input(key="setup_again").set_value("a long enough password")
        next(b for b in at.button if b.label == "Create administrator").click().run()

    # Without the token the server printed, no visitor creates an account.
    for guess in ("", "not the token"):
        create(guess)
        assert "setup token is wrong, used or expired" in plain(at.error[0].value)
        assert query(db, "SELECT COUNT(*) FROM users") == [(0,)]
    create(token)
    assert title(at) == "Live map"
    assert navigation(at) == set(PAGES)
    assert query(db, "SELECT name, role FROM users") == [("root", "admin")]
    assert signed_in(at) == Principal("root", "admin")


def idle_for(db: str, minutes: float) -> None:
    """Make every session look last used ``minutes`` ago."""
    store = open_store(db)
    with store.write() as tx:
        seen = store.encode_times(pd.Series([clock.now() - timedelta(minutes=minutes)]))[0]
        tx.execute("UPDATE sessions SET last_seen = ?", (seen,))
    store.close()


def last_seen(db: str) -> timedelta:
    store = open_store(db)
    seen = store.frame("SELECT MAX(last_seen) AS at FROM sessions")["at"].iloc[0]
    store.close()
    return pd.Timestamp(clock.now()) - seen


def test_idle_session_times_out(db: str) -> None:
    at = app(ANALYST, page="upload")
    assert title(at) == "Upload incidents"
    idle_for(db, 61)
    at.run()
    assert title(at) == "Truceline"
    assert "Your session timed out. Please sign in again." in all_text(at)
    assert signed_in(at) is None


def test_session_timeout_is_configurable(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCELINE_SESSION_MINUTES", "5")
    at = app(VIEWER)
    idle_for(db, 4)
    at.run()
    assert title(at) == "Live map"  # still within 5 minutes; and this run counts as activity
    assert last_seen(db) < timedelta(seconds=30)
    idle_for(db, 6)
    at.run()
    assert title(at) == "Truceline"


def test_sign_out_forgets_the_user_and_what_was_prepared(db: str) -> None:
    at = app(VIEWER, page="export")
    at.button(key="e_go").click().run()
    assert "e_file" in at.session_state
    at.sidebar.button(key="sign_out").click().run()
    assert title(at) == "Truceline"
    assert "e_file" not in at.session_state
    assert signed_in(at) is None


def test_public_viewer_can_go_to_sign_in_and_back(db: str) -> None:
    public(db, True)
    at = app()
    assert title(at) == "Live map"
    assert any("Public read-only viewing is on" in i.value for i in at.sidebar.info)
    at.sidebar.button(key="sign_in_anon").click().run()
    assert title(at) == "Truceline"
    at.button(key="login_back").click().run()
    assert title(at) == "Live map"
    at.sidebar.button(key="sign_in_anon").click().run()
    sign_in_form(at, "ada", PASSWORD)
    assert navigation(at) == set(PAGES)


def test_turning_public_viewing_off_locks_anonymous_viewers_out(db: str) -> None:
    public(db, True)
    at = app()
    assert title(at) == "Live map"
    public(db, False)
    at.run()
    assert title(at) == "Truceline"
    assert not at.get("component_instance")
