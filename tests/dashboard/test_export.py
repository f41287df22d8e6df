"""The export page: every kind produces a real file of the current view, audited."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from geo import clock
from geo.services.ingest import ingest_frame
from geo.store import open_store
from tests.dashboard.support import VIEWER, all_text, app, hand_rows, query, scalar, us


def prepare(at: AppTest, kind: str) -> bytes:
    at.radio(key="e_kind").set_value(kind).run()
    if kind in ("png", "pdf"):
        at.select_slider(key="e_dpi").set_value(150).run()
    at.button(key="e_go").click().run()
    assert not at.exception, all_text(at)
    kind_ready, name, data, _ = at.session_state["e_file"]
    assert kind_ready == kind
    assert name.endswith(f"-7d.{kind}")
    assert at.get("download_button")[0].proto.label == f"Download {name}"
    return data


def in_view(url: str) -> int:
    since = us(pd.Timestamp(clock.now()) - pd.Timedelta(days=7))
    return int(scalar(url, "SELECT COUNT(*) FROM incidents WHERE occurred_at >= ?", (since,)))


@pytest.fixture
def formula_db(db: str) -> str:
    """The seeded store plus one incident whose text a spreadsheet would run."""
    now = pd.Timestamp(clock.now())
    row = hand_rows(
        [
            {
                "lon": 126.95,
                "lat": 38.06,
                "occurred_at": now - pd.Timedelta(hours=3),
                "actor": "+SUM(1,2)",
                "description": '=HYPERLINK("http://evil.example","click")',
                "source_event_id": "@FORMULA",
            }
        ],
        now=now,
    )
    store = open_store(db)
    ingest_frame(store, row, name="formula.csv")
    store.close()
    return db


def test_png(db: str) -> None:
    data = prepare(app(VIEWER, page="export"), "png")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.width > 1000
    assert image.height > 700


def test_pdf(db: str) -> None:
    data = prepare(app(VIEWER, page="export"), "pdf")
    assert data.startswith(b"%PDF")
    assert b"%%EOF" in data[-1024:]


def test_html_is_offline(db: str) -> None:
    page = prepare(app(VIEWER, page="export"), "html").decode()
    assert page.lstrip().lower().startswith("<!doctype html")
    loads = r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//"""
    assert not re.search(loads, page, re.IGNORECASE)  # nothing is fetched from outside
    assert "/app/static/" not in page  # inlined, not linked


def test_csv_counts_the_view_and_neutralises_formulas(formula_db: str) -> None:
    data = prepare(app(VIEWER, page="export"), "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == in_view(formula_db)
    evil = next(r for r in rows if "HYPERLINK" in r["description"])
    assert evil["description"] == '\'=HYPERLINK("http://evil.example","click")'
    assert evil["actor"] == "'+SUM(1,2)"
    assert evil["source_event_id"] == "'@FORMULA"

    def number(v: str) -> bool:
        try:
            float(v)
        except ValueError:
            return False
        return True

    assert all(not v.startswith(("=", "+", "-", "@")) or number(v) for r in rows for v in r.values() if v)


def test_geojson_and_gpkg(db: str, tmp_path: object) -> None:
    at = app(VIEWER, page="export")
    doc = json.loads(prepare(at, "geojson"))
    assert doc["type"] == "FeatureCollection"
    assert len(doc["features"]) == in_view(db)
    gpkg = prepare(at, "gpkg")
    path = tmp_path / "out.gpkg"
    path.write_bytes(gpkg)
    with sqlite3.connect(path) as conn:
        layers = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")}
        n = conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    conn.close()
    assert {"incidents", "lines", "zones"} <= layers
    assert n == in_view(db)


def test_exports_are_audited_and_a_changed_view_drops_the_old_file(db: str) -> None:
    at = app(VIEWER, page="export")
    prepare(at, "csv")
    audit = query(db, "SELECT user_name, target, after FROM audit_log WHERE action = 'export'")
    assert [(u, t) for u, t, _ in audit] == [("vic", "csv")]
    assert f'"rows": {in_view(db)}' in audit[0][2]
    at.sidebar.multiselect(key="f_party").set_value(["north"]).run()
    assert "e_file" not in at.session_state
    assert not at.get("download_button")
