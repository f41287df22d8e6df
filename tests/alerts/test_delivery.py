"""Alerts queued by uploads and delivered to a real webhook receiver and a real SMTP server."""

from __future__ import annotations

from collections import Counter

import pytest

from geo._errors import InputError
from geo.services import alerts
from geo.services.ingest import load_scenario_into_store
from tests.alerts.conftest import Receiver, free_port
from tests.alerts.helpers import batch_ids, ingest, later


def _hook(store, receiver: Receiver, name: str, **kw) -> alerts.Subscription:
    sub = alerts.add_subscription(store, name, webhook=f"{receiver.base}/{name}", **kw)
    receiver.secrets[f"/{name}"] = sub.secret
    return sub


def _ids(bodies: list[dict], event: str = "incident") -> list[int]:
    return [b["incident"]["id"] for b in bodies if b["event"] == event]


def test_a_zone_s_breach_subscription_gets_exactly_that_zone_s_breaches(backend_store, receiver, tmp_path):
    alert_store = backend_store
    _hook(alert_store, receiver, "dmz", zones=("dmz",), verdicts=("breach",))
    _hook(alert_store, receiver, "south", parties=("south",))
    summary = ingest(alert_store, tmp_path / "a.csv", 1500)
    report = alerts.deliver_due(alert_store)
    expected = batch_ids(alert_store, summary.batch_id, zones=("dmz",), verdicts=("breach",))
    assert 20 < len(expected) < summary.new_breaches  # the zone holds some breaches, not all
    got = _ids(receiver.bodies("/dmz"))
    assert sorted(got) == sorted(expected)  # each once, nothing else
    south = batch_ids(
        alert_store, summary.batch_id, parties=("south",), verdicts=("breach", "possible_breach")
    )
    assert sorted(_ids(receiver.bodies("/south"))) == sorted(south)
    assert report.sent == len(expected) + len(south) and report.dead == 0
    assert receiver.bad_signatures == 0
    # A second round, and a re-upload of the same file, send nothing again.
    assert alerts.deliver_due(alert_store).sent == 0
    again = ingest(alert_store, tmp_path / "a.csv", 1500)
    assert again.accepted == 0
    assert alerts.deliver_due(alert_store).sent == 0
    assert len(receiver.bodies("/dmz")) == len(expected)


def test_an_incident_alert_carries_the_incident_its_verdict_the_rule_quoted_and_its_link(
    alert_store, receiver, tmp_path, monkeypatch
):
    monkeypatch.setenv("TRUCELINE_BASE_URL", "https://truceline.mission.example/")
    _hook(alert_store, receiver, "dmz", zones=("dmz",), verdicts=("breach",))
    summary = ingest(alert_store, tmp_path / "a.csv", 400)
    alerts.deliver_due(alert_store)
    body = receiver.bodies("/dmz")[0]
    incident = alert_store.incident(body["incident"]["id"])
    rules = {r.id: r.text for r in alert_store.scenario().rules}
    assert body["verdict"] == incident["verdict"] == "breach"
    assert body["incident"]["occurred_at"].startswith(str(incident["occurred_at"].date()))
    assert body["incident"]["category"] == incident["category"]
    assert "dmz" in [z["id"] for z in body["incident"]["zones"]]
    assert [r["id"] for r in body["rules"]] == incident["rules"].split(";")
    assert all(r["text"] == rules[r["id"]] for r in body["rules"])
    assert body["link"] == (
        f"https://truceline.mission.example/incident?id={body['incident']['id']}&scenario=default"
    )
    assert body["subscription"] == "dmz" and body["scenario"]["id"] == "default"
    assert int(receiver.received[0]["delivery"]) == body["delivery_id"]
    assert summary.batch_id == 1


def test_a_wrong_secret_fails_the_receiver_s_check(alert_store, receiver, tmp_path):
    _hook(alert_store, receiver, "dmz", zones=("dmz",), verdicts=("breach",), retries=0)
    receiver.secrets["/dmz"] = "not-the-secret"
    ingest(alert_store, tmp_path / "a.csv", 300)
    report = alerts.deliver_due(alert_store)
    assert report.sent == 0 and report.dead > 0 and receiver.bad_signatures == report.dead
    assert "HTTP 401" in alerts.deliveries(alert_store, status="dead")[0].last_error


