"""Alert subscriptions: who is told what, per scenario; adding, listing, removing them."""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from geo import clock
from geo._errors import InputError
from geo.core.auth import OPERATOR, Principal, require
from geo.core.names import check_name, clip, printable
from geo.store import Store

CHANNELS = ("webhook", "email")
VERDICTS = ("breach", "possible_breach")
DIGESTS = ("", "daily")
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_S = 60.0
MAX_RETRIES = 20
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$|^[^@\s<>\"',;]+@localhost$")


@dataclass(frozen=True)
class Subscription:
    """
    One alert subscription of one scenario.

    Empty ``zones`` or ``parties`` mean any; ``verdicts`` are the incident verdicts that
    alert (empty: incidents never alert, only spikes). ``retries`` failed attempts after
    the first are retried, ``backoff_s`` apart and doubling; then the delivery is dead.
    """

    subscription_id: int
    scenario_id: str
    name: str
    channel: str
    target: str
    zones: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = VERDICTS
    spikes: bool = False
    digest: str = ""
    retries: int = DEFAULT_RETRIES
    backoff_s: float = DEFAULT_BACKOFF_S
    created_by: str = ""
    secret: str = field(default="", repr=False)

    def matches(self, zones: str, party: str, verdict: str) -> bool:
        """Whether an incident in ``zones`` (``;``-separated), by ``party``, with ``verdict`` alerts."""
        if verdict not in self.verdicts:
            return False
        if self.parties and party not in self.parties:
            return False
        return not self.zones or bool(set(self.zones) & set(filter(None, zones.split(";"))))


def check_webhook_url(url: str) -> str:
    """
    A webhook URL, checked: ``http`` or ``https``, a host, no user name or password in it.

    Raises
    ------
    InputError
        Naming the problem.
    """
    shown = printable(clip(url, 80))
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        msg = f"webhook {shown!r}: only http:// and https:// URLs are accepted"
        raise InputError(msg)
    if not parts.hostname:
        msg = f"webhook {shown!r}: the URL names no host"
        raise InputError(msg)
    if parts.username or parts.password:
        msg = f"webhook {shown!r}: put no user name or password in the URL (the signature authenticates)"
        raise InputError(msg)
    if len(url) > 2000 or any(c.isspace() for c in url.strip()):
        msg = f"webhook {shown!r}: not a valid URL"
        raise InputError(msg)
    return url.strip()


def check_email(address: str) -> str:
    """An e-mail address, checked (one address, no display name, no header characters)."""
    value = address.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        msg = f"e-mail {printable(clip(address, 80))!r}: not an address such as name@example.org"
        raise InputError(msg)
    return value


def is_loopback(url: str) -> bool:
    """Whether a webhook URL points at this machine (used by tests and the docs' examples)."""
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def add_subscription(
    store: Store,
    name: str,
    *,
    webhook: str | None = None,
    email: str | None = None,
    zones: tuple[str, ...] = (),
    parties: tuple[str, ...] = (),
    verdicts: tuple[str, ...] = (),
    spikes: bool = False,
    incidents: bool = True,
    digest: str = "",
    retries: int = DEFAULT_RETRIES,
    backoff_s: float = DEFAULT_BACKOFF_S,
    actor: Principal = OPERATOR,
) -> Subscription:
    """
    Add a subscription to the store's current scenario; audited.

    Exactly one of ``webhook`` and ``email``. Zones and parties must be the scenario's.
    Without ``verdicts``, breaches and possible breaches alert; without ``incidents``
    (with ``spikes``), only spikes do. A webhook subscription
    gets a new random secret, returned here (and shown once by the command line and
    the admin page): receivers check the signature with it.

    Raises
    ------
    InputError
        A bad name, URL, address, zone, party, verdict or digest, or a name taken.
    """
    require(actor, "manage_users")
    check_name("subscription name", name, limit=64)
    if (webhook is None) == (email is None):
        msg = "alert: give exactly one of a webhook URL and an e-mail address"
        raise InputError(msg)
    channel, target = (
        ("webhook", check_webhook_url(webhook))
        if webhook is not None
        else (
            "email",
            check_email(email or ""),
        )
    )
    scenario = store.scenario()
    if scenario is None:
        msg = f"scenario {store.scenario_id!r}: not in the store; load it first"
        raise InputError(msg)
    _known("zone", zones, {z.id for z in scenario.zones})
    _known("party", parties, {p.id for p in scenario.parties})
    _known("verdict", verdicts, set(VERDICTS))
    if digest not in DIGESTS:
        msg = f"digest {printable(digest)!r}: must be daily or none"
        raise InputError(msg)
    if not 0 <= retries <= MAX_RETRIES:
        msg = f"retries: must be 0 to {MAX_RETRIES}, got {retries}"
        raise InputError(msg)
    if not 0.0 <= backoff_s <= 86_400.0:
        msg = f"backoff: must be 0 to 86400 seconds, got {backoff_s}"
        raise InputError(msg)
    secret = secrets.token_urlsafe(32) if channel == "webhook" else ""
    chosen = (tuple(dict.fromkeys(verdicts)) or VERDICTS) if incidents else ()
    if not chosen and not spikes:
        msg = "alert: a subscription without incidents must follow spikes"
        raise InputError(msg)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        taken = tx.scalar(
            "SELECT COUNT(*) FROM alert_subscriptions WHERE scenario_id = ? AND name = ?",
            (store.scenario_id, name),
        )
        if taken:
            msg = f"alert {printable(name)!r}: scenario {store.scenario_id!r} has a subscription of that name"
            raise InputError(msg)
        sub_id = tx.next_id("alert_subscriptions", "subscription_id")
        tx.execute(
            "INSERT INTO alert_subscriptions (subscription_id, scenario_id, name, channel, target, secret, "
            "zones, parties, verdicts, spikes, digest, retries, backoff_s, created_by, created_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sub_id,
                store.scenario_id,
                name,
                channel,
                target,
                secret,
                ";".join(dict.fromkeys(zones)),
                ";".join(dict.fromkeys(parties)),
                ";".join(chosen),
                int(spikes),
                digest,
                retries,
                float(backoff_s),
                actor.name,
                micros(clock.now()),
            ),
        )
        tx.audit(
            actor,
            "alert_added",
            name,
            {},
            {"channel": channel, "target": target, "zones": zones, "parties": parties, "verdicts": chosen,
             "spikes": spikes, "digest": digest},
        )  # fmt: skip
    return subscription(store, name)


