"""The alert queue: what a committed batch puts in it, and claiming, settling and bundling deliveries.

Every alert is one row of ``alert_deliveries``, unique by (subscription, event key):
``incident:ID`` for an incident, ``spike:ZONE:PARTY:WEEK`` for a spike (one per zone,
party and ISO week), ``digest:DAY`` for a day's digest. Rows are queued inside the
upload's own transaction, so a batch and its alerts commit together or not at all.

A worker claims a row with one conditional ``UPDATE`` (``pending`` and due, or
``sending`` with an expired lease): only one process can win it. A worker that dies
mid-delivery leaves its row ``sending``; when the lease ends, another worker sends it
again with the same delivery id, which receivers use to drop the repeat.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pandas as pd

from geo import clock
from geo.core import trends
from geo.core.model import Scenario
from geo.core.names import clip, printable
from geo.services.alerts._subscriptions import Subscription, from_micros, micros, subscriptions
from geo.store import Store, Tx

DEFAULT_BASE_URL = "http://localhost:8501"
BASE_URL_VARIABLE = "TRUCELINE_BASE_URL"
MAX_TEXT = 2000
"""The longest free text (description, place) an alert carries."""


def base_url(store: Store) -> str:
    """The dashboard's address for links: ``TRUCELINE_BASE_URL``, else the ``base_url`` setting."""
    from geo.services.settings import get_setting

    value = os.environ.get(BASE_URL_VARIABLE) or get_setting(store, "base_url") or DEFAULT_BASE_URL
    return str(value).rstrip("/")


def incident_link(base: str, scenario_id: str, incident_id: int) -> str:
    """The dashboard page of one incident."""
    return f"{base}/incident?id={int(incident_id)}&scenario={quote(scenario_id, safe='')}"


