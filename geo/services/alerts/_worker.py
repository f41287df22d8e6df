"""The delivery worker: claim what is due, send it, record how it went; a loop that stops cleanly."""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from geo import clock
from geo.services.alerts._queue import bundle_digests, claim, settle
from geo.services.alerts._send import (
    DeliveryError,
    body_bytes,
    email_message,
    incident_image,
    post_webhook,
    send_email,
    smtp_settings,
)
from geo.services.alerts._subscriptions import Subscription, subscriptions
from geo.store import Store

DEFAULT_LEASE = timedelta(minutes=2)
"""How long a claimed delivery stays with its worker before another may take it (the worker died)."""


@dataclass
class DeliveryReport:
    """What one round of deliveries did."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        """Add another round's counts to this one."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.digests += other.digests
        self.errors += other.errors


def worker_name() -> str:
    """A name for this worker that no other process shares: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def deliver_due(
    store: Store,
    *,
    worker: str | None = None,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
    stop: threading.Event | None = None,
    budget_s: float | None = None,
) -> DeliveryReport:
    """
    Bundle finished days into digests, then send every delivery that is due, across all scenarios.

    Parameters
    ----------
    store
        The store (any scenario handle: the queue is store-wide).
    worker
        This worker's name (default: a new unique one).
    now
        The present (default: the clock, read at each step).
    lease
        How long a claim holds.
    stop
        Stop between deliveries once set.
    budget_s
        Claim nothing more after this many seconds (of elapsed time, not of the clock):
        a round run after an upload must not hold its command while receivers time out.
    """
    name = worker or worker_name()
    report = DeliveryReport()
    report.digests = bundle_digests(store, now=now or clock.now())
    subs = {s.subscription_id: s for s in subscriptions(store, all_scenarios=True)}
    started = time.monotonic()
    while stop is None or not stop.is_set():
        if budget_s is not None and time.monotonic() - started > budget_s:
            break
        delivery_id = claim(store, name, now=now or clock.now(), lease=lease)
        if delivery_id is None:
            break
        _deliver_one(store, delivery_id, name, subs, now, report)
    return report


def _deliver_one(
    store: Store,
    delivery_id: int,
    worker: str,
    subs: dict[int, Subscription],
    now: datetime | None,
    report: DeliveryReport,
) -> None:
    row = store.frame(
        "SELECT subscription_id, scenario_id, kind, payload FROM alert_deliveries WHERE delivery_id = ?",
        (delivery_id,),
    )
    if row.empty:
        return
    sub_id, scenario_id, kind, raw = row.iloc[0]
    sub = subs.get(int(sub_id))
    if sub is None:  # added after this round began, or removed
        sub = next(
            (s for s in subscriptions(store, all_scenarios=True) if s.subscription_id == int(sub_id)), None
        )
    error: str | None = None
    if sub is None:
        error = "the subscription was removed"
    else:
        try:
            _send(store.using(str(scenario_id)), sub, delivery_id, str(kind), json.loads(raw), now)
        except DeliveryError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001 - any failure of one alert is that alert's, retried
            error = f"{type(err).__name__}: {err}"
    status = settle(store, delivery_id, worker, error=error, now=now or clock.now(), sub=sub)
    if status == "sent":
        report.sent += 1
    elif status == "pending":
        report.retrying += 1
    elif status == "dead":
        report.dead += 1
    if error is not None:
        report.errors.append(f"delivery {delivery_id}: {error}")


def _send(
    store: Store,
    sub: Subscription,
    delivery_id: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime | None,
) -> None:
    moment = now or clock.now()
    if sub.channel == "webhook":
        post_webhook(sub, delivery_id, body_bytes(payload, delivery_id), kind, now=moment)
        return
    settings = smtp_settings(store)
    image = None
    if kind == "incident":
        try:
            image = incident_image(store, payload, now=moment)
        except Exception:  # noqa: BLE001 - the alert goes out without its map rather than not at all
            image = None
    send_email(email_message(sub, delivery_id, payload, settings, now=moment, image=image), settings)


def run_worker(
    store: Store,
    stop: threading.Event,
    *,
    poll_s: float = 5.0,
    lease: timedelta = DEFAULT_LEASE,
    on_round: object = None,
) -> DeliveryReport:
    """
    Deliver alerts until ``stop`` is set: a round every ``poll_s`` seconds.

    The delivery being sent when ``stop`` is set finishes, and nothing more is claimed.
    Returns the totals.
    """
    name = worker_name()
    total = DeliveryReport()
    while not stop.is_set():
        try:
            done = deliver_due(store, worker=name, lease=lease, stop=stop)
        except Exception as err:  # noqa: BLE001 - the store may be briefly away: try again next round
            done = DeliveryReport(
                errors=[f"round failed, retrying in {poll_s:g} s: {type(err).__name__}: {err}"]
            )
        total.add(done)
        if callable(on_round):
            on_round(done)
        _pause(stop, poll_s)
    return total


def _pause(stop: threading.Event, seconds: float) -> None:
    """
    Wait ``seconds`` or until ``stop`` is set, in short relative sleeps.

    Not ``stop.wait(seconds)``: a timed wait hands the kernel an absolute deadline, which a
    shifted process clock (libfaketime in tests, a clock stepped by NTP) can put hours away.
    """
    end = time.monotonic() + seconds
    while not stop.is_set():
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))
