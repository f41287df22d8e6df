"""API tokens: Bearer secrets for devices and other systems, one scenario and one role each.

A token is shown once, when it is made; the store keeps only its SHA-256 (a token is 32
random bytes, so a fast hash is enough: nothing can be guessed from it). A token acts
as a principal named ``token:NAME`` with its role, in its scenario only; revoking it is
immediate. Making and revoking tokens are audited store-wide.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from geo import clock
from geo._errors import AuthenticationError, InputError, NotFoundError
from geo.core.auth import OPERATOR, Principal, require
from geo.core.names import check_user_name
from geo.store import Store

TokenRole = Literal["viewer", "analyst"]
TOKEN_ROLES: tuple[TokenRole, ...] = ("viewer", "analyst")
PREFIX = "tl_"
"""Every token starts with this, so a leaked one is easy to recognise in logs and scans."""


@dataclass(frozen=True)
class Token:
    """A stored token (never its secret)."""

    name: str
    role: TokenRole
    scenario_id: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @property
    def principal(self) -> Principal:
        """Who acts with this token: ``token:NAME`` with its role."""
        return Principal(f"token:{self.name}", self.role)

    @property
    def active(self) -> bool:
        """Whether the token still opens the API."""
        return self.revoked_at is None


def digest(secret: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def add_token(
    store: Store,
    name: str,
    role: str,
    *,
    scenario_id: str | None = None,
    actor: Principal = OPERATOR,
) -> str:
    """
    Make a token and return its secret (shown once; only its hash is stored).

    Parameters
    ----------
    store
        The store.
    name
        A unique name (letters, digits, ``.``, ``_``, ``-``, ``@``): what the audit log shows.
    role
        ``viewer`` (read) or ``analyst`` (read and post incidents).
    scenario_id
        The one scenario the token may read and write (default: the store's default scenario).
    actor
        Who makes it (needs ``manage_users``).
    """
    require(actor, "manage_users")
    check_user_name(name)
    if role not in TOKEN_ROLES:
        msg = f"token {name}: role {role!r}: must be one of {', '.join(TOKEN_ROLES)}"
        raise InputError(msg)
    scoped = store.using(scenario_id) if scenario_id else store
    if not store.has_scenario(scoped.scenario_id):
        held = ", ".join(store.scenario_ids()) or "none"
        msg = f"token {name}: scenario {scoped.scenario_id!r}: not in the store (it holds {held})"
        raise NotFoundError(msg)
    secret = PREFIX + secrets.token_urlsafe(32)
    with store.write() as tx:
        if tx.scalar("SELECT COUNT(*) FROM api_tokens WHERE name = ?", (name,)):
            msg = f"token {name}: exists already (revoke it, or choose another name)"
            raise InputError(msg)
        tx.bulk_insert(
            "api_tokens",
            pd.DataFrame(
                [
                    {
                        "name": name,
                        "token_hash": digest(secret),
                        "role": role,
                        "scenario_id": scoped.scenario_id,
                        "created_at": clock.now(),
                        "created_by": actor.name,
                    }
                ]
            ),
        )
        tx.audit(
            actor, "token_add", name, {}, {"role": role, "scenario": scoped.scenario_id}, store_wide=True
        )
    return secret


def list_tokens(store: Store, *, actor: Principal = OPERATOR) -> list[Token]:
    """Every token, active and revoked, by name."""
    require(actor, "manage_users")
    frame = store.frame("SELECT * FROM api_tokens ORDER BY name")
    return [_token(row) for row in frame.to_dict("records")]


def revoke_token(store: Store, name: str, *, actor: Principal = OPERATOR) -> None:
    """Revoke a token at once; its record stays (revoked) for the audit trail."""
    require(actor, "manage_users")
    with store.write() as tx:
        found = tx.scalar("SELECT COUNT(*) FROM api_tokens WHERE name = ? AND revoked_at IS NULL", (name,))
        if not found:
            msg = f"token {name}: no active token of that name (see `python -m geo tokens list`)"
            raise NotFoundError(msg)
        stamp = store.encode_times(pd.Series([clock.now()]))[0]
        tx.execute("UPDATE api_tokens SET revoked_at = ? WHERE name = ?", (stamp, name))
        tx.audit(actor, "token_revoke", name, {}, {"revoked": True}, store_wide=True)


def token_for(store: Store, secret: str) -> Token:
    """
    The active token whose secret this is.

    Raises
    ------
    AuthenticationError
        When no active token has this secret (unknown or revoked: the message does not say which).
    """
    if not secret.startswith(PREFIX) or len(secret) > 200:
        msg = "Authorization: not a Truceline API token"
        raise AuthenticationError(msg)
    frame = store.frame("SELECT * FROM api_tokens WHERE token_hash = ?", (digest(secret),))
    if frame.empty or pd.notna(frame["revoked_at"].iloc[0]):
        msg = "Authorization: unknown or revoked token"
        raise AuthenticationError(msg)
    return _token(frame.iloc[0].to_dict())


def _time(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp: datetime = pd.Timestamp(value).to_pydatetime()
    return stamp


def _token(row: dict[str, object]) -> Token:
    role = str(row["role"])
    return Token(
        name=str(row["name"]),
        role="analyst" if role == "analyst" else "viewer",
        scenario_id=str(row["scenario_id"]),
        created_at=_time(row["created_at"]) or clock.now(),
        created_by=str(row["created_by"]),
        revoked_at=_time(row["revoked_at"]),
    )
