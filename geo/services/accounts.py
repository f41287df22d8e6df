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
from geo._errors import AuthenticationError, InputError, PermissionDeniedError
from geo.core.auth import OPERATOR, ROLES, Principal, Role, require
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
    if not name or len(name) > 64 or not name.replace("_", "").replace(".", "").replace("-", "").isalnum():
        msg = f"user name {name!r}: use 1-64 letters, digits, '.', '_' or '-'"
        raise InputError(msg)
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
        was = before.iloc[0].to_dict() if len(before) else {}
        tx.audit(actor, "user_set", name, was, {"role": role}, store_wide=True)


def set_disabled(store: Store, name: str, disabled: bool, *, actor: Principal = OPERATOR) -> None:
    """Disable or re-enable an account (admins only)."""
    require(actor, "manage_users")
    with store.write() as tx:
        tx.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
        action = "user_disable" if disabled else "user_enable"
        tx.audit(actor, action, name, {}, {"disabled": disabled}, store_wide=True)


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
            store_wide=True,
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
    # The current scenario's entries and the store-wide ones (accounts, settings), never another's.
    clauses.append("scenario_id IN (?, '')")
    params.append(store.scenario_id)
    where = " WHERE " + " AND ".join(clauses)
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


# -- roles per scenario ---------------------------------------------------------------------------


def grant_scenario(
    store: Store, name: str, scenario_id: str, role: Role, *, actor: Principal = OPERATOR
) -> None:
    """
    Bind an account to a scenario with a role there (admins only); audited.

    An account bound to one or more scenarios sees only those, each with its role there; an
    account bound to none has its own role in every scenario.
    """
    require(actor, "manage_users")
    _may_bind(store, actor, scenario_id)
    if role not in ROLES:
        msg = f"role: must be one of {', '.join(ROLES)}, got {role!r}"
        raise InputError(msg)
    if not store.has_scenario(scenario_id):
        held = ", ".join(store.scenario_ids()) or "none"
        msg = f"scenario: no scenario {scenario_id!r} in the store ({held})"
        raise InputError(msg)
    if account_role(store, name) is None:
        msg = f"user {name!r}: no such enabled account"
        raise InputError(msg)
    with store.write() as tx:
        tx.execute("DELETE FROM user_scenarios WHERE name = ? AND scenario_id = ?", (name, scenario_id))
        tx.execute(
            "INSERT INTO user_scenarios (name, scenario_id, role) VALUES (?, ?, ?)", (name, scenario_id, role)
        )
        tx.audit(actor, "user_scenario", name, {}, {"scenario": scenario_id, "role": role}, store_wide=True)


def revoke_scenario(store: Store, name: str, scenario_id: str, *, actor: Principal = OPERATOR) -> None:
    """Remove an account's binding to a scenario (admins only); audited."""
    require(actor, "manage_users")
    _may_bind(store, actor, scenario_id)
    with store.write() as tx:
        tx.execute("DELETE FROM user_scenarios WHERE name = ? AND scenario_id = ?", (name, scenario_id))
        tx.audit(actor, "user_scenario", name, {"scenario": scenario_id}, {}, store_wide=True)


def _may_bind(store: Store, actor: Principal, scenario_id: str) -> None:
    """An admin bound to scenarios may bind accounts only to the scenarios they administer."""
    if actor is OPERATOR:
        return
    bound = scenario_roles(store, actor.name)
    if bound and bound.get(scenario_id) != "admin":
        msg = f"{actor.name}: not allowed to grant access to scenario {scenario_id!r}"
        raise PermissionDeniedError(msg)


def scenario_bindings(store: Store, *, actor: Principal) -> pd.DataFrame:
    """Every account's scenario bindings: ``name``, ``scenario_id``, ``role`` (admins only)."""
    require(actor, "manage_users")
    return store.frame("SELECT name, scenario_id, role FROM user_scenarios ORDER BY name, scenario_id")


def scenario_roles(store: Store, name: str) -> dict[str, Role]:
    """The scenarios an account is bound to, with its role in each; empty: not bound (sees all)."""
    frame = store.frame(
        "SELECT scenario_id, role FROM user_scenarios WHERE name = ? ORDER BY scenario_id", (name,)
    )
    return {str(r.scenario_id): r.role for r in frame.itertuples()}


def visible_scenarios(store: Store, principal: Principal | None) -> list[str]:
    """The scenarios ``principal`` may see, in the store's order (all of them for the operator)."""
    held = store.scenario_ids()
    if principal is None or principal is OPERATOR:
        return held
    bound = scenario_roles(store, principal.name)
    return [s for s in held if s in bound] if bound else held


def scoped_to(
    store: Store, principal: Principal | None, scenario_id: str | None
) -> tuple[Store, Principal | None]:
    """
    The store handle on the scenario ``principal`` asked for (or may see first), and their role there.

    Parameters
    ----------
    store
        The store.
    principal
        Who asks; ``None`` (anonymous public viewing) sees every scenario.
    scenario_id
        The scenario asked for; ``None`` or empty: the store's default one if visible, else
        the first visible.

    Raises
    ------
    PermissionDeniedError
        When the account is bound to other scenarios only.
    NotFoundError
        When the store holds no scenario by that id.
    """
    from geo._errors import NotFoundError

    visible = visible_scenarios(store, principal)
    if scenario_id:
        if not store.has_scenario(scenario_id):
            held = ", ".join(store.scenario_ids()) or "none"
            msg = f"scenario {scenario_id!r}: not found (the store holds {held})"
            raise NotFoundError(msg)
        if scenario_id not in visible:
            who = principal.name if principal is not None else "anonymous"
            msg = f"{who}: not allowed to view scenario {scenario_id!r}"
            raise PermissionDeniedError(msg)
        chosen = scenario_id
    else:
        default = store.scenario_id
        chosen = default if default in visible or not visible else visible[0]
    if principal is not None and principal is not OPERATOR:
        role = scenario_roles(store, principal.name).get(chosen)
        if role is not None:
            principal = Principal(principal.name, role)
    return store.using(chosen), principal
