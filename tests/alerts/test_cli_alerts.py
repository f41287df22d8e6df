"""The ``alerts`` commands, the ingest command's delivery round, and the examples of docs/alerts.md."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.services import alerts
from geo.store import open_store
from tests.alerts.conftest import Receiver, free_port
from tests.ingest.helpers import REPO, write_incidents_csv

DOC = REPO / "docs" / "alerts.md"


def run(url: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--db", url, *args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


class StoreSecrets(dict):
    """The receiver's secrets, read from the store by path (subscriptions made by the command line)."""

    def __init__(self, url: str, base: str) -> None:
        super().__init__()
        self.url, self.base = url, base

    def get(self, path: str, default: str = "") -> str:
        store = open_store(self.url)
        try:
            for scenario in store.scenario_ids():
                for sub in alerts.subscriptions(store.using(scenario)):
                    if sub.target == self.base + path:
                        return sub.secret
        finally:
            store.close()
        return default


def test_add_prints_the_secret_once_and_list_never_shows_it(alert_url, receiver):
    out = run(alert_url, "alerts", "add", "desk", "--webhook", f"{receiver.base}/desk", "--zone", "dmz",
              "--verdict", "breach", "--spikes", "--retries", "2", "--backoff", "5")  # fmt: skip
    secret = re.search(r"secret \(shown once.*\): (\S+)", out).group(1)
    listed = run(alert_url, "alerts", "list")
    assert "desk" in listed and "zones dmz" in listed and "spikes" in listed and secret not in listed
    (row,) = [json.loads(line) for line in run(alert_url, "alerts", "list", "--json").splitlines()]
    assert row["zones"] == ["dmz"] and row["verdicts"] == ["breach"] and row["retries"] == 2
    assert secret not in json.dumps(row)
    receiver.secrets["/desk"] = secret
    assert "delivered" in run(alert_url, "alerts", "test", "desk")
    (got,) = receiver.bodies("/desk")
    assert got["event"] == "test" and got["subscription"] == "desk"
    assert "removed" in run(alert_url, "alerts", "remove", "desk")
    assert "No alert subscriptions" in run(alert_url, "alerts", "list")


def test_a_test_alert_to_a_receiver_that_is_down_fails_and_shows_in_deliveries(alert_url):
    url = f"http://127.0.0.1:{free_port()}/none"
    run(alert_url, "alerts", "add", "down", "--webhook", url, "--retries", "0")
    out = run(alert_url, "alerts", "test", "down", ok=False)
    assert "not delivered (dead)" in out and "unreachable" in out
    assert "dead" in run(alert_url, "alerts", "deliveries", "--status", "dead")
    assert "1 dead-lettered alerts queued again" in run(alert_url, "alerts", "requeue")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "javascript:alert(1)"])
def test_add_refuses_other_schemes(alert_url, url):
    assert "only http:// and https://" in run(alert_url, "alerts", "add", "x", "--webhook", url, ok=False)


def test_a_command_line_ingest_delivers_its_alerts_at_once(alert_url, receiver, tmp_path):
    run(alert_url, "alerts", "add", "dmz", "--webhook", f"{receiver.base}/dmz", "--zone", "dmz")
    receiver.secrets = StoreSecrets(alert_url, receiver.base)
    path = write_incidents_csv(tmp_path / "a.csv", 300)
    result = CliRunner().invoke(
        cli, ["--db", alert_url, "ingest", str(path), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])  # stdout stays one JSON object
    store = open_store(alert_url)
    try:
        sent = alerts.deliveries(store, status="sent", limit=10_000)
    finally:
        store.close()
    assert sent and len(receiver.bodies("/dmz")) == len(sent)
    assert f"alerts: {len(sent)} sent" in result.stderr
    assert summary["accepted"] == 300


def _block(after: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(after)
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)


def test_the_docs_curl_example_signs_as_a_receiver_checks(receiver):
    receiver.secrets["/by-hand"] = "a-secret-from-alerts-add"
    env = {**os.environ, "URL": f"{receiver.base}/by-hand", "SECRET": "a-secret-from-alerts-add"}
    subprocess.run(
        ["bash", "-euc", _block("### Checking a receiver with curl")], env=env, check=True, timeout=30
    )
    assert receiver.bad_signatures == 0
    assert receiver.bodies("/by-hand") == [{"event": "test", "message": "signed by hand"}]


def test_the_docs_subscribing_example_runs(alert_url, receiver, tmp_path):
    script = _block("## Subscribing").replace("https://ops.mission.example", receiver.base)
    receiver.secrets = StoreSecrets(alert_url, receiver.base)
    env = {**os.environ, "TRUCELINE_DB": alert_url, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        ["bash", "-euc", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test alert" in done.stdout and "delivered" in done.stdout
    assert [b["event"] for b in receiver.bodies("/truceline")] == ["test"]
    store = open_store(alert_url)
    try:
        assert [s.name for s in alerts.subscriptions(store)] == ["dmz-desk", "north-daily"]
    finally:
        store.close()


def test_the_worker_command_once_delivers_what_is_due(alert_url, receiver: Receiver):
    run(alert_url, "alerts", "add", "t", "--webhook", f"{receiver.base}/t")
    receiver.secrets = StoreSecrets(alert_url, receiver.base)
    store = open_store(alert_url)
    try:
        alerts.test_alert(store, "t")
    finally:
        store.close()
    assert "alerts: 1 sent" in run(alert_url, "alerts", "run", "--once")
    assert len(receiver.bodies("/t")) == 1
