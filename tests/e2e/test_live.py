"""The dashboard in real headless Chromium: the live map draws, filters count, an upload shows up."""

from __future__ import annotations

import contextlib
import http.client
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geo import DEMO_MANIFEST, clock, load_scenario
from geo.services.accounts import add_user
from geo.services.settings import set_setting
from geo.store import open_store
from tests.e2e.conftest import (
    MAP_FRAME,
    PASSWORD,
    Server,
    caption_count,
    caption_count_after,
    map_frame,
    metric,
    pick,
    run_cli,
    sign_in,
    streamlit_server,
    wait_for_run,
    wait_for_text,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo (1,500 incidents over 60 days, public viewing on) with an admin and an analyst."""
    folder = tmp_path_factory.mktemp("e2e-live")
    url = f"sqlite:///{folder / 'store.db'}"
    run_cli(url, "demo", "--n", "1500", "--days", "60", "--seed", "3")
    store = open_store(url)
    add_user(store, "ada", "admin", PASSWORD)
    add_user(store, "ana", "analyst", PASSWORD)
    store.close()
    with streamlit_server(url, folder / "streamlit.log") as running:
        yield running


def test_live_map_draws_lines_zones_incidents_and_legend(server: Server, new_page: Callable) -> None:
    page, watch = new_page()
    page.goto(server.url)
    frame = map_frame(page)
    frame.locator("path.tl-incident").first.wait_for()
    count = caption_count(page)
    scenario = load_scenario(DEMO_MANIFEST)
    assert count > 0
    assert frame.locator("path.tl-incident").count() == count
    overlay = frame.locator(".leaflet-overlay-pane svg path").count()
    halos = frame.locator("path.tl-new-halo").count()
    assert overlay - count - halos == len(scenario.zones) + len(scenario.lines)
    assert frame.locator(".tl-side-label").count() == 6  # each party's side of the line, labelled
    assert frame.locator(".leaflet-tlBasemap-pane path").count() >= 2  # the offline Natural Earth background
    assert frame.locator(".tl-legend").is_visible()
    assert frame.locator(".leaflet-control-layers").count() == 1
    # A popup tells the incident's story.
    frame.locator("path.tl-incident.tl-v-breach").first.dispatch_event("click")
    popup = frame.locator(".leaflet-popup-content .tl-popup")
    popup.wait_for()
    assert "Breach" in popup.inner_text()
    assert "Distance to line" in popup.inner_text()
    assert page.locator('[data-testid="stAlert"]', has_text="Synthetic demo data.").is_visible()
    assert "Public read-only viewing is on" in page.locator('[data-testid="stSidebar"]').inner_text()
    watch.assert_clean()


def test_party_filter_changes_the_kpis_the_count_and_the_url(server: Server, new_page: Callable) -> None:
    page, watch = new_page()
    page.goto(server.url)
    map_frame(page)
    before = caption_count(page)
    south = metric(page, "South: breaches, last 7 days")
    assert int(south) > 0
    # The viewer zooms in; a filter change must not reload the map (pan and zoom are kept).
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    zoom = frame.evaluate(
        "() => { const m = Object.values(window).find(v => v instanceof L.Map);"
        " window.__kept = 'same map'; m.setZoom(m.getZoom() + 1, {animate: false}); return m.getZoom(); }"
    )
    pick(page, "Party", "North")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".some(m => m.innerText.includes('South: breaches, last 7 days') && m.innerText.includes('\\n0'))"
    )
    assert metric(page, "South: breaches, last 7 days") == "0"
    after = caption_count_after(page, before)
    assert 0 < after < before
    assert "parties=north" in page.url
    frame = map_frame(page)
    page.wait_for_function(
        "(n) => document.querySelector('iframe[title=\"streamlit_folium.st_folium\"]')"
        ".contentDocument.querySelectorAll('path.tl-incident').length === n",
        arg=after,
    )
    assert frame.locator("path.tl-incident").count() == after
    kept = next(f for f in page.frames if "streamlit_folium" in f.url).evaluate(
        "() => [window.__kept, Object.values(window).find(v => v instanceof L.Map).getZoom()]"
    )
    assert kept == ["same map", zoom]
    # The URL is a shareable view: opened afresh, it shows the same filters and count.
    other, other_watch = new_page()
    other.goto(page.url)
    map_frame(other)
    assert caption_count(other) == after
    chosen = other.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first.inner_text()
    assert "North" in chosen
    watch.assert_clean()
    other_watch.assert_clean()


def upload_file(folder: Path, db: Path) -> Path:
    """
    One artillery incident on the Demarcation Line two hours ago: a breach by the north.

    It is put where no stored incident lies within 3 km and 6 hours, so it is never linked
    to a generated report of the same event (that would count it once, not as one more).
    """
    line = load_scenario(DEMO_MANIFEST).lines[0].geometry
    now = pd.Timestamp(clock.now())
    at = now - pd.Timedelta(hours=2)
    stored = open_store(db).query(columns=["lon", "lat", "occurred_at"])
    near = stored[(stored["occurred_at"] - at).abs() < pd.Timedelta(hours=6)]
    for fraction in np.linspace(0.1, 0.9, 33):
        lon, lat = shapely.get_coordinates(line.interpolate(fraction, normalized=True))[0]
        east = (near["lon"] - lon) * 111_320 * np.cos(np.radians(lat))
        north = (near["lat"] - lat) * 110_574
        if not (np.hypot(east, north) < 3_000).any():
            break
    else:
        pytest.fail("no place on the line is clear of the demo's incidents")
    path = folder / "e2e-upload.csv"
    path.write_text(
        "event_id,occurred_at,lat,lon,category,party,location_precision,description\n"
        f"E2E-1,{at:%Y-%m-%dT%H:%M:%SZ},{lat:.5f},{lon:.5f},"
        "artillery_fire,north,exact,Uploaded through the browser\n",
        encoding="utf-8",
    )
    return path


def signed_in_analyst(server: Server, new_page: Callable) -> tuple[object, object]:
    """A page on the live map, signed in as the analyst, and its console watch."""
    page, watch = new_page()
    page.goto(server.url)
    map_frame(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign in").click()
    sign_in(page, "ana")
    map_frame(page)
    return page, watch


def test_analyst_uploads_a_csv_and_sees_it_on_the_map(
    server: Server, new_page: Callable, tmp_path: Path
) -> None:
    page, watch = signed_in_analyst(server, new_page)
    before = caption_count(page)
    stored = open_store(server.db).count()

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Upload").click()
    chooser = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    chooser.set_input_files(str(upload_file(tmp_path, server.db)))
    wait_for_text(page, "6. Commit")
    page.get_by_role("button", name=re.compile(r"^Commit e2e")).click()
    wait_for_text(page, "1 accepted, 0 rejected, 0 duplicates of 1 rows")
    assert open_store(server.db).count() == stored + 1

    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Live map").click()
    frame = map_frame(page)
    wait_for_text(page, "1 new since the last refresh")
    wait_for_text(page, f"{before + 1:,} incidents match")  # the caption of this run, not a stale one
    assert caption_count(page) == before + 1
    halo = frame.locator("path.tl-new-halo")
    halo.first.wait_for()
    assert halo.count() == 1
    frame.locator("path.tl-incident.tl-v-breach").last.wait_for()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Upload").click()
    page.get_by_role("button", name="Undo this upload").wait_for()  # the analyst may undo their upload
    watch.assert_clean()


def uploads_held_in_memory(metrics: str) -> int:
    """Bytes Streamlit's upload manager holds, from ``/_stcore/metrics`` (0 when it holds none)."""
    found = re.search(r'cache_memory_bytes\{cache_type="UploadedFileManager"[^}]*\}\s+(\d+)', metrics)
    return int(found.group(1)) if found else 0


def test_a_browser_upload_goes_to_disk_and_streamlit_keeps_only_a_receipt(
    server: Server, new_page: Callable, tmp_path: Path
) -> None:
    page, watch = signed_in_analyst(server, new_page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Upload").click()
    rows = [
        f"SPOOL-{i},2026-01-0{1 + i % 9}T08:00:00Z,38.1,127.0,artillery_fire,KPA,{'x' * 150}"
        for i in range(12_000)
    ]
    big = tmp_path / "spooled.csv"
    big.write_text("event_id,occurred_at,lat,lon,category,actor,description\n" + "\n".join(rows) + "\n")
    puts: list[str] = []
    page.on(
        "request", lambda r: puts.append(r.url) if r.method == "PUT" and "/upload_file/" in r.url else None
    )
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(big))
    wait_for_text(page, "6. Commit")  # the worker read every row from the file the server kept
    assert metric(page, "Rows read") == "12,000"
    api = page.context.request
    held = uploads_held_in_memory(api.get(f"{server.url}/_stcore/metrics").text())
    assert big.stat().st_size > 2_000_000
    assert 0 < held < 200  # a receipt, not the file
    # Streamlit's own checks still hold on the path that replaced its endpoint.
    assert len(puts) == 1
    session_id = puts[0].split("/upload_file/")[1].split("/")[0]
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
    host, port = server.url.removeprefix("http://").split(":")

    def put(headers: dict[str, str], body: bytes = b"") -> int:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.putrequest("PUT", f"/_stcore/upload_file/{session_id}/extra")
        for key, value in {"Cookie": cookies, **headers}.items():
            conn.putheader(key, value)
        conn.endheaders(body)
        status = conn.getresponse().status
        conn.close()
        return status

    assert put({"Content-Length": "0"}) == 403  # no XSRF token
    too_big = str(400 * 1024 * 1024)
    assert put({"X-Xsrftoken": xsrf, "Content-Length": too_big}) == 413  # refused before any byte is read
    assert put({"X-Xsrftoken": xsrf, "Content-Length": "4", "Content-Type": "text/plain"}, b"abcd") == 400
    assert uploads_held_in_memory(api.get(f"{server.url}/_stcore/metrics").text()) == held
    watch.assert_clean()


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """
    Start a dashboard on a private demo store (public viewing off, one admin).

    Ask for this fixture before ``new_page``: the pages are then photographed before the
    server stops.
    """
    with contextlib.ExitStack() as stack:

        def start(*, n: int = 50, refresh_s: int | None = None, **env: str) -> Server:
            url = f"sqlite:///{tmp_path / 'private.db'}"
            run_cli(url, "demo", "--n", str(n), "--private")
            store = open_store(url)
            add_user(store, "ada", "admin", PASSWORD)
            if refresh_s is not None:
                set_setting(store, "refresh_seconds", refresh_s)
            store.close()
            return stack.enter_context(streamlit_server(url, tmp_path / "private.log", **env))

        yield start


def test_a_shared_link_asks_a_signed_out_visitor_to_sign_in_then_opens(
    private_server: Callable[..., Server], new_page: Callable
) -> None:
    """With public viewing off, a link shows only the sign-in form, and after it the linked view."""
    other = private_server()
    page, watch = new_page()
    page.goto(f"{other.url}/trends?window=30d&parties=south")
    page.locator('[data-testid="stForm"]').get_by_role("button", name="Sign in").wait_for()
    text = page.locator("body").inner_text()
    assert "incidents match" not in text
    assert "Trends" not in text
    assert "Page not found" not in text
    assert page.locator(MAP_FRAME).count() == 0
    sign_in(page, "ada")
    page.get_by_role("heading", name="Trends").wait_for()
    assert "/trends" in page.url
    assert "parties=south" in page.url
    wait_for_run(page)  # the sidebar is redrawn widget by widget: read it once the run is over
    party = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="Party")
    assert "South" in party.first.inner_text()
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    watch.assert_clean()


def test_an_idle_live_map_times_out_even_while_it_refreshes(
    private_server: Callable[..., Server], new_page: Callable
) -> None:
    """The map's own refreshes are not activity: an open, untouched screen still signs out."""
    other = private_server(n=200, refresh_s=5, TRUCELINE_SESSION_MINUTES="0.2")
    page, watch = new_page()
    page.goto(other.url)
    sign_in(page, "ada")
    map_frame(page)
    wait_for_text(page, "The map refreshes every 5 s")
    # 12 s of session; the map refreshes twice meanwhile, then the session ends on its own.
    page.get_by_text("Your session timed out. Please sign in again.").wait_for(timeout=40_000)
    # The rest of that run removes the map and the sidebar's "Signed in as" (the message may come first).
    page.locator(MAP_FRAME).wait_for(state="detached", timeout=30_000)
    page.get_by_text("Signed in as").wait_for(state="detached", timeout=30_000)
    assert "Signed in as" not in page.locator("body").inner_text()
    watch.assert_clean()
