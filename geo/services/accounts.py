"""Local accounts in the store: argon2 password hashes, rate-limited sign-in, settings.

Production deployments can sign in with OIDC instead (see docs/auth.md); roles then come
from :func:`role_for_identity`.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo import clock
from geo._errors import AuthenticationError, InputError
from geo.core.auth import OPERATOR, ROLES, Principal, Role, require
from geo.core.names import USER_NAME, check_user_name
from geo.store import Store

MAX_FAILURES = 5
"""Failed sign-ins allowed per account within :data:`FAILURE_WINDOW` before it is locked."""
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("timing-equaliser")


def add_user(store: Store, name: str, role: str, password: str, *, actor: Principal = OPERATOR) -> None:
    """Create or update a local account (admins only)."""
    require(actor, "manage_users")
    if role not in ROLES:
        msg = f"role: must be one of {', '.join(ROLES)}, got {role!r}"
        raise InputError(msg)
    check_user_name(name)
    if len(password) < MIN_PASSWORD:
        msg = f"password: at least {MIN_PASSWORD} characters"
        raise InputError(msg)
    before = store.frame("SELECT role, disabled FROM users WHERE name = ?", (name,))
    with store.write() as tx:
        tx.execute("DELETE FROM users WHERE name = ?", (name,))
        tx.bulk_insert(
            "users",
            pd.DataFrame(
                [
                    {
                        "name": name,
                        "role": role,
                        "password_hash": _HASHER.hash(password),
                        "created_at": clock.now(),
                        "disabled": 0,
                    }
                ]
            ),
        )
        tx.audit(actor, "user_set", name, before.iloc[0].to_dict() if len(before) else {}, {"role": role})


def set_disabled(store: Store, name: str, disabled: bool, *, actor: Principal = OPERATOR) -> None:
    """Disable or re-enable an account (admins only)."""
    require(actor, "manage_users")
    with store.write() as tx:
        tx.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
        tx.audit(actor, "user_disable" if disabled else "user_enable", name, {}, {"disabled": disabled})


def list_users(store: Store, *, actor: Principal = OPERATOR) -> list[dict[str, Any]]:
    """Every account, without hashes (admins only)."""
    require(actor, "manage_users")
    frame = store.frame("SELECT name, role, created_at, disabled FROM users ORDER BY name")
    return [{**row, "disabled": bool(row["disabled"])} for row in frame.to_dict("records")]


def has_users(store: Store) -> bool:
    """Whether any account exists (the dashboard offers first-run setup when none does)."""
    return bool(store.scalar("SELECT COUNT(*) FROM users"))


def create_first_admin(store: Store, name: str, password: str) -> Principal:
    """Create the first admin; refused once any account exists."""
    if has_users(store):
        msg = "setup: an account already exists; ask an admin"
        raise AuthenticationError(msg)
    system = Principal("first-run setup", "admin")
    add_user(store, name, "admin", password, actor=system)
    return Principal(name, "admin")


def authenticate(store: Store, name: str, password: str, *, now: datetime | None = None) -> Principal:
    """
    Check a password; return the signed-in principal.

    Raises
    ------
    AuthenticationError
        On a wrong name or password (the message does not say which), a disabled account,
        or too many recent failures.
    """
    now = now or clock.now()
    if not USER_NAME.fullmatch(name):  # no account has such a name: nothing to check, nothing to store
        msg = "wrong user name or password, or the account is disabled"
        raise AuthenticationError(msg)
    since = store.encode_times(pd.Series([now - FAILURE_WINDOW]))[0]
    failures = int(
        store.scalar(
            "SELECT COUNT(*) FROM login_attempts WHERE name = ? AND at >= ? AND ok = 0", (name, since)
        )
    )
    if failures >= MAX_FAILURES:
        _record(store, name, ok=False, now=now, note="locked")
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        msg = f"too many failed sign-ins for {name!r}: try again in {minutes} minutes"
        raise AuthenticationError(msg)
    row = store.frame("SELECT role, password_hash, disabled FROM users WHERE name = ?", (name,))
    stored = str(row["password_hash"].iloc[0]) if len(row) else _DUMMY_HASH
    try:
        ok = _HASHER.verify(stored, password) and len(row) == 1 and not int(row["disabled"].iloc[0])
    except (VerificationError, InvalidHashError):
        ok = False
    _record(store, name, ok=ok, now=now, note="")
    if not ok:
        msg = "wrong user name or password, or the account is disabled"
        raise AuthenticationError(msg)
    return Principal(name, str(row["role"].iloc[0]))  # type: ignore[arg-type]


def _record(store: Store, name: str, *, ok: bool, now: datetime, note: str) -> None:
    with store.write() as tx:
        tx.bulk_insert("login_attempts", pd.DataFrame([{"name": name, "at": now, "ok": int(ok)}]))
        tx.audit(
            Principal(name, "viewer"),
            "login" if ok else "login_failed",
            name,
            {},
            {"note": note} if note else {},
        )


def account_role(store: Store, name: str) -> Role | None:
    """The role of an enabled local account, or ``None`` if it is disabled or gone."""
    row = store.frame("SELECT role, disabled FROM users WHERE name = ?", (name,))
    if row.empty or int(row["disabled"].iloc[0]) or row["role"].iloc[0] not in ROLES:
        return None
    return str(row["role"].iloc[0])  # type: ignore[return-value]


def audit_entries(
    store: Store, *, actor: Principal, action: str = "", user: str = "", limit: int = 5000
) -> pd.DataFrame:
    """The newest audit log entries (admins only), optionally by action and user name (substrings)."""
    require(actor, "view_audit")
    clauses, params = [], []
    if action:
        clauses.append("LOWER(action) LIKE ?")
        params.append(f"%{action.lower()}%")
    if user:
        clauses.append("LOWER(user_name) LIKE ?")
        params.append(f"%{user.lower()}%")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return store.frame(
        f"SELECT entry_id, at, user_name, action, target, before, after FROM audit_log{where} "
        f"ORDER BY entry_id DESC LIMIT {int(limit)}",
        params,
    )


def role_for_identity(email: str | None, groups: list[str] | None = None) -> Role | None:
    """
    Map an OIDC identity to a role with ``TRUCELINE_ROLE_MAP``.

    The variable holds JSON: ``{"admin": ["alice@un.org", "group:ops-admins"],
    "analyst": ["@mission.org"], "viewer": ["*"]}``. An entry matches an exact email, a
    domain (``@mission.org``), a group (``group:NAME``) or anyone (``*``). The highest
    matching role wins; no match means no access.
    """
    raw = os.environ.get("TRUCELINE_ROLE_MAP", "")
    if not raw:
        return None
    table = json.loads(raw)
    email = (email or "").lower()
    groups = [g.lower() for g in groups or []]
    for role in reversed(ROLES):
        for raw_entry in table.get(role, []):
            entry = str(raw_entry).lower()
            if (
                entry in ("*", email)
                or (entry.startswith("@") and email.endswith(entry))
                or (entry.startswith("group:") and entry[6:] in groups)
            ):
                return role
    return None
