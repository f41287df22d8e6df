"""Local accounts in the store: argon2 password hashes, rate-limited sign-in, settings.

Production deployments can sign in with OIDC instead (see docs/auth.md); roles then come
from :func:`role_for_identity`.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import pandas as pd
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from geo import clock
from geo._errors import AuthenticationError, InputError, PermissionDeniedError
from geo.core.auth import OPERATOR, ROLES, Principal, Role, require
from geo.core.names import USER_NAME, check_user_name
from geo.i18n import N_
from geo.services import sessions
from geo.store import Store

MAX_FAILURES = 5
"""Failed sign-ins allowed for one account from one client within :data:`FAILURE_WINDOW`."""
FAILURE_WINDOW = timedelta(minutes=15)
CLIENT_FREE_FAILURES = 5
"""Failed sign-ins (any accounts) a client may make before each next attempt must wait."""
MAX_DELAY = timedelta(minutes=5)
"""The longest wait a client is made to keep between attempts."""
SETUP_TOKEN_MINUTES = 60
"""How long a first-run setup token stays valid."""
MIN_PASSWORD = 10
PASSWORD_HASHING = "TRUCELINE_PASSWORD_HASHING"  # noqa: S105 (a variable name)
"""Environment variable naming the argon2 parameters of new password hashes (see :func:`hasher`)."""
_PROFILES = {"standard": profiles.RFC_9106_LOW_MEMORY, "test": profiles.CHEAPEST}
TEST_HASHING_WARNING = N_(
    "Passwords are hashed with test-only parameters (TRUCELINE_PASSWORD_HASHING=test), "
    "which do not protect them: unset it and restart before real accounts are made."
)
"""What an administrator is told while ``test`` hashing is in use (translate with ``_``)."""


def hasher() -> PasswordHasher:
    """
    The password hasher: argon2id with the parameters ``TRUCELINE_PASSWORD_HASHING`` names.

    ``standard`` (the default) is RFC 9106's second recommendation (3 passes over 64 MiB,
    4 lanes; about 0.15 s of CPU per hash). ``test`` is argon2's cheapest, for test suites
    only: it makes every sign-in in a test run cheap, and must never serve real accounts.
    A hash keeps its own parameters, so hashes made under either are checked under both.

    Raises
    ------
    InputError
        For any other value.
    """
    return _hasher(password_hashing())


def password_hashing() -> str:
    """The argon2 parameters in use: ``standard`` or ``test`` (``TRUCELINE_PASSWORD_HASHING``)."""
    name = os.environ.get(PASSWORD_HASHING) or "standard"
    if name not in _PROFILES:
        msg = f"{PASSWORD_HASHING}={name!r}: use one of {', '.join(_PROFILES)}"
        raise InputError(msg)
    return name


@cache
def _hasher(name: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(_PROFILES[name])


@cache
def _dummy_hash(name: str) -> str:
    """A hash checked when the account does not exist, so that the answer takes as long."""
    return _hasher(name).hash("timing-equaliser")


def add_user(store: Store, name: str, role: str, password: str, *, actor: Principal = OPERATOR) -> None:
    """Create or update a local account (admins only)."""
    require(actor, "manage_users")
    _check_account(name, role, password)
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
                        "password_hash": hasher().hash(password),
                        "created_at": clock.now(),
                        "disabled": 0,
                    }
                ]
            ),
        )
        was = before.iloc[0].to_dict() if len(before) else {}
        tx.audit(actor, "user_set", name, was, {"role": role}, store_wide=True)
    if len(before):  # a new password or role: sessions opened with the old ones end now
        sessions.end_for_user(store, name, reason="account changed")


def set_disabled(store: Store, name: str, disabled: bool, *, actor: Principal = OPERATOR) -> None:
    """Disable or re-enable an account (admins only)."""
    require(actor, "manage_users")
    with store.write() as tx:
        tx.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name))
        action = "user_disable" if disabled else "user_enable"
        tx.audit(actor, action, name, {}, {"disabled": disabled}, store_wide=True)
    if disabled:
        sessions.end_for_user(store, name, reason="account disabled")


def list_users(store: Store, *, actor: Principal = OPERATOR) -> list[dict[str, Any]]:
    """Every account, without hashes (admins only)."""
    require(actor, "manage_users")
    frame = store.frame("SELECT name, role, created_at, disabled FROM users ORDER BY name")
    return [{**row, "disabled": bool(row["disabled"])} for row in frame.to_dict("records")]


def has_users(store: Store) -> bool:
    """Whether any account exists (the dashboard offers first-run setup when none does)."""
    return bool(store.scalar("SELECT COUNT(*) FROM users"))


def issue_setup_token(store: Store, *, now: datetime | None = None) -> str | None:
    """
    A new one-time token for creating the first administrator on the web, or ``None`` once an account exists.

    The dashboard prints it on the server's console at start; only its SHA-256 is stored. It
    is good for one use within :data:`SETUP_TOKEN_MINUTES`.
    """
    if has_users(store):
        return None
    now = now or clock.now()
    token = secrets.token_urlsafe(24)
    with store.write() as tx:
        tx.bulk_insert(
            "setup_tokens",
            pd.DataFrame(
                [
                    {
                        "token_hash": sessions.digest(token),
                        "created_at": now,
                        "expires_at": now + timedelta(minutes=SETUP_TOKEN_MINUTES),
                        "used_at": pd.NaT,
                        "used_by": "",
                    }
                ]
            ),
        )
    return token


def create_first_admin(
    store: Store, name: str, password: str, *, token: str, now: datetime | None = None
) -> Principal:
    """
    Create the first administrator with a setup token (see :func:`issue_setup_token`).

    Checking the token, spending it, checking that no account exists and creating this one
    happen in one transaction under the accounts lock: of two concurrent attempts, one
    creates the administrator and the other is refused.

    Raises
    ------
    AuthenticationError
        Without a valid unused token, or once any account exists.
    """
    _check_account(name, "admin", password)
    now = now or clock.now()
    hashed = hasher().hash(password)
    system = Principal("first-run setup", "admin")
    with store.write() as tx:
        store.lock_for_accounts(tx)
        if tx.scalar("SELECT COUNT(*) FROM users"):
            msg = "setup: an account already exists; ask an admin"
            raise AuthenticationError(msg)
        spent = tx.execute(
            "UPDATE setup_tokens SET used_at = ?, used_by = ? "
            "WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
            (_t(store, now), name, sessions.digest(token or ""), _t(store, now)),
        ).rowcount
        if spent != 1:
            msg = "setup: the setup token is wrong, used or expired; see the server's console"
            raise AuthenticationError(msg)
        tx.bulk_insert(
            "users",
            pd.DataFrame(
                [{"name": name, "role": "admin", "password_hash": hashed, "created_at": now, "disabled": 0}]
            ),
        )
        tx.audit(system, "user_set", name, {}, {"role": "admin"}, store_wide=True)
    return Principal(name, "admin")


def _t(store: Store, when: datetime) -> Any:
    return store.encode_times(pd.Series([when]))[0]


def _delay(failures: int) -> timedelta:
    """The wait a client keeps after its ``failures``-th failure in the window (0 while few)."""
    if failures < CLIENT_FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** (failures - CLIENT_FREE_FAILURES)))


def authenticate(
    store: Store, name: str, password: str, *, client: str = "", now: datetime | None = None
) -> Principal:
    """
    Check a password; return the signed-in principal.

    The attempt is counted before its password is checked, in the transaction that reads the
    counts (under the accounts lock), so that N attempts sent at once cost N tries. Limits
    are per account *and client* (:data:`MAX_FAILURES` in :data:`FAILURE_WINDOW`), and per
    client over all accounts: after :data:`CLIENT_FREE_FAILURES`, each next attempt waits twice
    as long as the one before (up to :data:`MAX_DELAY`). Failures from one client never stop the account from
    signing in from another.

    Parameters
    ----------
    client
        The client's address (see :func:`geo.services.sessions.client_address`).

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
    attempt = secrets.token_hex(12)
    with store.write() as tx:
        store.lock_for_accounts(tx)
        refused = _limit(store, tx, name, client, now)
        tx.bulk_insert(
            "login_attempts",
            pd.DataFrame(
                [
                    {
                        "name": name,
                        "at": now,
                        "ok": 0,
                        "client": client,
                        "attempt": attempt,
                        "state": "refused" if refused else "pending",
                    }
                ]
            ),
        )
        if refused:
            note = {"note": "locked", "client": client}
            tx.audit(Principal(name, "viewer"), "login_failed", name, {}, note, store_wide=True)
    if refused:
        raise AuthenticationError(refused)
    row = store.frame("SELECT role, password_hash, disabled FROM users WHERE name = ?", (name,))
    stored = str(row["password_hash"].iloc[0]) if len(row) else _dummy_hash(password_hashing())
    try:
        ok = hasher().verify(stored, password) and len(row) == 1 and not int(row["disabled"].iloc[0])
    except (VerificationError, InvalidHashError):
        ok = False
    with store.write() as tx:
        tx.execute(
            "UPDATE login_attempts SET ok = ?, state = ? WHERE attempt = ?",
            (int(ok), "ok" if ok else "failed", attempt),
        )
        action = "login" if ok else "login_failed"
        tx.audit(Principal(name, "viewer"), action, name, {}, {"client": client}, store_wide=True)
    if not ok:
        msg = "wrong user name or password, or the account is disabled"
        raise AuthenticationError(msg)
    return Principal(name, str(row["role"].iloc[0]))  # type: ignore[arg-type]


