"""Signed-in sessions kept in the store, so that a sign-in survives reloads, new tabs and reconnects.

A session is a random id (256 bits) that only the browser holds, in an ``HttpOnly`` cookie; the
store keeps its SHA-256, the user, the role at sign-in, and when it was last used and ends. Every
page run resumes it from the store, so signing out, an administrator disabling the account or
changing its role ends it on every tab and every dashboard process at its next run.

The cookie is set by a request of its own (see ``dashboard/server.py``): the page hands the
browser a ticket, good once and for :data:`TICKET_SECONDS`, that the server exchanges for the
cookie. The session id itself is never given to page script.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd

from geo import clock
from geo.core.auth import ROLES, Principal, require
from geo.store import Store

COOKIE_NAME = "truceline_session"
"""The cookie that carries the session id."""
DEFAULT_IDLE_MINUTES = 60.0
DEFAULT_MAX_HOURS = 12.0
TICKET_SECONDS = 120
"""How long a cookie ticket may wait to be exchanged."""
TOUCH_SECONDS = 30
"""A session's last use is written at most this often, or a quarter of the idle limit if less."""

Kind = Literal["local", "oidc"]


@dataclass(frozen=True)
class Session:
    """A live session: who, how they signed in, and until when."""

    principal: Principal
    kind: Kind
    expires_at: datetime


def idle_limit() -> timedelta:
    """Idle time that ends a session (``TRUCELINE_SESSION_MINUTES``, default 60)."""
    return timedelta(minutes=_env_float("TRUCELINE_SESSION_MINUTES", DEFAULT_IDLE_MINUTES))


