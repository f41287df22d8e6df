"""Helpers for the dashboard's AppTest suite: a seeded store, signed-in apps, readers of what they show."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from geo import DEMO_MANIFEST, Scenario, classify, clock, generate_incidents, load_scenario, prepare
from tests.helpers import hand_incidents

__all__ = ["generate_incidents"]
from geo.core.auth import Principal
from geo.services import sessions
from geo.services.accounts import add_user
from geo.services.ingest import ingest_frame, load_scenario_into_store
from geo.store import open_store

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
PASSWORD = "correct horse battery"  # noqa: S105  (a test account)
ADMIN = Principal("ada", "admin")
ANALYST = Principal("ana", "analyst")
VIEWER = Principal("vic", "viewer")
USERS = (ADMIN, ANALYST, VIEWER)
PAGES = ("live_map", "trends", "incident", "upload", "export", "review", "zones", "admin", "alerts")
TITLES = {
    "live_map": "Live map",
    "trends": "Trends",
    "incident": "Incident",
    "upload": "Upload incidents",
    "export": "Export",
    "review": "Review",
    "zones": "Zones & rules",
    "admin": "Users & audit",
    "alerts": "Alerts",
    "login": "Truceline",
    "refused": "Not allowed",
}
# The boundaries of every window the pages count in (hours before now): incidents are kept
# an hour away from them, so a test and the page it checks cannot disagree on one.
BOUNDARIES_H = (24, 48, 7 * 24, 14 * 24, 30 * 24, 35 * 24)


def demo_scenario() -> Scenario:
    """The shipped Korean demo scenario."""
    return load_scenario(DEMO_MANIFEST)


def us(when: datetime | pd.Timestamp) -> int:
    """A UTC instant as the SQLite store keeps it: microseconds since the epoch."""
    return int(pd.Timestamp(when).tz_convert("UTC").value // 1000)


def away_from_boundaries(frame: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Move incidents that sit within an hour of a window boundary two hours back."""
    age_h = (now - frame["occurred_at"]).dt.total_seconds() / 3600.0
    near = np.zeros(len(frame), dtype=bool)
    for bound in BOUNDARIES_H:
        near |= (age_h - bound).abs().to_numpy() < 1.0
    near |= age_h.to_numpy() < 1.0
    shift = pd.to_timedelta(np.where(near, 2 * 3600, 0), unit="s")
    out = frame.copy()
    for col in ("occurred_at", "occurred_from", "occurred_to"):
        out[col] = out[col] - shift
    return out


def incidents(scenario: Scenario, now: pd.Timestamp, *, n: int = 400, seed: int = 1) -> pd.DataFrame:
    """
    Demo incidents over the last 40 days, with recent breaches planted for both parties.

    Six incidents that classify as breaches are moved into the last 24 hours (three per
    party) and six into the 24 hours before, so every KPI has something to count.
    """
    frame = generate_incidents(scenario, n=n, days=40, end=now.date(), seed=seed)
    verdicts = classify(frame, prepare(scenario))
    for party in ("north", "south"):
        rows = np.flatnonzero(
            (verdicts["verdict"] == "breach").to_numpy() & (verdicts["attributed_party"] == party).to_numpy()
        )[:6]
        hours = [h + (party == "south") for h in (2, 5, 9, 30, 33, 40)][: len(rows)]
        for row, h in zip(rows, hours, strict=True):
            for col in ("occurred_at", "occurred_from", "occurred_to"):
                frame.loc[frame.index[row], col] = now - pd.Timedelta(hours=h)
    return away_from_boundaries(frame, now)


def build_store(path: Path | str, *, frame: pd.DataFrame | None = None, public: bool = False) -> str:
    """
    A store with the demo scenario, ``frame`` (default: :func:`incidents`) and three accounts.

    ``path`` is a SQLite file, or the URL of an empty PostGIS database.
    """
    from geo.services.settings import set_setting

    url = path if isinstance(path, str) and path.startswith("postgresql") else f"sqlite:///{path}"
    store = open_store(url)
    scenario = demo_scenario()
    load_scenario_into_store(store, scenario)
    now = pd.Timestamp(clock.now())
    data = incidents(scenario, now) if frame is None else frame
    if len(data):
        ingest_frame(store, data, name="seed.csv")
    for user in USERS:
        add_user(store, user.name, user.role, PASSWORD)
    if public:
        set_setting(store, "public_read", True)
    store.close()
    return url


