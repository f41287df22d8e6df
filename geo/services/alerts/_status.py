"""What the admin sees of the queue: deliveries by status, the dead-letter list, requeueing; SMTP settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from geo import clock
from geo._errors import InputError
from geo.core.auth import OPERATOR, Principal, require
from geo.services.alerts._queue import queue_test
from geo.services.alerts._send import SECURITY, SmtpSettings
from geo.services.alerts._subscriptions import check_email, from_micros, micros, subscription
from geo.store import Store

STATUSES = ("held", "pending", "sending", "sent", "dead", "bundled")


@dataclass(frozen=True)
class Delivery:
    """One queued alert, as the admin sees it."""

    delivery_id: int
    subscription: str
    kind: str
    event_key: str
    status: str
    attempts: int
    next_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str


def deliveries(store: Store, *, status: str | None = None, limit: int = 200) -> list[Delivery]:
    """The current scenario's deliveries, newest first; ``status`` ``dead`` gives the dead-letter list."""
    if status is not None and status not in STATUSES:
        msg = f"status {status!r}: must be one of {', '.join(STATUSES)}"
        raise InputError(msg)
    where = "d.scenario_id = ?" + (" AND d.status = ?" if status else "")
    params: tuple[object, ...] = (store.scenario_id, status) if status else (store.scenario_id,)
    frame = store.frame(
        "SELECT d.delivery_id, COALESCE(s.name, '') AS name, d.kind, d.event_key, d.status, d.attempts, "
        "d.next_us, d.created_us, d.sent_us, d.last_error FROM alert_deliveries d "
        "LEFT JOIN alert_subscriptions s ON s.subscription_id = d.subscription_id "
        f"WHERE {where} ORDER BY d.delivery_id DESC LIMIT ?",
        (*params, int(limit)),
    )
    return [
        Delivery(
            delivery_id=int(r[0]),
            subscription=str(r[1]),
            kind=str(r[2]),
            event_key=str(r[3]),
            status=str(r[4]),
            attempts=int(r[5]),
            next_at=from_micros(int(r[6])),
            created_at=from_micros(int(r[7])),
            sent_at=None if r[8] is None or r[8] != r[8] else from_micros(int(r[8])),
            last_error=str(r[9]),
        )
        for r in frame.itertuples(index=False)
    ]


def delivery_counts(store: Store) -> dict[str, dict[str, int]]:
    """For each subscription of the current scenario, its deliveries counted by status."""
    frame = store.frame(
        "SELECT s.name, d.status, COUNT(*) AS n FROM alert_deliveries d JOIN alert_subscriptions s "
        "ON s.subscription_id = d.subscription_id WHERE d.scenario_id = ? GROUP BY s.name, d.status",
        (store.scenario_id,),
    )
    out: dict[str, dict[str, int]] = {}
    for name, status, n in frame.itertuples(index=False):
        out.setdefault(str(name), {})[str(status)] = int(n)
    return out


def requeue(store: Store, delivery_ids: Sequence[int] | None = None, *, actor: Principal = OPERATOR) -> int:
    """
    Send dead-lettered deliveries again (all of the scenario's when ``delivery_ids`` is None); audited.

    Each starts over with its subscription's full retries. Returns how many were requeued.
    """
    require(actor, "manage_users")
    now = micros(clock.now())
    where, params = "scenario_id = ? AND status = 'dead'", [store.scenario_id]
    params_ids: list[int] = []
    if delivery_ids is not None:
        if not delivery_ids:
            return 0
        where += f" AND delivery_id IN ({', '.join('?' * len(delivery_ids))})"
        params_ids = [int(v) for v in delivery_ids]
    with store.write() as tx:
        count = tx.execute(
            "UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_us = ?, lease_us = 0 "
            f"WHERE {where}",
            (now, *params, *params_ids),
        ).rowcount
        tx.audit(actor, "alerts_requeued", "dead letters", {}, {"count": int(count or 0)})
    return int(count or 0)


def test_alert(store: Store, name: str, *, actor: Principal = OPERATOR) -> int:
    """Queue a test alert for the subscription ``name``; its delivery id."""
    require(actor, "manage_users")
    return queue_test(store, subscription(store, name))


def set_smtp_settings(store: Store, settings: SmtpSettings, *, actor: Principal = OPERATOR) -> None:
    """
    Keep the SMTP server, port, sender, user and security in the store (admins; audited).

    The password is never stored: it comes from ``TRUCELINE_SMTP_PASSWORD`` only.
    """
    from geo.services.settings import set_setting

    if settings.security not in SECURITY:
        msg = f"SMTP security {settings.security!r}: must be one of {', '.join(SECURITY)}"
        raise InputError(msg)
    if not 0 < settings.port < 65536:
        msg = f"SMTP port {settings.port}: must be 1 to 65535"
        raise InputError(msg)
    if any(c.isspace() or c in "/@:" for c in settings.host):
        msg = f"SMTP server {settings.host!r}: a host name or address only"
        raise InputError(msg)
    value = {
        "host": settings.host.strip(),
        "port": int(settings.port),
        "sender": check_email(settings.sender),
        "user": settings.user.strip(),
        "security": settings.security,
    }
    set_setting(store, "smtp", value, actor=actor)
