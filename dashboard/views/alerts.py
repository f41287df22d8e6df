"""Alerts (admins): the ceasefire's subscriptions, the delivery queue and dead letters, SMTP settings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common
from dashboard.common import CHOOSE
from geo import InputError, PermissionDeniedError
from geo.core.names import printable
from geo.i18n import _
from geo.labels import verdict
from geo.services.alerts import (
    SECURITY,
    SmtpSettings,
    add_subscription,
    check_webhook_url,
    deliveries,
    delivery_counts,
    remove_subscription,
    requeue,
    set_smtp_settings,
    smtp_settings,
    subscriptions,
    test_alert,
)
from geo.services.settings import get_setting, set_setting

st.title(_("Alerts"))
user = common.require_page("manage_users")
store = common.store()
common.flash()
scenario = store.scenario()
st.caption(
    _(
        "Alerts of the ceasefire {scenario}: each new breach of an upload that a subscription follows, "
        "and each new spike, go to its webhook or e-mail address. The worker "
        "(python -m geo alerts run) delivers them, retries failures and dead-letters what never gets through."
    ).format(scenario=common.md(store.scenario_id))
)

secret = st.session_state.pop("alerts_new_secret", None)
if secret:
    name, value = secret
    st.warning(
        _("The secret of {name}, shown this once: the receiver checks X-Truceline-Signature with it.").format(
            name=common.md(name)
        )
    )
    st.code(value, language=None)

st.subheader(_("Subscriptions"))
subs = subscriptions(store)
counts = delivery_counts(store)
channels = {"webhook": _("webhook"), "email": _("e-mail")}
if subs:
    table = pd.DataFrame(
        [
            {
                _("name"): printable(s.name),
                _("channel"): channels.get(s.channel, s.channel),
                _("to"): printable(s.target),
                _("zones"): ", ".join(s.zones) or _("any"),
                _("parties"): ", ".join(s.parties) or _("any"),
                _("verdicts"): ", ".join(map(verdict, s.verdicts)) or _("none (spikes only)"),
                _("spikes"): s.spikes,
                _("digest"): s.digest or _("none"),
                _("retries"): s.retries,
                _("deliveries"): ", ".join(f"{k} {v}" for k, v in sorted(counts.get(s.name, {}).items())),
            }
            for s in subs
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    c1, c2, c3 = st.columns([2, 1, 1])
    chosen = c1.selectbox(_("Subscription"), [s.name for s in subs], key="al_chosen")
    if c2.button(_("Send a test alert"), key="al_test") and chosen:
        delivery_id = test_alert(store, chosen, actor=user)
        common.flash(
            _("Test alert {id} queued for {name}: the worker sends it.").format(
                id=delivery_id, name=common.md(chosen)
            )
        )
        st.rerun()
    if c3.button(_("Remove"), key="al_remove") and chosen:
        dropped = remove_subscription(store, chosen, actor=user)
        common.flash(
            _("Subscription {name} removed ({count} undelivered alerts dropped).").format(
                name=common.md(chosen), count=dropped
            )
        )
        st.rerun()
else:
    st.info(_("No subscription yet in this ceasefire."))

with st.form("al_add"):
    st.markdown(_("**Add a subscription**"))
    c1, c2, c3 = st.columns([1, 1, 2])
    new_name = c1.text_input(_("Name"), key="al_name")
    channel = c2.selectbox(_("Channel"), list(channels), format_func=channels.get, key="al_channel")
    target = c3.text_input(_("Webhook URL (http/https) or e-mail address"), key="al_target")
    c1, c2, c3 = st.columns(3)
    zone_names = {z.id: z.name for z in scenario.zones} if scenario else {}
    party_names = {p.id: p.name for p in scenario.parties} if scenario else {}
    zones = c1.multiselect(
        _("Zones (none: any)"),
        list(zone_names),
        format_func=zone_names.get,
        key="al_zones",
        placeholder=_(CHOOSE),
    )
    parties = c2.multiselect(
        _("Parties (none: any)"),
        list(party_names),
        format_func=party_names.get,
        key="al_parties",
        placeholder=_(CHOOSE),
    )
    verdicts = c3.multiselect(
        _("Verdicts"),
        ["breach", "possible_breach"],
        default=["breach", "possible_breach"],
        format_func=verdict,
        key="al_verdicts",
        placeholder=_(CHOOSE),
    )
    c1, c2, c3, c4 = st.columns(4)
    spikes = c1.checkbox(_("Also new spikes"), key="al_spikes")
    digest = c2.checkbox(_("One digest a day"), key="al_digest")
    retries = c3.number_input(_("Retries"), min_value=0, max_value=20, value=5, key="al_retries")
    backoff = c4.number_input(
        _("First retry after (s)"), min_value=0, max_value=86400, value=60, key="al_backoff"
    )
    if st.form_submit_button(_("Add subscription")):
        try:
            sub = add_subscription(
                store,
                new_name.strip(),
                webhook=target.strip() if channel == "webhook" else None,
                email=target.strip() if channel == "email" else None,
                zones=tuple(zones),
                parties=tuple(parties),
                verdicts=tuple(verdicts),
                spikes=spikes,
                incidents=bool(verdicts),
                digest="daily" if digest else "",
                retries=int(retries),
                backoff_s=float(backoff),
                actor=user,
            )
        except (InputError, PermissionDeniedError) as err:
            st.error(common.md(err))
        else:
            if sub.secret:
                st.session_state["alerts_new_secret"] = (sub.name, sub.secret)
            common.flash(_("Subscription {name} added.").format(name=common.md(sub.name)))
            st.rerun()

st.subheader(_("Dead letters"))
dead = deliveries(store, status="dead", limit=500)
if dead:
    st.caption(
        _("{count} alerts were not delivered after their last retry; the newest first.").format(
            count=len(dead)
        )
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    _("delivery"): d.delivery_id,
                    _("subscription"): printable(d.subscription),
                    _("alert"): d.event_key,
                    _("attempts"): d.attempts,
                    _("queued"): d.created_at,
                    _("last error"): printable(d.last_error),
                }
                for d in dead
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    if st.button(_("Send all again"), key="al_requeue"):
        count = requeue(store, actor=user)
        common.flash(_("{count} dead-lettered alerts queued again.").format(count=count))
        st.rerun()
else:
    st.caption(_("No dead letters."))
recent = deliveries(store, limit=50)
if recent:
    with st.expander(_("Latest deliveries")):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        _("delivery"): d.delivery_id,
                        _("subscription"): printable(d.subscription),
                        _("alert"): d.event_key,
                        _("status"): d.status,
                        _("attempts"): d.attempts,
                        _("sent"): d.sent_at,
                        _("last error"): printable(d.last_error),
                    }
                    for d in recent
                ]
            ),
            hide_index=True,
            width="stretch",
        )

st.subheader(_("Delivery settings"))
current = smtp_settings(store)
st.caption(
    _(
        "E-mail goes through this SMTP server. TRUCELINE_SMTP_* variables, where set, win over these "
        "fields; the password is read from TRUCELINE_SMTP_PASSWORD only and never stored."
    )
)
with st.form("al_smtp"):
    c1, c2, c3 = st.columns([2, 1, 1])
    host = c1.text_input(_("SMTP server"), value=current.host, key="al_smtp_host")
    port = c2.number_input(_("Port"), min_value=1, max_value=65535, value=current.port, key="al_smtp_port")
    security = c3.selectbox(
        _("Security"),
        SECURITY,
        index=SECURITY.index(current.security),
        format_func=lambda s: _("none (plain text)") if s == "none" else {"ssl": "SSL/TLS"}.get(s, s.upper()),
        key="al_smtp_security",
    )
    c1, c2 = st.columns(2)
    sender = c1.text_input(_("Sender address"), value=current.sender, key="al_smtp_sender")
    smtp_user = c2.text_input(_("User (optional)"), value=current.user, key="al_smtp_user")
    base = st.text_input(
        _("Dashboard address for the links in alerts"),
        value=str(get_setting(store, "base_url", default="") or ""),
        placeholder="https://truceline.mission.example",
        key="al_base_url",
    )
    if st.form_submit_button(_("Save delivery settings")):
        try:
            set_smtp_settings(
                store,
                SmtpSettings(
                    host=host.strip(),
                    port=int(port),
                    sender=sender.strip(),
                    user=smtp_user.strip(),
                    security=security,
                ),
                actor=user,
            )
            if base.strip():
                check_webhook_url(base.strip())  # http(s), a host, no credentials
            set_setting(store, "base_url", base.strip().rstrip("/"), actor=user)
        except (InputError, PermissionDeniedError) as err:
            st.error(common.md(err))
        else:
            common.flash(_("Delivery settings saved."))
            st.rerun()