def copy_store(source: Path, target: Path) -> str:
    """A consistent copy of a store file (the SQLite backup API copies WAL content too)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


BOTH_STORES = pytest.mark.parametrize(
    "db", ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True
)
"""Run a test on a SQLite store and on a PostGIS one (the pages that write to the store, mostly)."""


def query(url: str, sql: str, params: Iterable[object] = ()) -> list[tuple]:
    """Rows of a read-only SQL query on a store (``?`` placeholders), independently of geo/."""
    if url.startswith("postgresql"):
        return _pg_query(url, sql, params)
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(sql, tuple(params)).fetchall()
    conn.close()
    return rows


def _pg_query(url: str, sql: str, params: Iterable[object]) -> list[tuple]:
    """
    A query on PostGIS, times in and out as SQLite keeps them (microseconds since the epoch).

    An integer parameter past 10^15 is such a time (incident ids and counts never are).
    """
    import psycopg

    def arg(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool) and value > 10**15:
            return pd.Timestamp(value * 1000, tz="UTC").to_pydatetime()
        return value

    def out(value: object) -> object:
        return us(value) if isinstance(value, datetime) else value

    with psycopg.connect(url) as pg:
        rows = pg.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(arg(v) for v in params)).fetchall()
    return [tuple(out(v) for v in row) for row in rows]


def scalar(url: str, sql: str, params: Iterable[object] = ()) -> object:
    """The first value of a read-only query."""
    return query(url, sql, params)[0][0]


def sign_in(at: AppTest, user: Principal) -> AppTest:
    """Open a session for a local account in the store and hand it to the app, as the sign-in form does."""
    store = open_store(os.environ["TRUCELINE_DB"])
    try:
        sid, _ticket = sessions.start(store, user)
    finally:
        store.close()
    at.session_state["session_id"] = sid
    return at


def signed_in(at: AppTest) -> Principal | None:
    """Who the app's session is signed in as, asked of the store (``None``: nobody, or the session ended)."""
    sid = at.session_state.get("session_id", None)
    store = open_store(os.environ["TRUCELINE_DB"])
    try:
        found = sessions.resume(store, sid, touch=False)
    finally:
        store.close()
    return None if found is None else found.principal


def app(
    user: Principal | None = None,
    *,
    page: str | None = None,
    query_params: dict[str, str] | None = None,
    timeout: float = 60,
) -> AppTest:
    """
    Run the dashboard once (as ``user``), on ``page`` if given, as a link to that page opens it.

    Every page's URL path is its file name, so the page is chosen before the first run
    (the root would first run the live map, then switch).
    """
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if user is not None:
        sign_in(at, user)
    if query_params:
        at.query_params.update(query_params)
    if page is not None:
        at.switch_page(f"views/{page}.py")
    return at.run()


def open_url_path(at: AppTest, url_path: str) -> AppTest:
    """Ask for a page by its URL path, as a browser that types ``/upload`` does, routable or not."""
    at._page_hash = calc_hash(url_path)  # AppTest has no public call for a raw URL
    return at.run()


def navigation(at: AppTest) -> set[str]:
    """The page files (stems) the last run registered; a refusal in a forbidden page's place has none."""
    pages = at._registered_pages.values()
    return {Path(str(info["script_path"])).stem for info in pages if info.get("script_path")}


def title(at: AppTest) -> str:
    """The page's title."""
    return at.title[0].value if len(at.title) else ""


def all_text(at: AppTest) -> str:
    """Every message the page shows, joined: markdown, captions, alerts and exceptions."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "exception", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def plain(markdown: str) -> str:
    """Markdown escapes removed (``\\_`` → ``_``) and bold markers dropped, for text checks."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("**", "")


def match_count(at: AppTest) -> int:
    """The "N incidents match" figure of the live map's caption."""
    for caption in at.caption:
        found = re.search(r"\*\*([\d,]+) incidents? match(?:es)?\*\*", caption.value)
        if found:
            return int(found.group(1).replace(",", ""))
    raise AssertionError("no 'incidents match' caption: " + all_text(at))


def metrics(at: AppTest) -> dict[str, str]:
    """The KPI metrics: label → value."""
    return {m.label: m.value for m in at.metric}


def map_args(at: AppTest) -> dict:
    """The arguments the page sent to the st_folium component (script, feature groups, ...)."""
    found = [e for e in at.get("component_instance") if e.proto.component_name.endswith("st_folium")]
    assert len(found) == 1, f"expected one map, found {len(found)}"
    return json.loads(found[0].proto.json_args)


def payloads(script: str) -> list[dict]:
    """Every layer payload in a map script (``window.Truceline.markers(layer, {...})``, ``.hexCells``)."""
    decoder = json.JSONDecoder()
    calls = re.finditer(r"window\.Truceline\.(?:markers|hexCells)\(\w+, ", script)
    return [decoder.raw_decode(script, hit.end())[0] for hit in calls]


def marker_payloads(script: str) -> list[dict]:
    """The incident-marker payloads of a map script."""
    return [p for p in payloads(script) if "isNew" in p]


def cell_payloads(script: str) -> list[dict]:
    """The hex-cell payloads of a map script."""
    return [p for p in payloads(script) if "counts" in p]


def markers_sent(at: AppTest) -> int:
    """How many incidents the live map page drew as markers."""
    return sum(len(p["lat"]) for p in marker_payloads(map_args(at)["feature_group"] or ""))


def hand_rows(rows: list[dict], *, now: pd.Timestamp) -> pd.DataFrame:
    """Normalised incidents from a few hand-written rows (unlisted columns get neutral values)."""
    return hand_incidents(rows, now=now)
