"""Every role against every service call, called directly: permissions live in geo/, not the UI."""

from __future__ import annotations

from datetime import date

import pytest

from geo._errors import InputError, PermissionDeniedError
from geo.core.auth import PERMISSIONS, ROLES, Principal, require
from geo.core.filters import Filters
from geo.services import accounts, exports, settings
from geo.services.demo import generate_incidents
from geo.services.ingest import (
    delete_batch,
    ingest_file,
    ingest_frame,
    load_scenario_into_store,
    reclassify,
    set_verification,
)
from geo.store import open_store

EXAMPLE = "data/templates/incidents_example.csv"
ANALYST, OTHER = Principal("ana", "analyst"), Principal("olu", "analyst")


@pytest.fixture(scope="module")
def base(tmp_path_factory, demo_scenario):
    """A store with the demo scenario and one upload by ``ana``; copied for each test."""
    path = tmp_path_factory.mktemp("roles") / "base.db"
    store = open_store(f"sqlite:///{path}")
    load_scenario_into_store(store, demo_scenario)
    ingest_frame(
        store,
        generate_incidents(demo_scenario, n=60, end=date(2026, 6, 1), seed=5),
        name="a.csv",
        actor=ANALYST,
    )
    store.close()
    return path


@pytest.fixture
def store(base, tmp_path):
    copy = tmp_path / "store.db"
    copy.write_bytes(base.read_bytes())
    s = open_store(f"sqlite:///{copy}")
    yield s
    s.close()


def calls(store, demo_scenario):
    """Each service call, with the permission it needs."""
    return {
        "export": lambda who: exports.export_view(store, "csv", Filters(), actor=who),
        "upload": lambda who: ingest_file(store, EXAMPLE, actor=who),
        "verify": lambda who: set_verification(store, 1, "disputed", actor=who),
        "undo_own_batch": lambda who: delete_batch(store, 1, actor=who),
        "edit_scenario": lambda who: load_scenario_into_store(store, demo_scenario, actor=who),
        "reclassify": lambda who: reclassify(store, actor=who),
        "manage_users": lambda who: accounts.add_user(store, "zed", "viewer", "long enough pass", actor=who),
        "list_users": lambda who: accounts.list_users(store, actor=who),
        "settings": lambda who: settings.set_setting(store, "public_read", True, actor=who),
    }


NEEDS = {
    "export": "export",
    "upload": "upload",
    "verify": "verify",
    "undo_own_batch": "undo_own_batch",
    "edit_scenario": "edit_scenario",
    "reclassify": "reclassify",
    "manage_users": "manage_users",
    "list_users": "manage_users",
    "settings": "manage_users",
}


@pytest.mark.parametrize("role", [*ROLES, None])
@pytest.mark.parametrize("call", list(NEEDS))
def test_every_role_against_every_service_call(store, demo_scenario, role, call):
    who = None if role is None else (ANALYST if role == "analyst" else Principal(f"some-{role}", role))
    allowed = role is not None and role in PERMISSIONS[NEEDS[call]]
    if allowed:
        calls(store, demo_scenario)[call](who)
    else:
        with pytest.raises(PermissionDeniedError, match=r"not (allowed|signed in)"):
            calls(store, demo_scenario)[call](who)


def test_denied_calls_change_nothing(store, demo_scenario):
    before = (
        store.count(),
        len(store.batches()),
        store.generation(),
        store.scalar("SELECT COUNT(*) FROM audit_log"),
    )
    viewer = Principal("vi", "viewer")
    for call in ("upload", "verify", "undo_own_batch", "edit_scenario", "reclassify", "manage_users"):
        with pytest.raises(PermissionDeniedError):
            calls(store, demo_scenario)[call](viewer)
    assert (
        store.count(),
        len(store.batches()),
        store.generation(),
        store.scalar("SELECT COUNT(*) FROM audit_log"),
    ) == before


def test_analysts_undo_only_their_own_uploads_admins_any(store):
    with pytest.raises(PermissionDeniedError, match="olu"):
        delete_batch(store, 1, actor=OTHER)
    assert delete_batch(store, 1, actor=Principal("root", "admin")) == 60


