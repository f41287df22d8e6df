"""Sending one alert: its words (text and HTML), a signed webhook POST, or an e-mail over SMTP."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pandas as pd

from geo._errors import InputError
from geo.core.names import clip, printable
from geo.i18n import _
from geo.services.alerts._subscriptions import Subscription, check_webhook_url
from geo.store import Store

SIGNATURE_HEADER = "X-Truceline-Signature"
DELIVERY_HEADER = "X-Truceline-Delivery"
EVENT_HEADER = "X-Truceline-Event"
TIMEOUT_S = 10.0
SNAPSHOT_RADIUS_M = 15_000.0
SNAPSHOT_DAYS = 30


class DeliveryError(Exception):
    """One attempt failed (the receiver is down, refused, or answered with an error)."""


# -- signing -------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value of a webhook body: ``t=UNIX_TIME,v1=HEX`` (HMAC-SHA256 of ``t.body``)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, now: datetime, tolerance_s: float = 300.0) -> bool:
    """
    Whether a signature header is right for ``body`` and recent (a receiver's check).

    Parameters
    ----------
    secret
        The subscription's secret.
    body
        The raw request body.
    header
        The ``X-Truceline-Signature`` value.
    now
        The receiver's present.
    tolerance_s
        The oldest signature accepted, in seconds (replays of older ones are refused).
    """
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now.timestamp() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={fields.get('v1', '')}")


# -- words ---------------------------------------------------------------------------------------

_VERDICT_WORDS = {"breach": "Breach", "possible_breach": "Possible breach"}


def subject(payload: dict[str, Any]) -> str:
    """The one-line subject of an alert."""
    scenario = payload.get("scenario", {}).get("name") or payload.get("scenario", {}).get("id", "")
    event = payload.get("event")
    if event == "incident":
        inc = payload["incident"]
        where = ", ".join(z["name"] for z in inc["zones"]) or _("outside any zone")
        line = _("{verdict}: {category} in {zones} ({scenario})").format(
            verdict=_(_VERDICT_WORDS.get(payload["verdict"], payload["verdict"])),
            category=inc["category"],
            zones=where,
            scenario=scenario,
        )
    elif event == "spike":
        line = _("Spike: {zone}, {party}: {count} in 7 days ({scenario})").format(
            zone=payload["zone"]["name"],
            party=payload["party"]["name"],
            count=payload["last_7d"],
            scenario=scenario,
        )
    elif event == "digest":
        line = _("Daily digest {day}: {count} alerts ({scenario})").format(
            day=payload["day"], count=payload["count"], scenario=scenario
        )
    else:
        line = _("Test alert ({scenario})").format(scenario=scenario)
    return clip(printable("[Truceline] " + line).replace("\n", " "), 200)


def text_lines(payload: dict[str, Any]) -> list[str]:
    """The body of an alert as plain lines (a digest: each alert's, one after the other)."""
    event = payload.get("event")
    if event == "digest":
        out = [subject(payload), ""]
        for item in payload["alerts"]:
            out += [
                f"- {subject(item).removeprefix('[Truceline] ')}",
                *("  " + ln for ln in text_lines(item)),
                "",
            ]
        return out
    if event == "incident":
        inc = payload["incident"]
        out = [
            _("Incident {id}, {time} ({precision}), at {lat:.5f}, {lon:.5f} ({place}).").format(
                id=inc["id"],
                time=inc["occurred_at"],
                precision=inc["date_precision"],
                lat=inc["lat"],
                lon=inc["lon"],
                place=inc["location_name"] or inc["location_precision"],
            ),
            _("Verdict: {verdict}.").format(
                verdict=_(_VERDICT_WORDS.get(payload["verdict"], payload["verdict"]))
            )
            + (" " + payload["verdict_reason"] if payload.get("verdict_reason") else ""),
            _("Category: {category}; party: {party} ({basis}); source: {source}.").format(
                category=inc["category"],
                party=inc["party_name"] or _("unattributed"),
                basis=inc["attribution"],
                source=inc["source"],
            ),
        ]
        if inc["description"]:
            out.append(_("Report: {text}").format(text=inc["description"]))
        for rule in payload["rules"]:
            out.append(_("Rule {id} ({severity}): \u201c{text}\u201d").format(**rule))
        out.append(_("Open: {link}").format(link=payload["link"]))
        return out
    if event == "spike":
        change = payload["change"]
        return [
            _(
                "{count} breaches and possible breaches in the 7 days to {as_of}, against a weekly mean of "
                "{baseline} in the 4 weeks before ({change})."
            ).format(
                count=payload["last_7d"],
                as_of=payload["as_of"],
                baseline=payload["baseline_weekly_mean"],
                change="+∞" if change is None else f"{change:+.0%}",
            ),
            _("Flagged because {rule}.").format(rule=payload["rule"]),
            _("Open: {link}").format(link=payload["link"]),
        ]
    return [str(payload.get("message", "")), _("Open: {link}").format(link=payload.get("link", ""))]


def html_body(payload: dict[str, Any], *, image_cid: str | None = None) -> str:
    """The HTML body of an alert: the same words, every piece of text escaped."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text_lines(payload) if line)
    link = payload.get("link")
    open_words, map_words = _("Open in Truceline"), _("Map of the incident and its surroundings")
    anchor = (
        f'<p><a href="{html.escape(link, quote=True)}">{html.escape(open_words)}</a></p>'
        if isinstance(link, str) and link.startswith(("http://", "https://"))
        else ""
    )
    image = (
        f'<p><img src="cid:{html.escape(image_cid.strip("<>"), quote=True)}" alt="'
        f'{html.escape(map_words, quote=True)}" width="640"></p>'
        if image_cid
        else ""
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<h2>{html.escape(subject(payload))}</h2>{paragraphs}{image}{anchor}</body></html>"
    )


# -- webhook ---------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook is posted to the URL given, never on to where a redirect points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def post_webhook(sub: Subscription, delivery_id: int, body: bytes, kind: str, *, now: datetime) -> None:
    """POST one alert to a webhook, signed; :class:`DeliveryError` unless it answers 2xx."""
    url = check_webhook_url(sub.target)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked: http or https only
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Truceline-alerts",
            SIGNATURE_HEADER: sign(sub.secret, body, int(now.timestamp())),
            DELIVERY_HEADER: str(delivery_id),
            EVENT_HEADER: kind,
        },
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as err:
        raise DeliveryError(f"HTTP {err.code} from the webhook") from None
    except (OSError, ValueError) as err:
        raise DeliveryError(f"webhook unreachable: {err}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from the webhook")


# -- e-mail --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes: ``TRUCELINE_SMTP_*`` variables, else the admin page's settings."""

    host: str = ""
    port: int = 25
    sender: str = "truceline@localhost"
    user: str = ""
    password: str = ""
    security: str = "none"
    """``none``, ``starttls`` or ``ssl``."""


SECURITY = ("none", "starttls", "ssl")


def smtp_settings(store: Store) -> SmtpSettings:
    """The SMTP settings: each ``TRUCELINE_SMTP_*`` variable set wins over the stored setting."""
    from geo.services.settings import get_setting

    stored = get_setting(store, "smtp", {}) or {}
    env = os.environ
    try:
        port = int(env.get("TRUCELINE_SMTP_PORT") or stored.get("port") or 25)
    except ValueError:
        msg = "TRUCELINE_SMTP_PORT: not a port number"
        raise InputError(msg) from None
    security = env.get("TRUCELINE_SMTP_SECURITY") or stored.get("security") or "none"
    if security not in SECURITY:
        msg = f"SMTP security {security!r}: must be one of {', '.join(SECURITY)}"
        raise InputError(msg)
    return SmtpSettings(
        host=env.get("TRUCELINE_SMTP_HOST") or stored.get("host") or "",
        port=port,
        sender=env.get("TRUCELINE_SMTP_FROM") or stored.get("sender") or "truceline@localhost",
        user=env.get("TRUCELINE_SMTP_USER") or stored.get("user") or "",
        password=env.get("TRUCELINE_SMTP_PASSWORD", ""),
        security=security,
    )


def email_message(
    sub: Subscription,
    delivery_id: int,
    payload: dict[str, Any],
    settings: SmtpSettings,
    *,
    now: datetime,
    image: bytes | None,
) -> EmailMessage:
    """The e-mail of one alert: plain text and HTML, the map image attached (and shown inline)."""
    msg = EmailMessage()
    msg["Subject"] = subject(payload)
    msg["From"] = settings.sender
    msg["To"] = sub.target
    msg["Date"] = format_datetime(now)
    domain = settings.sender.rpartition("@")[2] or "truceline"
    msg["Message-ID"] = f"<truceline-alert-{delivery_id}-{sub.subscription_id}@{domain}>"
    msg[DELIVERY_HEADER] = str(delivery_id)
    msg[EVENT_HEADER] = str(payload.get("event", ""))
    msg.set_content("\n".join(text_lines(payload)) + "\n")
    cid = make_msgid(domain=domain) if image else None
    msg.add_alternative(html_body(payload, image_cid=cid), subtype="html")
    if image and cid:
        html_part = msg.get_body(("html",))
        if html_part is not None:
            html_part.add_related(image, maintype="image", subtype="png", cid=cid, filename="map.png")
        msg.add_attachment(image, maintype="image", subtype="png", filename=f"incident-map-{delivery_id}.png")
    return msg  # fmt: skip


def send_email(msg: EmailMessage, settings: SmtpSettings) -> None:
    """Send one message over SMTP; :class:`DeliveryError` on any failure."""
    if not settings.host:
        raise DeliveryError("no SMTP server set (TRUCELINE_SMTP_HOST or the admin page)")
    try:
        if settings.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_S)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryError(f"SMTP {settings.host}:{settings.port}: {err}") from None


def incident_image(store: Store, payload: dict[str, Any], *, now: datetime) -> bytes | None:
    """The map snapshot of an incident's surroundings (the incidents of the month before it), or None."""
    from geo.core.filters import Filters
    from geo.core.surroundings import search_box
    from geo.render.image import render_map_png

    inc = payload.get("incident")
    scenario = store.scenario()
    if not inc or scenario is None:
        return None
    occurred = pd.Timestamp(inc["occurred_at"]).to_pydatetime()
    filters = Filters(
        since=occurred - timedelta(days=SNAPSHOT_DAYS),
        until=occurred + timedelta(days=1),
        bbox=search_box(float(inc["lon"]), float(inc["lat"]), SNAPSHOT_RADIUS_M),
    )
    view = store.query(filters, limit=5000)
    title = clip(printable(f"{scenario.name}: incident {inc['id']}"), 120)
    return render_map_png(view, scenario, filters=filters, as_of=now, size=(8.0, 6.0), dpi=150, title=title)


def body_bytes(payload: dict[str, Any], delivery_id: int) -> bytes:
    """The JSON a webhook receives: the alert, with its delivery id."""
    return json.dumps({**payload, "delivery_id": delivery_id}, ensure_ascii=False, sort_keys=True).encode()