def _known(what: str, given: tuple[str, ...], known: set[str]) -> None:
    unknown = [v for v in given if v not in known]
    if unknown:
        msg = (
            f"{what} {printable(clip(unknown[0], 64))!r}: not in scenario "
            f"(known: {', '.join(sorted(known)) or 'none'})"
        )
        raise InputError(msg)


_COLUMNS = (
    "subscription_id, scenario_id, name, channel, target, secret, zones, parties, verdicts, spikes, digest, "
    "retries, backoff_s, created_by"
)


def _of(row: tuple[object, ...]) -> Subscription:
    (sid, scenario_id, name, channel, target, secret, zones, parties, verdicts, spikes, digest, retries,
     backoff, by) = row  # fmt: skip
    return Subscription(
        subscription_id=int(sid),  # type: ignore[call-overload]
        scenario_id=str(scenario_id),
        name=str(name),
        channel=str(channel),
        target=str(target),
        zones=tuple(filter(None, str(zones).split(";"))),
        parties=tuple(filter(None, str(parties).split(";"))),
        verdicts=tuple(filter(None, str(verdicts).split(";"))),
        spikes=bool(spikes),
        digest=str(digest),
        retries=int(retries),  # type: ignore[call-overload]
        backoff_s=float(backoff),  # type: ignore[arg-type]
        created_by=str(by),
        secret=str(secret),
    )


def subscriptions(store: Store, *, all_scenarios: bool = False) -> list[Subscription]:
    """The subscriptions of the store's current scenario (or of every scenario), by name."""
    if all_scenarios:
        frame = store.frame(f"SELECT {_COLUMNS} FROM alert_subscriptions ORDER BY scenario_id, name")
    else:
        frame = store.frame(
            f"SELECT {_COLUMNS} FROM alert_subscriptions WHERE scenario_id = ? ORDER BY name",
            (store.scenario_id,),
        )
    return [_of(tuple(r)) for r in frame.itertuples(index=False)]


def subscription(store: Store, name: str) -> Subscription:
    """The subscription called ``name`` in the current scenario; :class:`InputError` when none."""
    for sub in subscriptions(store):
        if sub.name == name:
            return sub
    msg = f"alert {printable(clip(name, 64))!r}: no such subscription in scenario {store.scenario_id!r}"
    raise InputError(msg)


def remove_subscription(store: Store, name: str, *, actor: Principal = OPERATOR) -> int:
    """Remove a subscription and its undelivered alerts; how many undelivered alerts went. Audited."""
    require(actor, "manage_users")
    sub = subscription(store, name)
    with store.write() as tx:
        dropped = tx.execute(
            "DELETE FROM alert_deliveries WHERE subscription_id = ? AND status <> 'sent'",
            (sub.subscription_id,),
        ).rowcount
        tx.execute("DELETE FROM alert_subscriptions WHERE subscription_id = ?", (sub.subscription_id,))
        tx.audit(actor, "alert_removed", name, {"channel": sub.channel, "target": sub.target}, {})
    return int(dropped or 0)


def micros(moment: datetime) -> int:
    """A UTC instant as integer microseconds since the epoch (the alert tables' time form)."""
    return (moment.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The UTC instant of integer microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=int(value))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
