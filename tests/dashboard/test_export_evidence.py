"""The Export page: an analyst chooses evidence images for the PDF briefing; viewers only where allowed."""

from __future__ import annotations

import io

import pandas as pd
from pypdf import PdfReader

from geo import clock
from tests.dashboard.support import ANALYST, VIEWER, all_text, app, query, scalar, us
from tests.dashboard.test_evidence import attach


def recent_incident(url: str) -> int:
    since = us(pd.Timestamp(clock.now()) - pd.Timedelta(days=6))
    return int(scalar(url, "SELECT MAX(incident_id) FROM incidents WHERE occurred_at >= ?", (since,)))


def test_an_analyst_prints_a_chosen_image_with_its_hash(db, tmp_path, monkeypatch) -> None:
    incident = recent_incident(db)
    sha = attach(db, incident, tmp_path, monkeypatch)
    at = app(ANALYST, page="export")
    at.radio(key="e_kind").set_value("pdf").run()
    at.select_slider(key="e_dpi").set_value(150).run()
    picker = at.multiselect(key="e_evidence_pick")
    assert picker.options == [f"<b>crater</b>.jpg · incident {incident} · SHA-256 {sha[:12]}…"]
    picker.set_value([sha]).run()
    at.button(key="e_go").click().run()
    assert not at.exception, all_text(at)
    data = at.session_state["e_file"][2]
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)
    assert f"SHA-256 (file as attached): {sha}" in text
    assert "<b>crater</b>.jpg · seen from the road" in text
    gets = query(db, "SELECT target FROM audit_log WHERE action = 'evidence_get'")
    assert gets == [(f"evidence {sha}",)]
    at.run()  # a rerun of the same view lists the evidence again without auditing it again
    assert len(query(db, "SELECT 1 FROM audit_log WHERE target = 'briefing evidence'")) == 1


def test_a_viewer_is_offered_no_evidence_unless_the_store_allows_it(db, tmp_path, monkeypatch) -> None:
    attach(db, recent_incident(db), tmp_path, monkeypatch)
    at = app(VIEWER, page="export")
    at.radio(key="e_kind").set_value("pdf").run()
    assert not at.exception, all_text(at)
    assert not [m for m in at.multiselect if m.key == "e_evidence_pick"]
    assert "crater" not in all_text(at)
