"""End-to-end fixtures: a real ``streamlit run`` on a free loopback port, and headless Chromium.

Every page is watched: any request that would leave 127.0.0.1 is aborted and recorded, and
console errors, uncaught exceptions and dialogs (``alert`` from injected script) are kept.
Screenshots of every test, passed or failed, go to ``test-artifacts/`` (git-ignored).

A test's pages come from a pool of browser contexts, each emptied between tests (cookies,
storage, other tabs, routes and listeners): a renderer that has run the dashboard once
runs it again for half the CPU of a new one.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "correct horse battery"  # noqa: S105  (test accounts)
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
VIEWPORT = {"width": 1400, "height": 1000}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m geo ARGS`` against the store at ``url``; fails the test on a non-zero exit."""
    env = {**os.environ, "TRUCELINE_DB": url}
    done = subprocess.run(
        [sys.executable, "-m", "geo", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"geo {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


@dataclass
class Server:
    """A running dashboard."""

    url: str
    db: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def streamlit_server(db: str, log: Path, **env: str) -> Iterator[Server]:
    """
    Run ``streamlit run dashboard/app.py`` on a free port until the block ends.

    A port found free may be taken (by another test's connection) before the server binds
    it: the server is then started again on another, up to three times.
    """
    for _attempt in range(3):
        port = free_port()
        process = _start_streamlit(db, log, port, env)
        base = f"http://127.0.0.1:{port}"
        try:
            if _answers(process, base, log):
                yield Server(base, db, process, log)
                return
        finally:
            _stop(process)
    pytest.fail(f"streamlit could not bind a port three times: {log.read_text()[-2000:]}")


def _start_streamlit(db: str, log: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboard/app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, cwd=REPO, env={**os.environ, "TRUCELINE_DB": db, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def _answers(process: subprocess.Popen[bytes], base: str, log: Path) -> bool:
    """Wait for the server's health check; ``False`` if its port was taken, a test failure otherwise."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            said = log.read_text()[-2000:]
            if f"Port {base.rsplit(':', 1)[1]} is not available" in said:
                return False
            pytest.fail(f"streamlit exited with {process.returncode}: {said}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit did not answer within 60 s: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@dataclass
class Watch:
    """What a page did: refused requests, dialogs, console errors and uncaught exceptions."""

    refused: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    handlers: list[tuple[str, Callable[..., object]]] = field(default_factory=list, repr=False)
    """The page's event handlers, removed when the page goes back to the pool."""

    def assert_clean(self) -> None:
        assert self.refused == [], f"requests tried to leave 127.0.0.1: {self.refused}"
        assert self.dialogs == [], f"dialogs opened (script from data ran?): {self.dialogs}"
        assert self.serious() == [], f"console errors: {self.serious()}"

    def serious(self) -> list[str]:
        """
        The errors, less Streamlit's own base-path probe.

        Opened at ``/trends``, Streamlit's frontend first asks ``/trends/_stcore/health``
        and ``/trends/_stcore/host-config`` (in case the app is served under that path),
        gets 404 and falls back to ``/_stcore/...``. Each probe also logs one
        "Failed to load resource" line; both are dropped, nothing else is.
        """
        probes = [e for e in self.errors if _PROBE.fullmatch(e)]
        rest = [e for e in self.errors if not _PROBE.fullmatch(e)]
        for _ in probes:
            if _NOT_FOUND in rest:
                rest.remove(_NOT_FOUND)
        return rest


_PROBE = re.compile(r"HTTP 404 http://127\.0\.0\.1:\d+/[a-z_]+/_stcore/(?:health|host-config)")
_NOT_FOUND = "Failed to load resource: the server responded with a status of 404 (Not Found)"


LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")


def watch_page(page: object) -> Watch:
    """Route every request of ``page`` (local ones pass, others are aborted) and record trouble."""
    watch = Watch()

    def route(r: object) -> None:
        url = r.request.url
        if url.startswith(LOCAL):
            r.continue_()
        else:
            watch.refused.append(url)
            r.abort()

    page.route("**/*", route)
    watch.handlers = [
        ("dialog", lambda d: (watch.dialogs.append(f"{d.type}: {d.message}"), d.dismiss())),
        ("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None),
        ("pageerror", lambda e: watch.errors.append(f"uncaught: {e}")),
        ("response", lambda r: watch.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None),
    ]
    for event, handler in watch.handlers:
        page.on(event, handler)
    return watch


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Keep each phase's report on the test item, so fixtures know whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def page_pool(browser: object) -> Iterator[list[object]]:
    """Emptied pages (each alone in its browser context) that the next test may take."""
    free: list[object] = []
    yield free
    for page in free:
        page.context.close()


@pytest.fixture
def new_page(
    browser: object, page_pool: list[object], request: pytest.FixtureRequest
) -> Iterator[Callable[[], tuple[object, Watch]]]:
    """Pages in a browser context of their own each, screenshot at the end whatever the outcome."""
    taken: list[tuple[object, Watch]] = []

    def make() -> tuple[object, Watch]:
        page = page_pool.pop() if page_pool else browser.new_context(viewport=VIEWPORT).new_page()
        page.set_default_timeout(30_000)
        watch = watch_page(page)
        taken.append((page, watch))
        return page, watch

    yield make
    ARTIFACTS.mkdir(exist_ok=True)
    failed = getattr(getattr(request.node, "rep_call", None), "failed", True)
    for i, (page, _) in enumerate(taken):
        stem = f"{request.node.name}{'-' + str(i) if i else ''}"
        for old in (f"{stem}.png", f"{stem}-FAILED.png"):  # only this run's outcome stays
            (ARTIFACTS / old).unlink(missing_ok=True)
        with contextlib.suppress(Exception):  # a crashed page cannot be photographed; the test says why
            page.screenshot(path=str(ARTIFACTS / f"{stem}{'-FAILED' if failed else ''}.png"))
    for page, watch in taken:
        if not failed and _emptied(page, watch):
            page_pool.append(page)
        else:
            page.context.close()


def _emptied(page: object, watch: Watch) -> bool:
    """
    Leave ``page`` as a new context's page would be: alone, blank, with no cookies or storage.

    ``False`` if that failed (the page crashed): the caller closes its context instead.
    """
    try:
        for other in page.context.pages:
            if other is not page:
                other.close()
        page.unroute_all(behavior="ignoreErrors")
        for event, handler in watch.handlers:
            page.remove_listener(event, handler)
        if page.url.startswith("http"):
            page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
        page.goto("about:blank")
        page.context.clear_cookies()
        page.set_viewport_size(VIEWPORT)
    except Exception:  # noqa: BLE001  (any failure: the context is not reused)
        return False
    return True


# -- Streamlit in the browser -------------------------------------------------------------------------


def wait_for_text(page: object, text: str, timeout: float = 30_000) -> None:
    """Wait until ``text`` is visible somewhere in the app."""
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)


def caption_count(page: object) -> int:
    """The live map's "N incidents match" figure."""
    locator = page.locator('[data-testid="stCaptionContainer"]', has_text="incidents match").first
    locator.wait_for()
    text = locator.inner_text()
    return int(text.split(" incidents match")[0].rsplit("·", 1)[-1].strip().replace(",", ""))


def caption_count_after(page: object, before: int) -> int:
    """The live map's figure once it differs from ``before`` (a rerun redraws it after the KPIs)."""
    page.wait_for_function(
        """(before) => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
            .some(c => { const m = c.innerText.match(/([0-9,]+) incidents match/);
                         return m && Number(m[1].replace(/,/g, '')) !== before; })""",
        arg=before,
        timeout=60_000,
    )
    return caption_count(page)


def metric(page: object, label: str) -> str:
    """The value of the KPI metric with ``label``."""
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def wait_for_run(page: object) -> None:
    """Wait until Streamlit has finished the current run (its status widget is gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def pick(page: object, label: str, option: str) -> None:
    """Choose ``option`` in the sidebar multiselect labelled ``label``."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text=label).first
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    wait_for_run(page)


def sign_in(page: object, name: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-in form (the page must show it)."""
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    # The form's own button: while the page reruns, the sidebar's "Sign in" may still show.
    page.locator('[data-testid="stForm"]').get_by_role("button", name="Sign in").click()
    # The password check (argon2) and the run after it share two cores with the other test
    # worker: give them a minute, not the default 30 s.
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=60_000)


def map_frame(page: object) -> object:
    """The st_folium iframe, once Leaflet has drawn in it."""
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for()
    return frame
