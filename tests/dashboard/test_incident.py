"""The incident page: the full story, robust to missing values, and verification changes with who and when."""

from __future__ import annotations

import pandas as pd
import pyproj

from geo import clock
from geo.services.ingest import ingest_frame
from geo.store import open_store
from tests.dashboard.support import (
    ANALYST,
    BOTH_STORES,
    VIEWER,
    all_text,
    app,
    hand_rows,
    plain,
    query,
    scalar,
)


def newest(url: str) -> int:
    return int(scalar(url, "SELECT MAX(incident_id) FROM incidents"))


@BOTH_STORES
def test_analyst_changes_verification_and_it_is_recorded_with_user_and_time(db: str) -> None:
    incident = int(scalar(db, "SELECT MIN(incident_id) FROM incidents WHERE verification = 'reported'"))
    at = app(ANALYST, page="incident", query_params={"id": str(incident)})
    assert not at.exception, all_text(at)
    assert at.number_input(key="i_id").value == incident
    assert "Verification Reported" in plain(all_text(at))
    assert "No verification changes yet." in all_text(at)
    at.selectbox(key=f"i_status_{incident}").set_value("disputed")
    at.text_input(key=f"i_note_{incident}").set_value("two sources disagree")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception, all_text(at)
    assert f"Verification of incident {incident} set to Disputed." in all_text(at)
    assert "Verification Disputed" in plain(all_text(at))
    history = at.dataframe[-1].value
    assert history[["From", "To", "User", "Note"]].values.tolist() == [
        ["reported", "disputed", "ana", "two sources disagree"]
    ]
    when = pd.Timestamp(history["When"].iloc[0])
    assert abs(pd.Timestamp(clock.now()) - when.tz_convert("UTC")) < pd.Timedelta(minutes=2)
    stored = query(
        db, "SELECT old, new, user_name, note FROM verification_log WHERE incident_id = ?", (incident,)
    )
    assert stored == [("reported", "disputed", "ana", "two sources disagree")]
    assert scalar(db, "SELECT verification FROM incidents WHERE incident_id = ?", (incident,)) == "disputed"
    audit = query(db, "SELECT user_name, target FROM audit_log WHERE action = 'verification'")
    assert audit == [("ana", f"incident {incident}")]


def test_viewer_sees_the_story_but_cannot_change_it(db: str) -> None:
    at = app(VIEWER, page="incident")
    assert not at.exception
    assert at.number_input(key="i_id").value == newest(db)
    assert not [b for b in at.button if b.label == "Save"]
    assert "needs an analyst or admin account" in all_text(at)


def test_missing_values_and_hostile_text_render_safely(db: str) -> None:
    now = pd.Timestamp(clock.now())
    row = hand_rows(
        [
            {
                "lon": 126.9,
                "lat": 38.05,
                "fatalities": None,
                "actor": "[phish](https://evil.example) <script>alert(1)</script>",
                "description": "**bold?** <img src=x onerror=alert(1)> `${x}` {{7*7}}",
                "location_name": "",
                "source_event_id": "HOSTILE-1",
            }
        ],
        now=now,
    )
    store = open_store(db)
    ingest_frame(store, row, name="hostile.csv")
    store.close()
    incident = newest(db)
    at = app(VIEWER, page="incident", query_params={"id": str(incident)})
    assert not at.exception, all_text(at)
    text = all_text(at)
    assert "**Fatalities** —" in text
    assert "](https" not in text
    assert "<script>" not in text.replace("\\<script\\>", "")
    assert "[phish](https://evil.example) <script>alert(1)</script>" in plain(text)
    assert (
        at.text[0].value == "**bold?** <img src=x onerror=alert(1)> `${x}` {{7*7}}"
    )  # st.text: never markup


def test_bad_or_unknown_ids_do_not_break_the_page(db: str) -> None:
    at = app(VIEWER, page="incident", query_params={"id": "abc"})
    assert not at.exception
    assert at.number_input(key="i_id").value == newest(db)
    at = app(VIEWER, page="incident", query_params={"id": "999999"})
    assert not at.exception
    assert "No incident 999999." in all_text(at)