def _limit(store: Store, tx: Any, name: str, client: str, now: datetime) -> str:
    """Why an attempt must be refused now ("" if it may be checked); pending attempts count as failures."""
    since = _t(store, now - FAILURE_WINDOW)
    failed = "ok = 0 AND state <> 'refused'"
    pair = int(
        tx.scalar(
            f"SELECT COUNT(*) FROM login_attempts WHERE name = ? AND client = ? AND at >= ? AND {failed}",
            (name, client, since),
        )
    )
    minutes = int(FAILURE_WINDOW.total_seconds() // 60)
    if pair >= MAX_FAILURES:
        return f"too many failed sign-ins for {name!r} from this address: try again in {minutes} minutes"
    by_client = tx.frame(
        f"SELECT COUNT(*) AS n, MAX(at) AS at FROM login_attempts WHERE client = ? AND at >= ? AND {failed}",
        (client, since),
    )
    count = int(by_client["n"].iloc[0])
    wait = _delay(count)
    if wait and not pd.isna(by_client["at"].iloc[0]):
        left = pd.Timestamp(by_client["at"].iloc[0]) + wait - pd.Timestamp(now)
        if left > pd.Timedelta(0):
            seconds = max(1, int(-(-left.total_seconds() // 1)))
            return f"too many failed sign-ins from this address: wait {seconds} s before trying again"
    return ""


def _check_account(name: str, role: str, password: str) -> None:
    if role not in ROLES:
        msg = f"role: must be one of {', '.join(ROLES)}, got {role!r}"
        raise InputError(msg)
    check_user_name(name)
    if len(password) < MIN_PASSWORD:
        msg = f"password: at least {MIN_PASSWORD} characters"
        raise InputError(msg)


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
    rows = store.records(
        "SELECT scenario_id, role FROM user_scenarios WHERE name = ? ORDER BY scenario_id", (name,)
    )
    return {str(r["scenario_id"]): r["role"] for r in rows}


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
