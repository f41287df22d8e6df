"""Alerts: subscriptions per scenario, queued with each committed batch, delivered by a worker.

A subscription names a webhook or an e-mail address and what it follows (zones, parties,
verdicts, spikes), and whether alerts come one by one or in a daily digest. Each upload,
whatever path it takes (the Upload page, ``python -m geo ingest``, the HTTP API), queues
its alerts in its own transaction (:func:`queue_batch`, called by the ingest pipeline).
The worker (``python -m geo alerts run``, and one round after each command-line ingest)
claims due deliveries one by one, sends them (webhooks signed with HMAC-SHA256, e-mail
with the map of the incident's surroundings attached), retries with exponential
backoff and dead-letters what never got through. See docs/alerts.md.
"""

from geo.services.alerts._queue import (
    base_url,
    bundle_digests,
    claim,
    incident_link,
    queue_batch,
    queue_test,
    settle,
)
from geo.services.alerts._send import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SECURITY,
    SIGNATURE_HEADER,
    DeliveryError,
    SmtpSettings,
    email_message,
    html_body,
    sign,
    smtp_settings,
    subject,
    text_lines,
    verify,
)
from geo.services.alerts._status import (
    Delivery,
    deliveries,
    delivery_counts,
    requeue,
    set_smtp_settings,
    test_alert,
)
from geo.services.alerts._subscriptions import (
    CHANNELS,
    VERDICTS,
    Subscription,
    add_subscription,
    check_email,
    check_webhook_url,
    remove_subscription,
    subscription,
    subscriptions,
)
from geo.services.alerts._worker import DEFAULT_LEASE, DeliveryReport, deliver_due, run_worker

__all__ = [
    "CHANNELS",
    "DEFAULT_LEASE",
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SECURITY",
    "SIGNATURE_HEADER",
    "VERDICTS",
    "Delivery",
    "DeliveryError",
    "DeliveryReport",
    "SmtpSettings",
    "Subscription",
    "add_subscription",
    "base_url",
    "bundle_digests",
    "check_email",
    "check_webhook_url",
    "claim",
    "deliver_due",
    "deliveries",
    "delivery_counts",
    "email_message",
    "html_body",
    "incident_link",
    "queue_batch",
    "queue_test",
    "remove_subscription",
    "requeue",
    "run_worker",
    "set_smtp_settings",
    "settle",
    "sign",
    "smtp_settings",
    "subject",
    "subscription",
    "subscriptions",
    "test_alert",
    "text_lines",
    "verify",
]