def _text(value: Any) -> str:
    """Free text made safe to carry: one string, control characters escaped, bounded."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return clip(printable(str(value)), MAX_TEXT)


def queue_batch(tx: Tx, scenario: Scenario, batch_id: int) -> int:
    """
    Queue the alerts of a batch being committed in ``tx``: its matching incidents, and new spikes.

    Returns
    -------
    int
        How many alerts were queued.
    """
    store = tx.store
    subs = [s for s in subscriptions(store) if s.verdicts or s.spikes]
    if not subs:
        return 0
    now = clock.now()
    base = base_url(store)
    rows: list[tuple[Subscription, str, str, dict[str, Any]]] = []
    wanted = sorted({v for s in subs for v in s.verdicts})
    if wanted:
        marks = ", ".join("?" * len(wanted))
        found = tx.frame(
            "SELECT incident_id, source, source_event_id, occurred_at, date_precision, lon, lat, "
            "location_precision, location_name, category, weapon_class, actor, attributed_party, "
            "attribution, "
            "fatalities, description, verification, zones, verdict, rules, verdict_reason FROM incidents "
            f"WHERE batch_id = ? AND scenario_id = ? AND verdict IN ({marks}) ORDER BY incident_id",
            (batch_id, store.scenario_id, *wanted),
        )
        for row in found.to_dict("records"):
            payload = incident_payload(row, scenario, store.scenario_id, base)
            for sub in subs:
                if sub.matches(str(row["zones"]), str(row["attributed_party"]), str(row["verdict"])):
                    rows.append((sub, f"incident:{int(row['incident_id'])}", "incident", payload))
    if any(s.spikes for s in subs):
        rows += _spike_rows(tx, scenario, [s for s in subs if s.spikes], now)
    return _insert(tx, rows, now)


def drop_batch_alerts(tx: Tx, batch_id: int) -> int:
    """
    Drop the alerts of an upload being undone in ``tx`` that have not gone out yet.

    Incident alerts still queued or held for a digest go; one being sent, or sent, stays.
    Returns how many were dropped.
    """
    cur = tx.execute(
        "DELETE FROM alert_deliveries WHERE kind = 'incident' AND status IN ('pending', 'held') "
        "AND scenario_id = ? AND event_key IN "
        "(SELECT 'incident:' || CAST(incident_id AS TEXT) FROM incidents WHERE batch_id = ?)",
        (tx.store.scenario_id, batch_id),
    )
    return int(cur.rowcount or 0)


def incident_payload(row: dict[str, Any], scenario: Scenario, scenario_id: str, base: str) -> dict[str, Any]:
    """What an incident alert says: the incident, its verdict, the rules quoted, and its page."""
    zones = {z.id: z.name for z in scenario.zones}
    parties = {p.id: p.name for p in scenario.parties}
    rules = {r.id: r for r in scenario.rules}
    fired = [rules[r] for r in str(row["rules"]).split(";") if r in rules]
    occurred = pd.Timestamp(row["occurred_at"])
    party = str(row["attributed_party"])
    return {
        "event": "incident",
        "scenario": {"id": scenario_id, "name": _text(scenario.name)},
        "incident": {
            "id": int(row["incident_id"]),
            "source": _text(row["source"]),
            "source_event_id": _text(row["source_event_id"]),
            "occurred_at": occurred.isoformat(),
            "date_precision": str(row["date_precision"]),
            "lon": float(row["lon"]),
            "lat": float(row["lat"]),
            "location_precision": str(row["location_precision"]),
            "location_name": _text(row["location_name"]),
            "category": _text(row["category"]),
            "weapon_class": _text(row["weapon_class"]),
            "actor": _text(row["actor"]),
            "party": party,
            "party_name": _text(parties.get(party, party)),
            "attribution": str(row["attribution"]),
            "fatalities": None if pd.isna(row["fatalities"]) else int(row["fatalities"]),
            "verification": str(row["verification"]),
            "description": _text(row["description"]),
            "zones": [
                {"id": z, "name": _text(zones.get(z, z))} for z in filter(None, str(row["zones"]).split(";"))
            ],
        },
        "verdict": str(row["verdict"]),
        "verdict_reason": _text(row["verdict_reason"]),
        "rules": [{"id": r.id, "zone": r.zone, "severity": r.severity, "text": _text(r.text)} for r in fired],
        "link": incident_link(base, scenario_id, int(row["incident_id"])),
    }


def _spike_rows(
    tx: Tx, scenario: Scenario, subs: list[Subscription], now: datetime
) -> list[tuple[Subscription, str, str, dict[str, Any]]]:
    """Spike alerts: zone × party groups flagged ``spike`` now, once per group and ISO week."""
    store = tx.store
    end = pd.Timestamp(now)
    start = end - timedelta(days=35)
    bounds = store.encode_times(pd.Series([start, end]))
    recent = tx.frame(
        "SELECT occurred_at, zones, attributed_party, verdict FROM incidents WHERE scenario_id = ? "
        "AND occurred_at >= ? AND occurred_at < ? AND verdict IN ('breach', 'possible_breach')",
        (store.scenario_id, _plain(bounds[0]), _plain(bounds[1])),
    )
    if recent.empty:
        return []
    flagged = trends.spikes(trends.explode_zones(recent), as_of=end, by=("zone", "party"))
    flagged = flagged[(flagged["level"] == "spike") & (flagged["zone"].astype(str) != trends.NO_ZONE)]
    zones = {z.id: z.name for z in scenario.zones}
    parties = {p.id: p.name for p in scenario.parties}
    year, week, _ = now.isocalendar()
    out = []
    for spike in flagged.itertuples(index=False):
        zone, party = str(spike.zone), str(spike.party)
        party_id = "" if party == trends.UNATTRIBUTED else party
        payload = {
            "event": "spike",
            "scenario": {"id": store.scenario_id, "name": _text(scenario.name)},
            "zone": {"id": zone, "name": _text(zones.get(zone, zone))},
            "party": {"id": party_id, "name": _text(parties.get(party_id, party))},
            "last_7d": int(spike.last_7d),
            "baseline_weekly_mean": round(float(spike.baseline), 2),
            "change": None if spike.change == float("inf") else round(float(spike.change), 4),
            "as_of": end.isoformat(),
            "rule": "the last 7 days exceed the weekly mean of the 4 weeks before by more than 25 %, "
            f"with at least {trends.DEFAULT_FLOOR} breaches and possible breaches",
            "link": f"{base_url(store)}/trends?scenario={quote(store.scenario_id, safe='')}",
        }
        for sub in subs:
            if (sub.zones and zone not in sub.zones) or (sub.parties and party_id not in sub.parties):
                continue
            out.append((sub, f"spike:{zone}:{party_id}:{year}-W{week:02d}", "spike", payload))
    return out


def _plain(value: Any) -> Any:
    """A bound parameter as a plain Python value (numpy integers are not every driver's)."""
    return value.item() if hasattr(value, "item") else value


def _insert(tx: Tx, rows: Iterable[tuple[Subscription, str, str, dict[str, Any]]], now: datetime) -> int:
    """Insert queued alerts, leaving out any queued before for the same subscription and event."""
    store = tx.store
    first = tx.next_id("alert_deliveries", "delivery_id")
    stamp = micros(now)
    params = []
    for position, (sub, key, kind, payload) in enumerate(rows):
        body = json.dumps({**payload, "subscription": sub.name}, ensure_ascii=False, sort_keys=True)
        status = "held" if sub.digest else "pending"
        params.append(
            (first + position, sub.scenario_id, sub.subscription_id, key, kind, body, status, stamp, stamp)
        )
    if params:
        tx.cur.executemany(
            store.sql(
                "INSERT INTO alert_deliveries (delivery_id, scenario_id, subscription_id, event_key, kind, "
                "payload, status, attempts, next_us, lease_us, worker, last_error, created_us) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, '', '', ?) "
                "ON CONFLICT (subscription_id, event_key) DO NOTHING"
            ),
            params,
        )
    return int(tx.scalar("SELECT COUNT(*) FROM alert_deliveries WHERE delivery_id >= ?", (first,)))


def queue_test(store: Store, sub: Subscription) -> int:
    """Queue a test alert for ``sub`` (delivered at once, never bundled into a digest); its delivery id."""
    now = clock.now()
    payload = {
        "event": "test",
        "scenario": {"id": sub.scenario_id, "name": _text((store.scenario() or Scenario(name="")).name)},
        "message": "A test alert from Truceline: this subscription works.",
        "subscription": sub.name,
        "link": f"{base_url(store)}/?scenario={quote(sub.scenario_id, safe='')}",
    }
    with store.write() as tx:
        store.lock_for_ingest(tx)
        delivery_id = tx.next_id("alert_deliveries", "delivery_id")
        tx.execute(
            "INSERT INTO alert_deliveries (delivery_id, scenario_id, subscription_id, event_key, kind, "
            "payload, "
            "status, attempts, next_us, lease_us, worker, last_error, created_us) "
            "VALUES (?, ?, ?, ?, 'test', ?, 'pending', 0, ?, 0, '', '', ?)",
            (
                delivery_id,
                sub.scenario_id,
                sub.subscription_id,
                f"test:{delivery_id}",
                json.dumps(payload, ensure_ascii=False, sort_keys=True),
                micros(now),
                micros(now),
            ),
        )
    return delivery_id


# -- claiming and settling ---------------------------------------------------------------------


def claim(store: Store, worker: str, *, now: datetime, lease: timedelta, look: int = 20) -> int | None:
    """
    Claim one due delivery for ``worker``; its id, or None when nothing is due.

    A delivery is due when ``pending`` and its time has come, or ``sending`` under a lease
    that has ended (its worker died). One conditional ``UPDATE`` claims it, so only one
    worker wins it; the lease starts now, just before the sending. Claiming counts an attempt.
    """
    stamp = micros(now)
    due = store.frame(
        "SELECT delivery_id FROM alert_deliveries WHERE (status = 'pending' AND next_us <= ?) "
        "OR (status = 'sending' AND lease_us < ?) ORDER BY next_us, delivery_id LIMIT ?",
        (stamp, stamp, int(look)),
    )
    for delivery_id in due["delivery_id"].astype("int64").tolist() if len(due) else []:
        with store.write() as tx:
            cur = tx.execute(
                "UPDATE alert_deliveries SET status = 'sending', worker = ?, lease_us = ?, "
                "attempts = attempts + 1 "
                "WHERE delivery_id = ? AND ((status = 'pending' AND next_us <= ?) "
                "OR (status = 'sending' AND lease_us < ?))",
                (worker, stamp + lease // timedelta(microseconds=1), delivery_id, stamp, stamp),
            )
            if cur.rowcount == 1:
                return int(delivery_id)
    return None


def settle(
    store: Store, delivery_id: int, worker: str, *, error: str | None, now: datetime, sub: Subscription | None
) -> str:
    """
    Record how a claimed delivery went: ``sent``, ``pending`` again (after a backoff) or ``dead``.

    Only the worker holding the claim can settle it. Returns the new status.
    """
    with store.write() as tx:
        attempts = tx.scalar(
            "SELECT attempts FROM alert_deliveries "
            "WHERE delivery_id = ? AND worker = ? AND status = 'sending'",
            (delivery_id, worker),
        )
        if attempts is None:
            return "lost"  # the lease ended and another worker took it
        if error is None:
            status, params = "sent", ("", micros(now), 0)
            tx.execute(
                "UPDATE alert_deliveries SET status = 'sent', last_error = ?, sent_us = ?, lease_us = ? "
                "WHERE delivery_id = ?",
                (*params, delivery_id),
            )
            return status
        retries = sub.retries if sub is not None else 0
        if sub is None or int(attempts) > retries:
            status, next_us = "dead", micros(now)
        else:
            status = "pending"
            delay = timedelta(seconds=sub.backoff_s * 2 ** (int(attempts) - 1))
            next_us = micros(now + delay)
        tx.execute(
            "UPDATE alert_deliveries SET status = ?, last_error = ?, next_us = ?, lease_us = 0 "
            "WHERE delivery_id = ?",
            (status, clip(printable(error), 500), next_us, delivery_id),
        )
        return status


def bundle_digests(store: Store, *, now: datetime) -> int:
    """
    Bundle the held alerts of each digest subscription into one delivery per past UTC day.

    A day's digest is made once the day is over; returns how many digests were made.
    """
    today = micros(now.replace(hour=0, minute=0, second=0, microsecond=0))
    held = store.frame(
        "SELECT delivery_id, subscription_id, scenario_id, payload, created_us FROM alert_deliveries "
        "WHERE status = 'held' AND created_us < ? ORDER BY subscription_id, created_us, delivery_id",
        (today,),
    )
    made = 0
    if held.empty:
        return 0
    held["day"] = [from_micros(int(v)).date().isoformat() for v in held["created_us"]]
    for (sub_id, day), group in held.groupby(["subscription_id", "day"], sort=True):
        items = [json.loads(p) for p in group["payload"]]
        scenario_id = str(group["scenario_id"].iloc[0])
        body = {
            "event": "digest",
            "day": day,
            "scenario": items[0].get("scenario", {"id": scenario_id}),
            "subscription": items[0].get("subscription", ""),
            "count": len(items),
            "alerts": items,
        }
        ids = [int(v) for v in group["delivery_id"]]
        with store.write() as tx:
            store.lock_for_ingest(tx)
            digest_id = tx.next_id("alert_deliveries", "delivery_id")
            cur = tx.execute(
                "INSERT INTO alert_deliveries (delivery_id, scenario_id, subscription_id, event_key, kind, "
                "payload, status, attempts, next_us, lease_us, worker, last_error, created_us) "
                "VALUES (?, ?, ?, ?, 'digest', ?, 'pending', 0, ?, 0, '', '', ?) "
                "ON CONFLICT (subscription_id, event_key) DO NOTHING",
                (digest_id, scenario_id, int(sub_id), f"digest:{day}", json.dumps(body, ensure_ascii=False,
                 sort_keys=True), micros(now), micros(now)),
            )  # fmt: skip
            if not cur.rowcount:
                continue
            marks = ", ".join("?" * len(ids))
            tx.execute(
                f"UPDATE alert_deliveries SET status = 'bundled', digest_id = ? "
                f"WHERE status = 'held' AND delivery_id IN ({marks})",
                (digest_id, *ids),
            )
            made += 1
    return made
