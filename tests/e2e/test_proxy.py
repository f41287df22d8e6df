"""The example reverse proxy (deploy/nginx.conf) in front of two dashboards, over TLS, in Chromium.

The file is used as shipped, with only its ports, certificate, log and pid paths and the upload
size limit replaced for the test. Skipped where nginx (Debian's nginx-light) or openssl is absent.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.services.accounts import add_user
from geo.services.sessions import COOKIE_NAME
from geo.store import open_store
from tests.e2e.conftest import (
    ARTIFACTS,
    PASSWORD,
    REPO,
    free_port,
    run_cli,
    sign_in,
    streamlit_server,
    wait_for_text,
)

pytestmark = pytest.mark.e2e

CONF = REPO / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Two dashboards on one store behind nginx: the HTTPS and the plain HTTP address, and the store."""
    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("nginx or openssl is missing: install Debian's nginx-light and openssl")
    folder = tmp_path_factory.mktemp("e2e-proxy")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--n", "50", "--private")
    store = open_store(url)
    add_user(store, "ana", "analyst", PASSWORD)
    add_user(store, "vic", "viewer", PASSWORD)
    store.close()
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        dashboards = [
            stack.enter_context(
                streamlit_server(url, folder / f"streamlit-{i}.log", TRUCELINE_TRUSTED_PROXIES="127.0.0.1")
            )
            for i in range(2)
        ]
        ports = [d.url.rsplit(":", 1)[1] for d in dashboards]
        # A port found free may be taken (by another test's connection) before nginx binds it.
        for _attempt in range(3):
            https, http = free_port(), free_port()
            if start_nginx(nginx, folder, stack, conf(folder, ports, https, http)):
                break
        else:
            pytest.fail("nginx did not start: the ports found free were taken three times")
        yield {"https": f"https://127.0.0.1:{https}", "http": f"http://127.0.0.1:{http}", "db": url}
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(folder / "error.log", ARTIFACTS / "nginx-error.log")


def conf(folder: Path, ports: list[str], https: int, http: int) -> str:
    """The shipped nginx configuration on these ports, files and certificate."""
    text = CONF.read_text(encoding="utf-8")
    for old, new in (
        ("server 127.0.0.1:8501;", f"server 127.0.0.1:{ports[0]};"),
        ("server 127.0.0.1:8502;", f"server 127.0.0.1:{ports[1]};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("/etc/ssl/truceline/fullchain.pem", str(folder / "cert.pem")),
        ("/etc/ssl/truceline/privkey.pem", str(folder / "key.pem")),
        ("/var/log/nginx/truceline.access.log", str(folder / "access.log")),
        ("/var/log/nginx/truceline.error.log", str(folder / "error.log")),
        ("/run/nginx.pid", str(folder / "nginx.pid")),
        ("client_max_body_size 200m;", "client_max_body_size 2m;"),
        ("return 301 https://$host$request_uri;", f"return 301 https://$host:{https}$request_uri;"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text


def start_nginx(nginx: str, folder: Path, stack: contextlib.ExitStack, config: str) -> bool:
    """
    Start nginx on ``config`` until ``stack`` closes; ``False`` if a port was taken meanwhile.

    Fails the test for any other reason nginx does not start.
    """
    (folder / "nginx.conf").write_text(config, encoding="utf-8")
    (folder / "nginx.pid").unlink(missing_ok=True)
    out = folder / "nginx.out"
    with out.open("wb") as log:
        process = subprocess.Popen(
            [nginx, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-e", str(folder / "error.log"),
             "-g", "daemon off;"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 20
    while not (folder / "nginx.pid").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(15)
            said = out.read_text()
            if "Address already in use" in said:
                return False
            pytest.fail(f"nginx did not start: {said}")
        time.sleep(0.2)
    stack.callback(process.wait, 15)
    stack.callback(process.terminate)
    return True


@pytest.fixture
def context(browser: object) -> Iterator[object]:
    """A browser context that trusts the test certificate and reaches nothing but 127.0.0.1."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, ignore_https_errors=True)
    refused: list[str] = []

    def route(r: object) -> None:
        local = r.request.url.split("://", 1)[-1].startswith("127.0.0.1:")
        if local:
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    yield ctx
    ctx.close()
    assert refused == []


def test_through_the_proxy_a_sign_in_lasts_with_a_secure_cookie(
    proxy: dict[str, str], context: object
) -> None:
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(proxy["http"] + "/trends")  # plain HTTP is sent to HTTPS
    assert page.url.startswith(proxy["https"] + "/trends")
    wait_for_text(page, "User name")
    sign_in(page, "vic")
    for _ in range(100):
        cookie = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        if cookie:
            break
        page.wait_for_timeout(100)
    assert cookie and cookie[0]["secure"] and cookie[0]["httpOnly"] and cookie[0]["sameSite"] == "Lax"
    page.reload()
    page.get_by_text("Signed in as vic").wait_for()
    # The dashboards believe the proxy's X-Forwarded-For (the proxy replaced the browser's own).
    store = open_store(proxy["db"])
    clients = set(store.frame("SELECT client FROM login_attempts")["client"])
    store.close()
    assert clients == {"127.0.0.1"}


def test_the_proxy_refuses_uploads_and_metrics_before_sign_in_and_big_bodies(
    proxy: dict[str, str], context: object
) -> None:
    api = context.request
    small = {"file": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}}
    big = {"file": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"0123456789\n" * 300_000}}
    upload = f"{proxy['https']}/_stcore/upload_file/s/f"
    refused = api.put(upload, multipart=small)
    assert refused.status == 403 and "nginx" in refused.text()  # refused by the proxy itself
    assert api.get(f"{proxy['https']}/_stcore/metrics").status == 403
    page = context.new_page()
    page.goto(proxy["https"] + "/")
    wait_for_text(page, "User name")
    sign_in(page, "ana")
    for _ in range(100):
        if any(c["name"] == COOKIE_NAME for c in context.cookies()):
            break
        page.wait_for_timeout(100)
    assert api.get(f"{proxy['https']}/_stcore/metrics").status == 200
    passed = api.put(upload, multipart=small)
    assert "nginx" not in passed.text()  # reached Streamlit (which wants its XSRF token)
    assert api.put(upload, multipart=big).status == 413  # over the proxy's body limit