def test_the_library_s_verify_accepts_its_signature_and_refuses_others():
    now = later(0)
    header = alerts.sign("s3cret", b'{"a": 1}', int(now.timestamp()))
    assert alerts.verify("s3cret", b'{"a": 1}', header, now=now)
    assert not alerts.verify("s3cret", b'{"a": 2}', header, now=now)
    assert not alerts.verify("other", b'{"a": 1}', header, now=now)
    assert not alerts.verify("s3cret", b'{"a": 1}', header, now=later(3600))  # a replay, too late


def test_alerts_stay_in_their_scenario(backend_store, receiver, tmp_path, demo_scenario):
    alert_store = backend_store
    other = alert_store.using("other")
    load_scenario_into_store(other, demo_scenario)
    _hook(alert_store, receiver, "a-dmz", zones=("dmz",))
    _hook(other, receiver, "b-dmz", zones=("dmz",))
    first = ingest(other, tmp_path / "b.csv", 600, seed=3)
    alerts.deliver_due(alert_store)
    assert receiver.bodies("/a-dmz") == []
    expected_b = batch_ids(other, first.batch_id, zones=("dmz",), verdicts=("breach", "possible_breach"))
    assert sorted(_ids(receiver.bodies("/b-dmz"))) == sorted(expected_b)
    assert all(b["scenario"]["id"] == "other" for b in receiver.bodies("/b-dmz"))
    second = ingest(alert_store, tmp_path / "a.csv", 600, seed=4)
    alerts.deliver_due(other)  # any handle runs the store's whole queue
    expected_a = batch_ids(
        alert_store, second.batch_id, zones=("dmz",), verdicts=("breach", "possible_breach")
    )
    assert sorted(_ids(receiver.bodies("/a-dmz"))) == sorted(expected_a)
    assert len(receiver.bodies("/b-dmz")) == len(expected_b)
    assert [s.name for s in alerts.subscriptions(alert_store)] == ["a-dmz"]
    assert {d.subscription for d in alerts.deliveries(other)} == {"b-dmz"}


def test_a_receiver_down_for_three_attempts_gets_the_alert_when_it_comes_back(alert_store, tmp_path):
    rec = Receiver(free_port())  # not listening yet: connections are refused
    sub = _hook(alert_store, rec, "late", zones=("dmz",), verdicts=("breach",), retries=5, backoff_s=60)
    ingest(alert_store, tmp_path / "a.csv", 200)
    queued = len(alerts.deliveries(alert_store, status="pending"))
    assert queued > 0
    # attempts at +0, +60 s and +180 s fail; the backoff doubles: 60, 120, 240 s.
    for at in (0, 60, 180):
        report = alerts.deliver_due(alert_store, now=later(at + 1))
        assert (report.sent, report.retrying) == (0, queued)
    assert alerts.deliver_due(alert_store, now=later(180 + 240 - 5)).retrying == 0  # not due yet
    rec.start()
    try:
        report = alerts.deliver_due(alert_store, now=later(180 + 240 + 5))
        assert report.sent == queued
        assert len({b["delivery_id"] for b in rec.bodies()}) == len(rec.bodies()) == queued
        assert {d.attempts for d in alerts.deliveries(alert_store, status="sent")} == {4}
    finally:
        rec.stop()
    assert sub.retries == 5


def test_a_receiver_down_past_the_last_retry_dead_letters_the_alert_and_a_requeue_sends_it(
    alert_store, tmp_path
):
    rec = Receiver(free_port())
    _hook(alert_store, rec, "gone", zones=("dmz",), verdicts=("breach",), retries=2, backoff_s=10)
    ingest(alert_store, tmp_path / "a.csv", 200)
    queued = len(alerts.deliveries(alert_store, status="pending"))
    for at in (0, 10, 30):
        alerts.deliver_due(alert_store, now=later(at + 1))
    dead = alerts.deliveries(alert_store, status="dead")
    assert len(dead) == queued and all(d.attempts == 3 for d in dead)
    assert "unreachable" in dead[0].last_error
    assert alerts.deliver_due(alert_store, now=later(10_000)).sent == 0  # dead stays dead
    rec.start()
    try:
        assert alerts.requeue(alert_store, [dead[0].delivery_id]) == 1
        assert alerts.deliver_due(alert_store, now=later(10_001)).sent == 1
        assert alerts.requeue(alert_store) == queued - 1
        assert alerts.deliver_due(alert_store, now=later(10_002)).sent == queued - 1
    finally:
        rec.stop()
    assert len(rec.bodies()) == queued