def test_require_names_user_role_and_permission():
    with pytest.raises(PermissionDeniedError, match=r"^vi \(viewer\): not allowed to upload$"):
        require(Principal("vi", "viewer"), "upload")
    with pytest.raises(ValueError, match="unknown permission"):
        require(Principal("vi", "viewer"), "fly")


def test_hashes_made_with_either_hashing_are_checked_with_both(store, monkeypatch):
    admin = Principal("root", "admin")
    monkeypatch.setenv(accounts.PASSWORD_HASHING, "standard")
    accounts.add_user(store, "ana", "analyst", "correct horse battery", actor=admin)
    monkeypatch.setenv(accounts.PASSWORD_HASHING, "test")
    accounts.add_user(store, "bo", "analyst", "battery staple horse", actor=admin)
    assert accounts.authenticate(store, "ana", "correct horse battery") == Principal("ana", "analyst")
    monkeypatch.setenv(accounts.PASSWORD_HASHING, "standard")
    assert accounts.authenticate(store, "bo", "battery staple horse") == Principal("bo", "analyst")
    with pytest.raises(accounts.AuthenticationError, match="wrong user name or password"):
        accounts.authenticate(store, "bo", "correct horse battery")
    monkeypatch.setenv(accounts.PASSWORD_HASHING, "fast")
    with pytest.raises(InputError, match="TRUCELINE_PASSWORD_HASHING='fast': use one of standard, test"):
        accounts.add_user(store, "cy", "analyst", "correct horse battery", actor=admin)


def test_sign_in_is_rate_limited_and_audited(store):
    accounts.add_user(store, "ana", "analyst", "correct horse battery", actor=Principal("root", "admin"))
    assert accounts.authenticate(store, "ana", "correct horse battery") == Principal("ana", "analyst")
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.AuthenticationError, match="wrong user name or password"):
            accounts.authenticate(store, "ana", "wrong")
    with pytest.raises(accounts.AuthenticationError, match="too many failed sign-ins"):
        accounts.authenticate(store, "ana", "correct horse battery")
    actions = store.frame("SELECT action FROM audit_log WHERE target = 'ana'")["action"].tolist()
    assert actions.count("login") == 1 and actions.count("login_failed") == accounts.MAX_FAILURES + 1


def test_passwords_are_stored_as_slow_salted_hashes(store, monkeypatch):
    monkeypatch.delenv(accounts.PASSWORD_HASHING)  # the test run's cheap hashing: see tests/conftest.py
    accounts.add_user(store, "ana", "analyst", "correct horse battery", actor=Principal("root", "admin"))
    accounts.add_user(store, "bo", "analyst", "correct horse battery", actor=Principal("root", "admin"))
    hashes = store.frame("SELECT password_hash FROM users ORDER BY name")["password_hash"].tolist()
    assert all(h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") for h in hashes)  # RFC 9106, second choice
    assert hashes[0] != hashes[1]  # salted
    assert "correct horse" not in " ".join(hashes)
    audit = " ".join(store.frame("SELECT before, after FROM audit_log")["after"])
    assert "correct horse" not in audit


def test_disabled_account_cannot_sign_in(store):
    admin = Principal("root", "admin")
    accounts.add_user(store, "bo", "viewer", "correct horse battery", actor=admin)
    accounts.set_disabled(store, "bo", True, actor=admin)
    with pytest.raises(accounts.AuthenticationError):
        accounts.authenticate(store, "bo", "correct horse battery")


def test_first_run_setup_only_once(store):
    token = accounts.issue_setup_token(store)
    admin = accounts.create_first_admin(store, "root", "correct horse battery", token=token)
    assert admin.role == "admin"
    with pytest.raises(accounts.AuthenticationError, match="already exists"):
        accounts.create_first_admin(store, "eve", "correct horse battery", token=token)


@pytest.mark.parametrize(
    ("email", "groups", "role"),
    [
        ("alice@un.org", [], "admin"),
        ("bob@mission.org", [], "analyst"),
        ("carol@elsewhere.org", ["ops-admins"], "admin"),
        ("dave@elsewhere.org", [], None),
    ],
)
def test_oidc_identities_map_to_roles(monkeypatch, email, groups, role):
    monkeypatch.setenv(
        "TRUCELINE_ROLE_MAP", '{"admin": ["alice@un.org", "group:ops-admins"], "analyst": ["@mission.org"]}'
    )
    assert accounts.role_for_identity(email, groups) == role
