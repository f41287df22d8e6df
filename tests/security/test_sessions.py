"""Sign-ins that last, a first run nobody can take over, and sign-in limits that cannot lock users out.

Each test runs on SQLite and on a real PostGIS server: the limits and the first-run setup are
only atomic if both databases make them so.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from geo import AuthenticationError
from geo.core.auth import Principal
from geo.services import accounts, sessions
from geo.store import open_store

NOW = datetime(2026, 7, 1, 3, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"  # noqa: S105  (a test account)
ROOT = Principal("root", "admin")


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgis_url")
    s = open_store(url)
    yield s
    s.close()


def states(store, name):
    frame = store.frame("SELECT state FROM login_attempts WHERE name = ? ORDER BY at", (name,))
    return frame["state"].tolist()


# -- sign-in limits ------------------------------------------------------------------------------------


def test_fifty_wrong_passwords_from_one_client_do_not_stop_the_account_from_another(store):
    accounts.add_user(store, "ana", "analyst", PASSWORD, actor=ROOT)
    when = NOW
    refused = 0
    for _ in range(50):
        when += timedelta(seconds=1)  # as fast as an attacker may send them
        try:
            accounts.authenticate(store, "ana", "wrong password", client="203.0.113.7", now=when)
        except AuthenticationError as err:
            refused += "too many" in str(err)
    assert refused == 50 - accounts.MAX_FAILURES
    # The attacker's address is locked out of the account, even with the right password ...
    with pytest.raises(AuthenticationError, match="too many failed sign-ins for 'ana' from this address"):
        accounts.authenticate(store, "ana", PASSWORD, client="203.0.113.7", now=when)
    # ... and the user, elsewhere, signs in at once.
    assert accounts.authenticate(store, "ana", PASSWORD, client="198.51.100.2", now=when) == Principal(
        "ana", "analyst"
    )
    audit = store.frame("SELECT action FROM audit_log WHERE target = 'ana'")["action"].tolist()
    assert audit.count("login") == 1 and audit.count("login_failed") == 51


def test_parallel_wrong_passwords_cost_one_try_each(store):
    """Twelve attempts sent at once: five are checked (the limit), seven refused unchecked."""
    accounts.add_user(store, "ana", "analyst", PASSWORD, actor=ROOT)
    start = threading.Barrier(12)

    def attempt(_: int) -> str:
        start.wait()
        try:
            accounts.authenticate(store, "ana", "wrong password", client="203.0.113.7", now=NOW)
        except AuthenticationError as err:
            return "refused" if "too many" in str(err) else "failed"
        finally:
            store.release()
        return "ok"

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(attempt, range(12)))
    assert sorted(results).count("failed") == accounts.MAX_FAILURES
    assert results.count("refused") == 12 - accounts.MAX_FAILURES
    assert sorted(states(store, "ana")) == ["failed"] * 5 + ["refused"] * 7


def test_a_client_failing_on_many_accounts_is_slowed_down_progressively(store):
    client = "203.0.113.9"
    for i in range(accounts.CLIENT_FREE_FAILURES):
        with pytest.raises(AuthenticationError, match="wrong user name"):
            accounts.authenticate(store, f"user{i}", "guess", client=client, now=NOW)
    waits = []
    when = NOW
    for i in range(4):
        with pytest.raises(AuthenticationError, match=r"wait \d+ s") as refused:
            accounts.authenticate(store, f"other{i}", "guess", client=client, now=when)
        wait = int(str(refused.value).split("wait ")[1].split(" s")[0])
        waits.append(wait)
        when += timedelta(seconds=wait)  # waited as told: the attempt is checked (and fails)
        with pytest.raises(AuthenticationError, match="wrong user name"):
            accounts.authenticate(store, f"other{i}", "guess", client=client, now=when)
    assert waits == [1, 2, 4, 8]
    # Another client is not slowed by this one.
    with pytest.raises(AuthenticationError, match="wrong user name"):
        accounts.authenticate(store, "other0", "guess", client="198.51.100.2", now=when)


def test_an_overlong_name_is_refused_and_nothing_is_stored(store):
    with pytest.raises(AuthenticationError, match="wrong user name"):
        accounts.authenticate(store, "x" * 2_000_000, "guess", client="203.0.113.9", now=NOW)
    assert store.scalar("SELECT COUNT(*) FROM login_attempts") == 0  # no account can have that name
    assert store.scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'login%'") == 0


# -- first run -----------------------------------------------------------------------------------------


def test_without_the_setup_token_nobody_creates_an_account(store):
    assert accounts.issue_setup_token(store, now=NOW)
    for token in ("", "guess", "A" * 32):
        with pytest.raises(AuthenticationError, match="setup token is wrong"):
            accounts.create_first_admin(store, "eve", PASSWORD, token=token, now=NOW)
    assert not accounts.has_users(store)


def test_a_setup_token_works_once_and_expires(store):
    token = accounts.issue_setup_token(store, now=NOW)
    late = NOW + timedelta(minutes=accounts.SETUP_TOKEN_MINUTES, seconds=1)
    with pytest.raises(AuthenticationError, match="used or expired"):
        accounts.create_first_admin(store, "root", PASSWORD, token=token, now=late)
    assert accounts.create_first_admin(store, "root", PASSWORD, token=token, now=NOW) == ROOT
    with pytest.raises(AuthenticationError, match="already exists"):
        accounts.create_first_admin(store, "eve", PASSWORD, token=token, now=NOW)
    assert accounts.issue_setup_token(store, now=NOW) is None  # an account exists: no more tokens
    stored = " ".join(store.frame("SELECT token_hash FROM setup_tokens")["token_hash"])
    assert token not in stored  # only its digest is kept


@pytest.mark.parametrize("tokens", ["one token", "two tokens"])
def test_concurrent_first_run_attempts_give_one_administrator(store, tokens):
    first = accounts.issue_setup_token(store, now=NOW)
    second = first if tokens == "one token" else accounts.issue_setup_token(store, now=NOW)
    start = threading.Barrier(2)

    def create(args: tuple[str, str]) -> str:
        name, token = args
        start.wait()
        try:
            accounts.create_first_admin(store, name, PASSWORD, token=token, now=NOW)
        except AuthenticationError:
            return "refused"
        finally:
            store.release()
        return "created"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(create, [("root", first), ("eve", second)]))
    assert sorted(results) == ["created", "refused"]
    users = store.frame("SELECT name, role FROM users")
    assert len(users) == 1 and users["role"].iloc[0] == "admin"


# -- sessions ------------------------------------------------------------------------------------------


def test_a_session_lasts_across_runs_until_idle(store, monkeypatch):
    monkeypatch.setenv("TRUCELINE_SESSION_MINUTES", "30")
    accounts.add_user(store, "ana", "analyst", PASSWORD, actor=ROOT)
    sid, _ = sessions.start(store, Principal("ana", "analyst"), client="198.51.100.2", now=NOW)
    assert sid not in " ".join(store.frame("SELECT session_hash FROM sessions")["session_hash"])
    when = NOW
    for _ in range(5):  # used every 20 minutes for 100 minutes: still signed in
        when += timedelta(minutes=20)
        assert sessions.resume(store, sid, now=when).principal == Principal("ana", "analyst")
    # A timed refresh is not activity: the session still times out.
    assert sessions.resume(store, sid, touch=False, now=when + timedelta(minutes=29)) is not None
    assert sessions.resume(store, sid, now=when + timedelta(minutes=31)) is None
    assert sessions.resume(store, sid, now=when) is None  # ended, not only stale
    assert store.scalar("SELECT end_reason FROM sessions") == "idle"


def test_a_session_ends_at_its_lifetime_however_active(store, monkeypatch):
    monkeypatch.setenv("TRUCELINE_SESSION_MAX_HOURS", "2")
    accounts.add_user(store, "ana", "analyst", PASSWORD, actor=ROOT)
    sid, _ = sessions.start(store, Principal("ana", "analyst"), now=NOW)
    when = NOW
    while when < NOW + timedelta(hours=2) - timedelta(minutes=10):
        when += timedelta(minutes=10)
        assert sessions.resume(store, sid, now=when) is not None
    assert sessions.resume(store, sid, now=NOW + timedelta(hours=2)) is None
    assert store.scalar("SELECT end_reason FROM sessions") == "lifetime"


@pytest.mark.parametrize("change", ["sign out", "disable", "role", "password", "remove"])
def test_sign_out_disabling_or_changing_the_account_ends_its_sessions(store, change):
    accounts.add_user(store, "ana", "analyst", PASSWORD, actor=ROOT)
    accounts.add_user(store, "bo", "viewer", PASSWORD, actor=ROOT)
    tabs = [sessions.start(store, Principal("ana", "analyst"), now=NOW)[0] for _ in range(2)]
    other = sessions.start(store, Principal("bo", "viewer"), now=NOW)[0]
    if change == "sign out":
        sessions.end(store, tabs[0], now=NOW)
        expected_reason = "signed out"
    elif change == "disable":
        accounts.set_disabled(store, "ana", True, actor=ROOT)
        expected_reason = "account disabled"
    elif change == "role":
        accounts.add_user(store, "ana", "admin", PASSWORD, actor=ROOT)
        expected_reason = "account changed"
    elif change == "password":
        accounts.add_user(store, "ana", "analyst", "another long password", actor=ROOT)
        expected_reason = "account changed"
    else:
        with store.write() as tx:
            tx.execute("DELETE FROM users WHERE name = 'ana'")
        expected_reason = "account disabled"
    gone = [sessions.resume(store, sid, now=NOW + timedelta(seconds=1)) for sid in tabs]
    if change == "sign out":  # one tab signed out: the other tab holds another session
        assert gone[0] is None and gone[1] is not None
    else:
        assert gone == [None, None]
    assert sessions.resume(store, other, now=NOW).principal.name == "bo"
    reasons = store.frame("SELECT end_reason FROM sessions WHERE user_name = 'ana' AND ended_at IS NOT NULL")
    assert set(reasons["end_reason"]) == {expected_reason}


def test_a_cookie_ticket_is_good_once_and_briefly(store):
    sid, ticket = sessions.start(store, Principal("ana", "analyst"), kind="oidc", now=NOW)
    assert sessions.redeem_ticket(store, "wrong", now=NOW) is None
    assert sessions.redeem_ticket(store, ticket, now=NOW) == sid
    assert sessions.redeem_ticket(store, ticket, now=NOW) is None  # used
    _, late = sessions.start(store, Principal("ana", "analyst"), kind="oidc", now=NOW)
    expired = NOW + timedelta(seconds=sessions.TICKET_SECONDS + 1)
    assert sessions.redeem_ticket(store, late, now=expired) is None
    assert sessions.resume(store, sid, now=NOW).kind == "oidc"  # an OIDC session needs no local account


def test_a_ticket_exchanged_twice_at_once_gives_the_session_once(store):
    sid, ticket = sessions.start(store, Principal("ana", "analyst"), now=NOW)
    start = threading.Barrier(4)

    def redeem(_: int) -> str | None:
        start.wait()
        try:
            return sessions.redeem_ticket(store, ticket, now=NOW)
        finally:
            store.release()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(redeem, range(4)))
    assert results.count(sid) == 1 and results.count(None) == 3  # order-free: a random id may sort first


def test_unknown_and_absurd_session_ids_are_nobody(store):
    assert sessions.resume(store, None) is None
    assert sessions.resume(store, "") is None
    assert sessions.resume(store, "x" * 10_000) is None
    assert sessions.resume(store, "not-a-session", now=NOW) is None


# -- client addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "peer", "header", "client"),
    [
        ("", "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # no trusted proxy: the header is ignored
        ("", None, "198.51.100.1", "127.0.0.1"),  # the loopback interface, header ignored
        ("10.0.0.0/8", "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.0/8", "10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.3", "198.51.100.1"),  # forged left part
        ("10.0.0.0/8", "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not from the proxy: ignored
        ("127.0.0.1", None, "garbage, 198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", None, "198.51.100.1, garbage", "127.0.0.1"),
        ("::1", "::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(monkeypatch, trusted, peer, header, client):
    monkeypatch.setenv("TRUCELINE_TRUSTED_PROXIES", trusted)
    assert sessions.client_address(peer, header) == client


def test_only_trusted_proxies_are_proxies(monkeypatch):
    monkeypatch.setenv("TRUCELINE_TRUSTED_PROXIES", "10.0.0.0/8, not-an-address")
    assert sessions.is_trusted_proxy("10.1.2.3")
    assert not sessions.is_trusted_proxy("192.0.2.1")
    assert not sessions.is_trusted_proxy(None)  # the loopback interface is not listed
    monkeypatch.setenv("TRUCELINE_TRUSTED_PROXIES", "")
    assert not sessions.is_trusted_proxy("10.1.2.3")
