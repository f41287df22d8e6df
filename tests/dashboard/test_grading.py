"""Graded reports on the pages: the unconfirmed-source note on popups and the Incident page; the filter."""

from __future__ import annotations

import json

import pandas as pd

from geo import clock
from geo.services.ingest import ingest_frame
from geo.store import open_store
from tests.dashboard.support import (
    ANALYST,
    VIEWER,
    all_text,
    app,
    hand_rows,
    map_args,
    marker_payloads,
    match_count,
    plain,
    query,
)


def add_graded(url: str) -> dict[str, int]:
    """Two breaches two days ago on the north's side of the line: one graded E5, one B2; their ids."""
    now = pd.Timestamp(clock.now())
    rows = hand_rows(
        [
            {"lon": 127.05, "lat": 38.30, "source_event_id": "WEAK-1", "source_reliability": "E",
             "info_credibility": "5", "description": "Shelling heard"},
            {"lon": 127.08, "lat": 38.31, "source_event_id": "GOOD-1", "source_reliability": "B",
             "info_credibility": "2", "description": "Shelling seen"},
        ],
        now=now,
    )  # fmt: skip
    store = open_store(url)
    ingest_frame(store, rows, name="graded.csv")
    found = store.query(columns=["incident_id", "source_event_id", "verdict"])
    store.close()
    assert set(found.loc[found["source_event_id"].isin(["WEAK-1", "GOOD-1"]), "verdict"]) == {"breach"}
    return dict(zip(found["source_event_id"], found["incident_id"].astype(int), strict=True))


def test_a_breach_with_only_an_e5_report_shows_unconfirmed_source_on_the_incident_page(db: str) -> None:
    ids = add_graded(db)
    at = app(VIEWER, page="incident", query_params={"id": str(ids["WEAK-1"])})
    assert not at.exception, all_text(at)
    assert at.subheader[0].value.startswith("Breach (unconfirmed source): ")
    text = plain(all_text(at))
    assert "Source grade E5 (unreliable; improbable)" in text
    assert "Breach (unconfirmed source): every report of this event is graded E/F" in text
    assert "Grading a report needs an analyst or admin account." in text
    good = app(VIEWER, page="incident", query_params={"id": str(ids["GOOD-1"])})
    assert good.subheader[0].value.startswith("Breach: ")
    assert "Source grade B2 (usually reliable; probably true)" in plain(all_text(good))


def test_the_map_popup_says_unconfirmed_source(db: str) -> None:
    ids = add_graded(db)
    at = app(VIEWER, query_params={"window": "7d"})
    assert not at.exception, all_text(at)
    payloads = marker_payloads(map_args(at)["feature_group"] or "")
    payload = next(p for p in payloads if str(ids["WEAK-1"]) in json.dumps(p["f"]["id"]))

    def cells(name: str) -> list[str]:
        column = payload["f"][name]
        return [column["d"][c] for c in column["c"]] if isinstance(column, dict) else column

    ids_shown = cells("id")
    verdicts = dict(zip(ids_shown, cells("verdict"), strict=True))
    grades = dict(zip(ids_shown, cells("grade"), strict=True))
    assert verdicts[str(ids["WEAK-1"])] == "Breach (unconfirmed source)"
    assert verdicts[str(ids["GOOD-1"])] == "Breach"
    assert grades[str(ids["WEAK-1"])] == "E5 (unreliable; improbable)"
    assert ["grade", "Source grade"] in payload["fields"]


def test_an_analyst_grades_a_report_and_the_note_goes(db: str) -> None:
    ids = add_graded(db)
    weak = ids["WEAK-1"]
    at = app(ANALYST, page="incident", query_params={"id": str(weak)})
    at.selectbox(key=f"i_reliability_{weak}").set_value("B")
    at.selectbox(key=f"i_credibility_{weak}").set_value("2")
    at.text_input(key=f"i_grade_note_{weak}").set_value("a second team confirmed it")
    next(b for b in at.button if b.label == "Save grade").click().run()
    assert not at.exception, all_text(at)
    assert f"Grade of incident {weak} set to B2." in plain(all_text(at))
    assert at.subheader[0].value.startswith("Breach: ")
    audit = query(db, "SELECT user_name, action, target FROM audit_log WHERE action = 'grading'")
    assert audit == [("ana", "grading", f"incident {weak}")]


def test_the_grade_filter_is_in_the_sidebar_and_the_link(db: str) -> None:
    add_graded(db)
    every = match_count(app(VIEWER, query_params={"window": "all"}))
    at = app(VIEWER, query_params={"window": "all", "grade": "B2"})
    assert not at.exception, all_text(at)
    assert at.selectbox(key="f_grade").value == "B2"
    assert match_count(at) == 1 < every
    at.selectbox(key="f_grade").set_value("E5").run()
    assert match_count(at) == 2
    assert at.query_params["grade"] == "E5"