def test_a_daily_digest_bundles_a_day_s_alerts_once_the_day_is_over(alert_store, receiver, tmp_path):
    _hook(alert_store, receiver, "daily", zones=("dmz",), digest="daily")
    summary = ingest(alert_store, tmp_path / "a.csv", 500)
    expected = batch_ids(
        alert_store, summary.batch_id, zones=("dmz",), verdicts=("breach", "possible_breach")
    )
    assert alerts.deliver_due(alert_store).sent == 0  # held for the digest
    now = later(0)
    tomorrow = now.replace(hour=0, minute=5, second=0, microsecond=0) + (later(86_400) - now)
    report = alerts.deliver_due(alert_store, now=tomorrow)
    assert (report.digests, report.sent) == (1, 1)
    (digest,) = receiver.bodies("/daily")
    assert digest["event"] == "digest" and digest["count"] == len(expected)
    assert sorted(a["incident"]["id"] for a in digest["alerts"]) == sorted(expected)
    assert digest["day"] == now.date().isoformat()
    assert alerts.deliver_due(alert_store, now=tomorrow).digests == 0


def test_a_new_spike_alerts_once(alert_store, receiver, tmp_path):
    _hook(alert_store, receiver, "spikes", zones=("dmz",), spikes=True, incidents=False)

    def this_week(frame):  # every incident in the last 7 days: the 4 weeks before are empty
        frame["occurred_at"] = "2026-06-28T12:00:00Z"
        return frame

    ingest(alert_store, tmp_path / "a.csv", 400, edit=this_week)
    alerts.deliver_due(alert_store)
    spikes = [b for b in receiver.bodies("/spikes") if b["event"] == "spike"]
    assert spikes and {s["zone"]["id"] for s in spikes} == {"dmz"}
    assert len({s["party"]["id"] for s in spikes}) == len(spikes)
    assert all(s["last_7d"] >= 5 and s["change"] is None for s in spikes)
    assert not [b for b in receiver.bodies("/spikes") if b["event"] == "incident"]
    ingest(alert_store, tmp_path / "b.csv", 400, seed=9, edit=this_week)  # the same spikes, still on
    alerts.deliver_due(alert_store)
    assert len([b for b in receiver.bodies("/spikes") if b["event"] == "spike"]) == len(spikes)


def test_an_e_mail_alert_has_text_escaped_html_and_the_map_attached(alert_store, smtp, tmp_path):
    alerts.add_subscription(
        alert_store,
        "desk",
        email="desk@mission.example",
        zones=("dmz",),
        verdicts=("breach",),
        parties=("north",),
    )

    def hostile(frame):
        frame["description"] = '<script>alert("x")</script> ${document.cookie} `tick`'
        return frame

    summary = ingest(alert_store, tmp_path / "a.csv", 60, edit=hostile)
    expected = batch_ids(
        alert_store, summary.batch_id, zones=("dmz",), verdicts=("breach",), parties=("north",)
    )
    assert expected
    report = alerts.deliver_due(alert_store)
    assert report.sent == len(expected) == len(smtp.messages)
    rcpt, msg = smtp.messages[0]
    assert rcpt == ["desk@mission.example"]
    assert msg["Subject"].startswith("[Truceline] Breach: ")
    assert msg["From"] == "alerts@mission.example"
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert '<script>alert("x")</script>' in text
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part
    pngs = [p for p in msg.iter_attachments() if p.get_content_type() == "image/png"]
    assert pngs and pngs[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    ids = {int(m["X-Truceline-Delivery"]) for _, m in smtp.messages}
    assert len(ids) == len(expected)


def test_an_e_mail_without_an_smtp_server_is_retried(alert_store, tmp_path, monkeypatch):
    monkeypatch.delenv("TRUCELINE_SMTP_HOST", raising=False)
    alerts.add_subscription(
        alert_store, "desk", email="desk@mission.example", zones=("dmz",), verdicts=("breach",)
    )
    ingest(alert_store, tmp_path / "a.csv", 100)
    report = alerts.deliver_due(alert_store)
    assert report.sent == 0 and report.retrying > 0
    assert "no SMTP server" in alerts.deliveries(alert_store, status="pending")[0].last_error


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "gopher://x",
        "http://",
        "http://u:p@host/",
    ],
)
def test_only_http_and_https_webhooks_are_accepted(alert_store, url):
    with pytest.raises(InputError):
        alerts.add_subscription(alert_store, "bad", webhook=url)
    assert alerts.subscriptions(alert_store) == []