def lifetime() -> timedelta:
    """Time after sign-in that ends a session however active (``TRUCELINE_SESSION_MAX_HOURS``, default 12)."""
    return timedelta(hours=_env_float("TRUCELINE_SESSION_MAX_HOURS", DEFAULT_MAX_HOURS))


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def digest(secret: str) -> str:
    """The SHA-256 of a session id, ticket or token, as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _t(store: Store, when: datetime) -> Any:
    return store.encode_times(pd.Series([when]))[0]


def start(
    store: Store, user: Principal, *, kind: Kind = "local", client: str = "", now: datetime | None = None
) -> tuple[str, str]:
    """
    Open a session for ``user``.

    Returns
    -------
    tuple
        The session id (for the cookie, and for this page's own runs) and a one-time ticket
        that :func:`redeem_ticket` exchanges for the id.
    """
    now = now or clock.now()
    session_id = secrets.token_urlsafe(32)
    ticket = secrets.token_urlsafe(32)
    with store.write() as tx:
        tx.execute("DELETE FROM session_tickets WHERE expires_at < ?", (_t(store, now),))
        tx.bulk_insert(
            "sessions",
            pd.DataFrame(
                [
                    {
                        "session_hash": digest(session_id),
                        "user_name": user.name,
                        "role": user.role,
                        "kind": kind,
                        "client": client,
                        "created_at": now,
                        "last_seen": now,
                        "expires_at": now + lifetime(),
                        "ended_at": pd.NaT,
                        "end_reason": "",
                    }
                ]
            ),
        )
        tx.bulk_insert(
            "session_tickets",
            pd.DataFrame(
                [
                    {
                        "ticket_hash": digest(ticket),
                        "session_id": session_id,
                        "expires_at": now + timedelta(seconds=TICKET_SECONDS),
                    }
                ]
            ),
        )
    return session_id, ticket


def redeem_ticket(store: Store, ticket: str, *, now: datetime | None = None) -> str | None:
    """The session id a ticket stands for, once: a used, expired or unknown ticket gives ``None``."""
    now = now or clock.now()
    if not ticket or len(ticket) > 100:
        return None
    with store.write() as tx:  # one statement takes it: of two exchanges at once, one gets the id
        row = tx.frame(
            "DELETE FROM session_tickets WHERE ticket_hash = ? RETURNING session_id, expires_at",
            (digest(ticket),),
        )
    if row.empty or row["expires_at"].iloc[0] < pd.Timestamp(now):
        return None
    return str(row["session_id"].iloc[0])


def ticket_waiting(store: Store, ticket: str, *, now: datetime | None = None) -> bool:
    """Whether a ticket is still to be exchanged (not used, not expired)."""
    now = now or clock.now()
    found = store.scalar(
        "SELECT COUNT(*) FROM session_tickets WHERE ticket_hash = ? AND expires_at >= ?",
        (digest(ticket), _t(store, now)),
    )
    return bool(found)


def resume(
    store: Store, session_id: str | None, *, touch: bool = True, now: datetime | None = None
) -> Session | None:
    """
    The live session with this id, or ``None``; a session found expired or stale is ended.

    A local account's session ends when the account was disabled, removed, or given another
    role since sign-in.

    Parameters
    ----------
    touch
        Count this as activity (a click does; a page's own timed refresh does not, so a
        screen left open still times out).
    """
    if not session_id or len(session_id) > 100:
        return None
    now = now or clock.now()
    key = digest(session_id)
    found = store.records(
        "SELECT s.user_name, s.role, s.kind, s.last_seen, s.expires_at, s.ended_at, u.role AS account_role, "
        "u.disabled FROM sessions s LEFT JOIN users u ON u.name = s.user_name WHERE s.session_hash = ?",
        (key,),
    )
    if not found or found[0]["ended_at"] is not None:
        return None
    rec = found[0]
    stamp = pd.Timestamp(now)
    reason = ""
    if stamp >= rec["expires_at"]:
        reason = "lifetime"
    elif stamp - rec["last_seen"] > idle_limit():
        reason = "idle"
    elif rec["kind"] == "local" and (rec["account_role"] is None or int(rec["disabled"] or 0)):
        reason = "account disabled"
    elif rec["kind"] == "local" and rec["account_role"] != rec["role"]:
        reason = "role changed"
    elif rec["role"] not in ROLES:
        reason = "unknown role"
    if reason:
        _end(store, "session_hash = ?", (key,), reason, now)
        return None
    every = min(TOUCH_SECONDS, idle_limit().total_seconds() / 4)
    if touch and (stamp - rec["last_seen"]).total_seconds() >= every:
        with store.write() as tx:
            tx.execute(
                "UPDATE sessions SET last_seen = ? WHERE session_hash = ? AND ended_at IS NULL",
                (_t(store, now), key),
            )
    principal = Principal(str(rec["user_name"]), rec["role"])
    return Session(principal, rec["kind"], rec["expires_at"].to_pydatetime())


def end_reason(store: Store, session_id: str | None) -> str | None:
    """Why a session ended ("idle", "signed out", …), or ``None`` if it is unknown or live."""
    if not session_id or len(session_id) > 100:
        return None
    value = store.scalar(
        "SELECT end_reason FROM sessions WHERE session_hash = ? AND ended_at IS NOT NULL",
        (digest(session_id),),
    )
    return None if value is None else str(value)


def end(
    store: Store, session_id: str | None, *, reason: str = "signed out", now: datetime | None = None
) -> None:
    """End one session (sign-out): every tab that holds it is signed out at its next run."""
    if session_id:
        _end(store, "session_hash = ?", (digest(session_id),), reason, now or clock.now())


def end_for_user(store: Store, name: str, *, reason: str, now: datetime | None = None) -> int:
    """End every live session of a user; returns how many."""
    return _end(store, "user_name = ?", (name,), reason, now or clock.now())


def sign_out_everywhere(store: Store, name: str, *, actor: Principal) -> int:
    """End every live session of ``name`` (admins only, audited); returns how many."""
    require(actor, "manage_users")
    ended = end_for_user(store, name, reason="signed out by an admin")
    with store.write() as tx:
        tx.audit(actor, "sessions_end", name, {}, {"sessions": ended}, store_wide=True)
    return ended


def _end(store: Store, where: str, params: tuple[Any, ...], reason: str, now: datetime) -> int:
    with store.write() as tx:
        cur = tx.execute(
            f"UPDATE sessions SET ended_at = ?, end_reason = ? WHERE {where} AND ended_at IS NULL",
            (_t(store, now), reason, *params),
        )
        return int(cur.rowcount or 0)


def live_sessions(store: Store, *, actor: Principal, now: datetime | None = None) -> pd.DataFrame:
    """Sessions not ended, signed out or expired (admins only): user, role, kind, client, times."""
    require(actor, "manage_users")
    now = now or clock.now()
    frame = store.frame(
        "SELECT user_name, role, kind, client, created_at, last_seen, expires_at FROM sessions "
        "WHERE ended_at IS NULL AND expires_at > ? ORDER BY last_seen DESC",
        (_t(store, now),),
    )
    fresh = pd.Timestamp(now) - frame["last_seen"] <= idle_limit()
    return frame[fresh.to_numpy(dtype=bool)].reset_index(drop=True)


# -- client addresses ----------------------------------------------------------------------------


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """
    The reverse proxies whose ``X-Forwarded-For`` is believed (``TRUCELINE_TRUSTED_PROXIES``).

    A comma-separated list of addresses or networks (``127.0.0.1, 10.0.0.0/8``); empty by
    default, so that the header is ignored and nobody can choose their own address.
    """
    out = []
    for part in os.environ.get("TRUCELINE_TRUSTED_PROXIES", "").split(","):
        text = part.strip()
        if text:
            try:
                out.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                continue
    return out


def is_trusted_proxy(peer: str | None) -> bool:
    """Whether a connection from ``peer`` (``None``: the loopback interface) comes from a trusted proxy."""
    address = _parse(peer) or ipaddress.ip_address("127.0.0.1")
    return _trusted(address, trusted_proxies())


def client_address(peer: str | None, forwarded_for: str | None = None) -> str:
    """
    The address of the client behind a request.

    Parameters
    ----------
    peer
        The address the connection came from (``None``: the loopback interface).
    forwarded_for
        The ``X-Forwarded-For`` header, used only when ``peer`` is a trusted proxy: its
        addresses are read from the right, skipping trusted proxies, and the first other
        one is the client's.
    """
    address = _parse(peer) or ipaddress.ip_address("127.0.0.1")
    proxies = trusted_proxies()
    if forwarded_for and _trusted(address, proxies):
        for part in reversed(forwarded_for.split(",")):
            hop = _parse(part.strip())
            if hop is None:
                break
            address = hop
            if not _trusted(hop, proxies):
                break
    return str(address)


def _parse(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    return any(address.version == net.version and address in net for net in proxies)
