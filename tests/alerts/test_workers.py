"""Real worker processes: two share the queue without sending anything twice; a killed one loses nothing."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter

from geo.services import alerts
from tests.alerts.conftest import Receiver
from tests.alerts.helpers import batch_ids, ingest
from tests.ingest.helpers import geo_cli


def _worker(url: str, *extra: str) -> subprocess.Popen[bytes]:
    return geo_cli(
        "alerts", "run", "--poll", "0.2", *extra, db=url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert not err.strip() or b"Traceback" not in err, err.decode()
    return proc.returncode, out.decode()


def _statuses(store) -> Counter:
    frame = store.frame("SELECT status, COUNT(*) AS n FROM alert_deliveries GROUP BY status")
    return Counter(dict(zip(frame["status"], frame["n"].astype(int), strict=True)))


def test_two_workers_deliver_each_alert_once(backend_store, backend_url, receiver: Receiver, tmp_path):
    alert_store, alert_url = backend_store, backend_url
    sub = alerts.add_subscription(alert_store, "dmz", webhook=f"{receiver.base}/dmz", zones=("dmz",))
    receiver.secrets["/dmz"] = sub.secret
    workers = [_worker(alert_url), _worker(alert_url)]
    try:
        summary = ingest(alert_store, tmp_path / "a.csv", 1500)
        expected = batch_ids(
            alert_store, summary.batch_id, zones=("dmz",), verdicts=("breach", "possible_breach")
        )
        assert len(expected) > 50
        _wait_for(lambda: len(receiver.bodies()) >= len(expected))
        time.sleep(1.0)  # anything sent twice would arrive now
    finally:
        stopped = [_stop(w) for w in workers]
    assert all(code == 0 and "stopped" in out for code, out in stopped), stopped
    deliveries = Counter(r["delivery"] for r in receiver.received)
    assert max(deliveries.values()) == 1
    assert sorted(b["incident"]["id"] for b in receiver.bodies()) == sorted(expected)
    assert _statuses(alert_store) == Counter({"sent": len(expected)})
    workers_used = alert_store.frame("SELECT DISTINCT worker FROM alert_deliveries")
    assert 1 <= len(workers_used) <= 2


def test_a_worker_killed_mid_delivery_loses_nothing(alert_store, alert_url, receiver: Receiver, tmp_path):
    sub = alerts.add_subscription(alert_store, "dmz", webhook=f"{receiver.base}/dmz", zones=("dmz",))
    receiver.secrets["/dmz"] = sub.secret
    summary = ingest(alert_store, tmp_path / "a.csv", 600)
    expected = batch_ids(
        alert_store, summary.batch_id, zones=("dmz",), verdicts=("breach", "possible_breach")
    )
    release = threading.Event()
    receiver.hold = release  # the first request arrives, then hangs: the worker is mid-delivery
    first = _worker(alert_url, "--lease", "2")
    try:
        assert receiver.holding.wait(60)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    (in_flight,) = [r["delivery"] for r in receiver.received]
    assert _statuses(alert_store)["sending"] == 1  # the killed worker's claim, left behind
    second = _worker(alert_url, "--lease", "2")
    try:
        # Every alert sent, the killed worker's one too, once its lease (2 s) has ended.
        _wait_for(lambda: _statuses(alert_store) == Counter({"sent": len(expected)}))
        time.sleep(1.0)
    finally:
        code, _ = _stop(second)
    assert code == 0
    seen = Counter(r["delivery"] for r in receiver.received)
    # None lost: every alert arrived. None duplicated: each delivery id reached the queue once and
    # arrived once, except the one the killed worker was sending, which comes again with the same
    # delivery id (X-Truceline-Delivery), for the receiver to drop.
    assert sorted(b["incident"]["id"] for b in receiver.bodies()[1:]) == sorted(expected)
    assert {d for d, n in seen.items() if n > 1} == {in_flight} and seen[in_flight] == 2
    assert _statuses(alert_store) == Counter({"sent": len(expected)})
    kept = {r["body"]["incident"]["id"] for r in receiver.received}
    assert kept == expected
