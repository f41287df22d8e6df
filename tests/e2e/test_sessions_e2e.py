"""Sign-ins that last, in Chromium: reloads, second tabs, sign-out everywhere, expiry, gated endpoints."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from geo.services.accounts import add_user
from geo.services.sessions import COOKIE_NAME
from geo.store import open_store
from tests.e2e.conftest import (
    PASSWORD,
    Server,
    run_cli,
    sign_in,
    streamlit_server,
    wait_for_run,
    wait_for_text,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A private demo store (public viewing off) with an analyst and a viewer."""
    folder = tmp_path_factory.mktemp("e2e-sessions")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--n", "50", "--private")
    store = open_store(url)
    add_user(store, "ana", "analyst", PASSWORD)
    add_user(store, "vic", "viewer", PASSWORD)
    store.close()
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


def session_cookie(context: object, *, wait: bool = True) -> dict | None:
    """The session cookie the browser holds (waiting for the page's ticket exchange when ``wait``)."""
    for _ in range(100 if wait else 1):
        found = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        if found:
            return found[0]
        if wait:
            context.pages[0].wait_for_timeout(100)
    return None


def signed_in_page(server: Server, new_page: object, name: str, path: str = "/") -> tuple[object, object]:
    page, watch = new_page()
    page.goto(server.url + path)
    wait_for_text(page, "User name")
    sign_in(page, name)
    return page, watch


def test_sign_in_survives_a_reload_and_a_second_tab(server: Server, new_page: object) -> None:
    page, watch = signed_in_page(server, new_page, "ana")
    cookie = session_cookie(page.context)
    assert cookie is not None
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain HTTP here
    assert page.evaluate("document.cookie").find(COOKIE_NAME) == -1  # page script cannot read it
    page.reload()
    page.get_by_text("Signed in as ana").wait_for()
    second = page.context.new_page()
    second.goto(server.url + "/trends")
    second.get_by_text("Signed in as ana").wait_for()
    assert urlsplit(second.url).path == "/trends"
    watch.assert_clean()


def test_sign_out_in_one_tab_signs_the_other_out_at_its_next_run(server: Server, new_page: object) -> None:
    page, _ = signed_in_page(server, new_page, "vic")
    assert session_cookie(page.context) is not None
    other = page.context.new_page()
    other.goto(server.url + "/live_map")
    other.get_by_text("Signed in as vic").wait_for()
    page.get_by_role("button", name="Sign out").click()
    wait_for_text(page, "User name")
    # The other tab, without a reload: its next run (here, a click on another page) asks again.
    other.get_by_role("link", name="Trends").click()
    wait_for_text(other, "You signed out")
    other.get_by_label("User name").wait_for()
    for _ in range(50):  # the sign-out also clears the cookie
        if session_cookie(page.context, wait=False) is None:
            break
        page.wait_for_timeout(100)
    assert session_cookie(page.context, wait=False) is None
    other.reload()
    wait_for_text(other, "User name")


def test_an_expired_session_asks_for_sign_in_again(server: Server, new_page: object) -> None:
    page, _ = signed_in_page(server, new_page, "ana")
    assert session_cookie(page.context) is not None
    store = open_store(server.db)
    with store.write() as tx:  # the session reaches its lifetime: as if 12 hours had passed
        tx.execute("UPDATE sessions SET expires_at = created_at WHERE user_name = 'ana' AND ended_at IS NULL")
    store.close()
    page.reload()
    wait_for_text(page, "Your session reached its time limit")
    page.get_by_label("User name").wait_for()
    assert page.get_by_text("Signed in as ana").count() == 0


def test_the_live_map_has_its_own_address_and_the_root_leads_there(server: Server, new_page: object) -> None:
    page, _ = signed_in_page(server, new_page, "vic", "/live_map")
    assert urlsplit(page.url).path == "/live_map"
    wait_for_text(page, "incidents match")
    page.goto(server.url + "/?window=30d")
    # The link's filters go along; the page then adds the ceasefire shown (scenario=korea).
    page.wait_for_url(lambda url: urlsplit(url).path == "/live_map" and "window=30d" in urlsplit(url).query)
    wait_for_run(page)
    for path in ("/trends", "/incident", "/export"):
        page.goto(server.url + path)
        page.get_by_text("Signed in as vic").wait_for()
        assert urlsplit(page.url).path == path


def test_uploads_and_metrics_need_a_signed_in_session(server: Server, new_page: object) -> None:
    page, _ = new_page()
    api = page.context.request
    files = {"file": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n" * 1000}}
    def gate(reply: object) -> bool:
        """Whether our gate refused the request (Streamlit's own XSRF check answers 403 too)."""
        return reply.status == 403 and reply.text() == "sign in first"

    assert gate(api.put(f"{server.url}/_stcore/upload_file/some-session/some-file", multipart=files))
    assert gate(api.get(f"{server.url}/_stcore/metrics"))
    assert api.get(f"{server.url}/_stcore/health").status == 200  # the rest of Streamlit answers as before
    # A viewer may read the metrics but not upload; an analyst may upload.
    page.goto(server.url + "/")
    wait_for_text(page, "User name")
    sign_in(page, "vic")
    assert session_cookie(page.context) is not None
    assert api.get(f"{server.url}/_stcore/metrics").status == 200
    assert gate(api.put(f"{server.url}/_stcore/upload_file/s/f", multipart=files))
    page.get_by_role("button", name="Sign out").click()
    wait_for_text(page, "User name")
    for _ in range(50):  # the sign-out clears the cookie
        if session_cookie(page.context, wait=False) is None:
            break
        page.wait_for_timeout(100)
    sign_in(page, "ana")
    assert session_cookie(page.context) is not None
    assert not gate(api.put(f"{server.url}/_stcore/upload_file/s/f", multipart=files))


def test_the_cookie_route_refuses_other_origins_and_spent_tickets(server: Server, new_page: object) -> None:
    page, _ = new_page()
    api = page.context.request
    host = server.url.removeprefix("http://")
    forged = api.post(
        f"{server.url}/auth/cookie", form={"ticket": "x"}, headers={"Origin": "http://evil.example"}
    )
    assert forged.status == 403 and "cross-origin" in forged.text()
    unknown = api.post(f"{server.url}/auth/cookie", form={"ticket": "x"}, headers={"Origin": f"http://{host}"})
    assert unknown.status == 403 and "ticket" in unknown.text()
    assert session_cookie(page.context, wait=False) is None


def test_the_first_administrator_needs_the_token_printed_at_start(tmp_path: Path, new_page: object) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    run_cli(url, "demo", "--n", "20", "--private")  # data, but no account
    with streamlit_server(url, tmp_path / "streamlit.log") as running:
        page, watch = new_page()
        page.goto(running.url + "/")
        wait_for_text(page, "First-run setup")
        found = re.search(r"valid \d+ minutes\):\s+(\S+)", running.log.read_text())
        assert found, running.log.read_text()[-2000:]

        def create(token: str) -> None:
            page.get_by_label("Setup token").fill(token)
            page.get_by_label("User name").fill("root")
            page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
            page.get_by_label("Password again").fill(PASSWORD)
            page.get_by_role("button", name="Create administrator").click()

        create("a guess")
        wait_for_text(page, "setup token is wrong, used or expired")
        create(found.group(1))
        page.get_by_text("Signed in as root").wait_for()
        store = open_store(url)
        assert store.frame("SELECT name, role FROM users").values.tolist() == [["root", "admin"]]
        store.close()
        watch.assert_clean()
