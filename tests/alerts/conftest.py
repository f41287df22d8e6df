"""Fixtures for the alert tests: a store with the demo scenario, a signed-webhook receiver, an SMTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from geo.store import open_store


@pytest.fixture
def alert_url(tmp_path: Path, scenario_db: Path) -> str:
    """A SQLite store holding the demo scenario (scenario ``default``) and nothing else."""
    path = tmp_path / "alerts.db"
    shutil.copyfile(scenario_db, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path, scenario_db: Path, demo_scenario) -> str:
    """A store holding the demo scenario, on SQLite and on a real PostGIS server in turn."""
    if request.param == "sqlite":
        path = tmp_path / "alerts.db"
        shutil.copyfile(scenario_db, path)
        return f"sqlite:///{path}"
    from geo.services.ingest import load_scenario_into_store

    url = request.getfixturevalue("postgis_url")
    store = open_store(url)
    load_scenario_into_store(store, demo_scenario)
    store.close()
    return url


@pytest.fixture
def backend_store(backend_url: str):
    """An open store on :func:`backend_url`."""
    store = open_store(backend_url)
    yield store
    store.close()


@pytest.fixture
def alert_store(alert_url: str):
    """An open store on :func:`alert_url`."""
    store = open_store(alert_url)
    yield store
    store.close()


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that checks each request's HMAC-SHA256 signature itself."""

    port: int
    secrets: dict[str, str] = field(default_factory=dict)
    """Secret per path (``/hook`` → secret): set once the subscription exists."""
    received: list[dict] = field(default_factory=list)
    bad_signatures: int = 0
    fail_with: int = 0
    """Answer this status (e.g. 503) instead of 200 while set."""
    hold: threading.Event | None = None
    """When set to an event, the next request is recorded, then held until the event is set."""
    holding: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                header = self.headers.get("X-Truceline-Signature", "")
                parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
                secret = receiver.secrets.get(self.path, "")
                expected = hmac.new(
                    secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                if not secret or not hmac.compare_digest(expected, parts.get("v1", "")):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.fail_with:
                    self.send_response(receiver.fail_with)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.received.append(
                        {
                            "path": self.path,
                            "delivery": self.headers.get("X-Truceline-Delivery"),
                            "event": self.headers.get("X-Truceline-Event"),
                            "body": json.loads(body),
                        }
                    )
                    hold, receiver.hold = receiver.hold, None
                if hold is not None:
                    receiver.holding.set()
                    hold.wait(30)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [r["body"] for r in self.received if path is None or r["path"] == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver."""
    rec = Receiver(free_port())
    rec.start()
    yield rec
    rec.stop()


@dataclass
class Mailbox:
    """What a real local SMTP server (aiosmtpd) received."""

    port: int
    messages: list = field(default_factory=list)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1, with TRUCELINE_SMTP_HOST and _PORT pointing at it."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = Mailbox(free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ARG002 - aiosmtpd's hook signature
            box.messages.append(
                (envelope.rcpt_tos, message_from_bytes(envelope.original_content, policy=policy.default))
            )
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    monkeypatch.setenv("TRUCELINE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TRUCELINE_SMTP_PORT", str(box.port))
    monkeypatch.setenv("TRUCELINE_SMTP_FROM", "alerts@mission.example")
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def scenario_db(tmp_path_factory: pytest.TempPathFactory, demo_scenario) -> Path:
    """A closed SQLite store holding only the demo scenario: copy it for a fresh store."""
    from geo.services.ingest import load_scenario_into_store

    path = tmp_path_factory.mktemp("alert-scenario") / "scenario.db"
    store = open_store(f"sqlite:///{path}")
    load_scenario_into_store(store, demo_scenario)
    store.close()
    return path
