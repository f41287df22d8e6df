"""A live API on 127.0.0.1 (uvicorn in a thread) over a store, for the API tests, docs test and benchmark."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from geo.api import Limits, create_app
from geo.store import Store


@dataclass(frozen=True)
class LiveApi:
    """Where a running API answers."""

    base: str
    port: int


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_api(store: Store, *, limits: Limits | None = None) -> Iterator[LiveApi]:
    """Serve the API over ``store`` on a free loopback port until the block ends."""
    port = free_port()
    config = uvicorn.Config(
        create_app(store, limits=limits), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="truceline-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = "the API did not start"
            raise RuntimeError(msg)
        time.sleep(0.02)
    try:
        yield LiveApi(f"http://127.0.0.1:{port}", port)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