def test_the_box_and_the_link_stay_in_step(db: str) -> None:
    at = app(VIEWER, page="incident", query_params={"id": "3"})
    at.number_input(key="i_id").set_value(5).run()
    assert at.query_params["id"] == "5"
    assert "batch 1" in plain(all_text(at))
    # A link to another incident (a page link with ?id=7) wins over the box.
    at.query_params["id"] = "7"
    at.run()
    assert at.number_input(key="i_id").value == 7


def test_possible_duplicates_are_shown_with_links_to_each_other(db: str) -> None:
    now = pd.Timestamp(clock.now())
    when = now - pd.Timedelta(days=3, hours=5)
    rows = hand_rows(
        [
            {"lon": 127.05, "lat": 38.3, "occurred_at": when, "source": "acled", "source_event_id": "A-1",
             "description": "Shelling"},
            {"lon": 127.052, "lat": 38.3, "occurred_at": when + pd.Timedelta(minutes=40), "source": "ucdp",
             "source_event_id": "U-1", "category": "armed_clash"},
            # The same content as A-1 under another id: another event of the same source, flagged.
            {"lon": 127.05, "lat": 38.3, "occurred_at": when, "source": "acled", "source_event_id": "A-2",
             "description": "Shelling"},
        ],
        now=now,
    )  # fmt: skip
    store = open_store(db)
    summary = ingest_frame(store, rows, name="pair.csv")
    store.close()
    # U-1 matches A-1; A-2, read after U-1, matches U-1 too.
    assert (summary.near_duplicates, summary.lookalikes) == (2, 1)
    ids = dict(query(db, "SELECT source_event_id, incident_id FROM incidents WHERE batch_id = 2"))

    at = app(VIEWER, page="incident", query_params={"id": str(ids["U-1"])})
    assert not at.exception, all_text(at)
    assert "Possible duplicates" in all_text(at)
    links = {p.proto.query_string: plain(p.proto.label) for p in at.page_link if p.proto.page == "incident"}
    assert set(links) == {f"id={ids['A-1']}", f"id={ids['A-2']}"}
    label = links[f"id={ids['A-1']}"]
    assert f"Incident {ids['A-1']} · acled event A-1" in label
    metres = pyproj.Geod(ellps="WGS84").inv(127.05, 38.3, 127.052, 38.3)[2]
    assert f"another source's report, {metres:,.0f} m away, 40 min apart · not reviewed" in label
    # ACLED reported two events here, UCDP one: the three reports count as two incidents.
    counted = f"this report and incident(s) {ids['A-1']}, {ids['A-2']} count as 2 incidents:"
    assert counted in plain(all_text(at))

    at = app(VIEWER, page="incident", query_params={"id": str(ids["A-1"])})
    links = {p.proto.query_string: plain(p.proto.label) for p in at.page_link if p.proto.page == "incident"}
    assert set(links) == {f"id={ids['U-1']}", f"id={ids['A-2']}"}
    assert "the same source and content under another event id" in links[f"id={ids['A-2']}"]


def test_an_incident_without_links_shows_no_duplicates_section(db: str) -> None:
    at = app(VIEWER, page="incident", query_params={"id": "3"})
    assert not at.exception
    assert "Possible duplicates" not in all_text(at)


def test_the_heading_follows_the_language_s_typography(db: str) -> None:
    """French puts a space before a colon: "Violation : Tirs d'artillerie"."""
    from geo.i18n import use_language
    from geo.labels import category, verdict

    row = query(db, "SELECT verdict, category FROM incidents WHERE incident_id = 3")[0]
    for lang, colon in (("en", ": "), ("fr", " : ")):
        at = app(VIEWER, page="incident", query_params={"id": "3", "lang": lang})
        with use_language(lang):
            words = (verdict(row[0]), category(row[1]))
        assert plain(at.subheader[0].value) == words[0] + colon + words[1]