def test_subscriptions_are_checked_against_the_scenario(alert_store):
    with pytest.raises(InputError, match="zone 'nowhere'"):
        alerts.add_subscription(alert_store, "x", webhook="https://example.org/h", zones=("nowhere",))
    with pytest.raises(InputError, match="party"):
        alerts.add_subscription(alert_store, "x", webhook="https://example.org/h", parties=("martians",))
    with pytest.raises(InputError, match="exactly one"):
        alerts.add_subscription(alert_store, "x", webhook="https://example.org/h", email="a@b.org")
    with pytest.raises(InputError, match="e-mail"):
        alerts.add_subscription(alert_store, "x", email="a@b.org\r\nBcc: c@d.org")
    alerts.add_subscription(alert_store, "x", webhook="https://example.org/h")
    with pytest.raises(InputError, match="has a subscription"):
        alerts.add_subscription(alert_store, "x", webhook="https://example.org/h2")
    assert alerts.remove_subscription(alert_store, "x") == 0
    with pytest.raises(InputError, match="no such"):
        alerts.remove_subscription(alert_store, "x")


def test_claims_are_won_once(backend_store, receiver, tmp_path):
    alert_store = backend_store
    _hook(alert_store, receiver, "dmz", zones=("dmz",))
    ingest(alert_store, tmp_path / "a.csv", 300)
    now = later(1)
    from datetime import timedelta

    first = alerts.claim(alert_store, "w1", now=now, lease=timedelta(seconds=30))
    assert first is not None
    second = alerts.claim(alert_store, "w2", now=now, lease=timedelta(seconds=30))
    assert second not in (None, first)
    # w1 died: after its lease, its delivery can be claimed again (and counts a second attempt).
    taken = Counter()
    while (got := alerts.claim(alert_store, "w3", now=later(40), lease=timedelta(seconds=30))) is not None:
        taken[got] += 1
    assert taken[first] == 1 and taken[second] == 1 and max(taken.values()) == 1
    assert alerts.settle(alert_store, first, "w1", error=None, now=later(41), sub=None) == "lost"


def test_a_round_with_a_budget_claims_nothing_after_it(alert_store, receiver, tmp_path):
    _hook(alert_store, receiver, "dmz", zones=("dmz",))
    ingest(alert_store, tmp_path / "a.csv", 300)
    pending = len(alerts.deliveries(alert_store, status="pending"))
    assert alerts.deliver_due(alert_store, budget_s=0.0).sent <= 1
    assert alerts.deliver_due(alert_store).sent >= pending - 1


def test_every_upload_path_queues_alerts_an_already_normalised_frame_too(
    alert_store, receiver, demo_scenario
):
    import pandas as pd

    from geo.services.demo import generate_incidents
    from geo.services.ingest import ingest_frame

    _hook(alert_store, receiver, "dmz", zones=("dmz",), verdicts=("breach",))
    frame = generate_incidents(demo_scenario, n=300, days=60, end=pd.Timestamp("2026-06-20").date(), seed=5)
    summary = ingest_frame(alert_store, frame, name="generated")
    alerts.deliver_due(alert_store)
    expected = batch_ids(alert_store, summary.batch_id, zones=("dmz",), verdicts=("breach",))
    assert expected and sorted(_ids(receiver.bodies("/dmz"))) == sorted(expected)


def test_undoing_an_upload_drops_its_alerts_not_yet_sent(backend_store, receiver, tmp_path):
    from geo.services.ingest import delete_batch

    alert_store = backend_store
    _hook(alert_store, receiver, "dmz", zones=("dmz",))
    first = ingest(alert_store, tmp_path / "a.csv", 300)
    alerts.deliver_due(alert_store)
    sent = len(receiver.bodies("/dmz"))
    second = ingest(alert_store, tmp_path / "b.csv", 300, seed=2)
    queued = len(alerts.deliveries(alert_store, status="pending"))
    assert sent > 0 and queued > 0
    delete_batch(alert_store, second.batch_id)
    assert alerts.deliveries(alert_store, status="pending") == []
    assert alerts.deliver_due(alert_store).sent == 0
    delete_batch(alert_store, first.batch_id)  # sent alerts stay on record
    assert len(alerts.deliveries(alert_store, status="sent")) == sent


def test_an_e_mail_s_own_words_are_in_the_language_of_the_run() -> None:
    from geo.i18n import use_language
    from geo.services.alerts._send import html_body

    payload = {"message": "m", "link": "https://truceline.mission.example/incident?id=1"}
    with use_language("fr"):
        body = html_body(payload, image_cid="<map@truceline>")
    assert ">Ouvrir dans Truceline</a>" in body
    assert 'alt="Carte de l&#x27;incident et de ses environs"' in body
