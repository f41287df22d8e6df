"""The Alerts page (admins): subscriptions, the secret shown once, dead letters, delivery settings."""

from __future__ import annotations

from geo.services import alerts
from geo.store import open_store
from tests.alerts.conftest import free_port
from tests.dashboard.support import ADMIN, ANALYST, all_text, app, open_url_path, plain, query


def _submit(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    return at


def test_admin_adds_a_webhook_subscription_and_sees_its_secret_once(db: str) -> None:
    at = app(ADMIN, page="alerts")
    assert not at.exception and at.title[0].value == "Alerts"
    assert "No subscription yet" in all_text(at)
    at.text_input(key="al_name").set_value("dmz-desk")
    at.text_input(key="al_target").set_value("https://ops.mission.example/hook")
    at.multiselect(key="al_zones").set_value(["dmz"])
    at.multiselect(key="al_verdicts").set_value(["breach"])
    at.checkbox(key="al_spikes").check()
    _submit(at, "Add subscription")
    assert not at.exception
    (stored,) = query(
        db, "SELECT name, channel, target, zones, verdicts, spikes, secret FROM alert_subscriptions"
    )
    assert stored[:6] == ("dmz-desk", "webhook", "https://ops.mission.example/hook", "dmz", "breach", 1)
    assert [c.value for c in at.code] == [stored[6]]  # the secret, once
    assert "Subscription dmz-desk added." in plain(all_text(at))
    table = at.dataframe[0].value
    assert list(table["name"]) == ["dmz-desk"] and "secret" not in " ".join(table.columns)
    at.run()
    assert not at.code  # gone on the next run
    _submit(at, "Send a test alert")
    assert query(db, "SELECT kind, status FROM alert_deliveries") == [("test", "pending")]
    _submit(at, "Remove")
    assert query(db, "SELECT COUNT(*) FROM alert_subscriptions") == [(0,)]


def test_a_bad_target_is_refused_with_the_reason(db: str) -> None:
    at = app(ADMIN, page="alerts")
    at.text_input(key="al_name").set_value("x")
    at.text_input(key="al_target").set_value("javascript:alert(1)")
    _submit(at, "Add subscription")
    assert any("only http:// and https://" in plain(e.value) for e in at.error)
    at.selectbox(key="al_channel").set_value("email")
    at.text_input(key="al_target").set_value("a@b.org\nBcc: c@d.org")
    _submit(at, "Add subscription")
    assert any("e-mail" in plain(e.value) for e in at.error)
    assert query(db, "SELECT COUNT(*) FROM alert_subscriptions") == [(0,)]


def test_dead_letters_are_listed_and_sent_again(db: str) -> None:
    store = open_store(db)
    try:
        alerts.add_subscription(store, "down", webhook=f"http://127.0.0.1:{free_port()}/x", retries=0)
        alerts.test_alert(store, "down")
        assert alerts.deliver_due(store).dead == 1
    finally:
        store.close()
    at = app(ADMIN, page="alerts")
    dead = at.dataframe[1].value
    assert list(dead["subscription"]) == ["down"] and "unreachable" in dead["last error"].iloc[0]
    _submit(at, "Send all again")
    assert "1 dead-lettered alerts queued again." in all_text(at)
    assert query(db, "SELECT status, attempts FROM alert_deliveries") == [("pending", 0)]


def test_delivery_settings_are_kept_without_a_password(db: str, monkeypatch) -> None:
    for name in ("HOST", "PORT", "FROM", "USER", "SECURITY"):
        monkeypatch.delenv(f"TRUCELINE_SMTP_{name}", raising=False)
    at = app(ADMIN, page="alerts")
    at.text_input(key="al_smtp_host").set_value("smtp.mission.example")
    at.number_input(key="al_smtp_port").set_value(587)
    at.selectbox(key="al_smtp_security").set_value("starttls")
    at.text_input(key="al_smtp_sender").set_value("alerts@mission.example")
    at.text_input(key="al_base_url").set_value("https://truceline.mission.example/")
    _submit(at, "Save delivery settings")
    assert not at.error, all_text(at)
    store = open_store(db)
    try:
        got = alerts.smtp_settings(store)
        assert (got.host, got.port, got.security, got.sender) == (
            "smtp.mission.example",
            587,
            "starttls",
            "alerts@mission.example",
        )
        assert alerts.base_url(store) == "https://truceline.mission.example"
        assert "password" not in (store.meta("setting:smtp") or "")
    finally:
        store.close()


def test_an_analyst_cannot_open_the_alerts_page(db: str) -> None:
    at = app(ANALYST)
    open_url_path(at, "alerts")
    assert not any(b.label == "Add subscription" for b in at.button)
    assert "does not allow" in all_text(at) or "Not allowed" in [t.value for t in at.title]


def test_the_subscription_form_speaks_the_page_s_language(db: str) -> None:
    """Names, not ids, and no English left from Streamlit: the verdicts, zones, channel, security."""
    from geo.i18n import use_language

    with use_language("fr"):  # AppTest formats options in the test's thread
        at = app(ADMIN, page="alerts", query_params={"lang": "fr"})
    assert not at.exception
    verdicts = at.multiselect(key="al_verdicts")
    assert verdicts.options == ["Violation", "Violation possible"]
    assert verdicts.value == ["breach", "possible_breach"]
    zones = at.multiselect(key="al_zones")
    assert "Demilitarized Zone" in zones.options and "dmz" not in zones.options
    for key in ("al_zones", "al_parties", "al_verdicts"):
        assert at.multiselect(key=key).proto.placeholder == "Choisir des options"
    assert at.selectbox(key="al_channel").options == ["webhook", "courriel"]
    assert at.selectbox(key="al_smtp_security").options == ["aucune (texte en clair)", "STARTTLS", "SSL/TLS"]
