"""The upload page: detect, preview, validate, commit, re-upload, map columns, undo.

Every upload's accounting is checked against the file (rows counted with the csv module)
and against the store (rows counted with SQL): accepted + rejected + duplicate = rows read.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.support import (
    ADMIN,
    ANALYST,
    BOTH_STORES,
    REPO,
    VIEWER,
    all_text,
    app,
    plain,
    query,
    scalar,
)

EXAMPLE = REPO / "data" / "templates" / "incidents_example.csv"
ACLED = REPO / "tests" / "data" / "readers" / "acled_2023.csv"
BAD = (
    "event_id,occurred_at,lat,lon,category,party,fatalities,description\n"
    "B-1,2026-01-05T10:00:00Z,38.05,126.9,artillery_fire,north,0,fine\n"
    "B-2,2026-01-06T10:00:00Z,,126.9,artillery_fire,north,0,no latitude\n"
    "B-3,yesterday,38.05,126.9,artillery_fire,north,0,no date\n"
    "B-4,2026-01-07T10:00:00Z,38.05,126.9,artillery_fire,north,-1,negative dead\n"
    "B-5,2026-01-08T10:00:00Z,0,0,artillery_fire,north,0,null island\n"
    "B-6,2026-01-09T10:00:00Z,38.06,126.91,small_arms_fire,south,0,also fine\n"
)
UNKNOWN_LAYOUT = (
    "Ref,When,Latitude (deg),Longitude (deg),Kind,Unit,Notes\n"
    "M-1,2026-02-01 08:00,38.05,126.90,artillery_fire,KPA,first\n"
    "M-2,2026-02-02 09:30,38.10,127.00,small_arms_fire,ROK Army,second\n"
    "M-3,2026-02-03 11:15,38.20,127.30,drone_activity,,third\n"
)
MAPPING = {"event_id": "Ref", "occurred_at": "When", "lat": "Latitude (deg)", "lon": "Longitude (deg)"}
MAPPING |= {"category": "Kind", "actor": "Unit", "description": "Notes"}


def records(data: bytes) -> int:
    """Records in a CSV file (quoted line breaks included), counted without geo/."""
    return len(list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")))))


def stored(url: str) -> int:
    return int(scalar(url, "SELECT COUNT(*) FROM incidents"))


def last_batch(url: str) -> dict:
    cols = ("batch_id", "user_name", "file_name", "format", "rows_read", "accepted", "rejected", "duplicate")
    row = query(url, f"SELECT {', '.join(cols)}, status FROM batches ORDER BY batch_id DESC LIMIT 1")[0]
    return dict(zip((*cols, "status"), row, strict=True))


def metric(at: AppTest, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="u_file").set_value((name, data, "text/csv")).run()


def commit(at: AppTest) -> AppTest:
    return at.button(key="u_commit").click().run()


@BOTH_STORES
def test_template_file_full_flow_then_reupload_adds_nothing(db: str) -> None:
    data = EXAMPLE.read_bytes()
    rows = records(data)
    before = stored(db)
    at = upload(app(ANALYST, page="upload"), "incidents_example.csv", data)
    assert not at.exception, all_text(at)
    text = plain(all_text(at))
    assert "Format template" in text
    assert "encoding utf-8" in text
    assert metric(at, "Rows read") == rows
    assert metric(at, "Valid") + metric(at, "Rejected") == rows
    assert len(at.dataframe[0].value) == min(metric(at, "Valid"), 20)  # the preview
    assert stored(db) == before  # nothing is stored before Commit

    commit(at)
    assert not at.exception, all_text(at)
    batch = last_batch(db)
    assert (batch["user_name"], batch["file_name"], batch["format"]) == (
        "ana",
        "incidents_example.csv",
        "template",
    )
    assert batch["rows_read"] == rows
    assert batch["accepted"] + batch["rejected"] + batch["duplicate"] == rows
    assert batch["accepted"] > 0
    assert stored(db) == before + batch["accepted"]
    assert metric(at, "Accepted") == batch["accepted"]
    assert f"Batch {batch['batch_id']}: {batch['accepted']:,} accepted" in all_text(at)

    again = commit(upload(app(ANALYST, page="upload"), "incidents_example.csv", data))
    assert not again.exception
    second = last_batch(db)
    assert second["batch_id"] == batch["batch_id"] + 1
    assert second["accepted"] == 0
    assert second["duplicate"] == batch["accepted"]
    assert second["accepted"] + second["rejected"] + second["duplicate"] == rows
    assert stored(db) == before + batch["accepted"]
    assert metric(again, "Duplicates") == batch["accepted"]


def test_acled_file_is_detected_and_committed(db: str) -> None:
    data = ACLED.read_bytes()
    at = upload(app(ANALYST, page="upload"), "acled_2023.csv", data)
    assert "Format acled (acled-2023)" in plain(all_text(at))
    commit(at)
    batch = last_batch(db)
    assert batch["format"] == "acled"
    assert batch["rows_read"] == records(data)
    assert batch["accepted"] + batch["rejected"] + batch["duplicate"] == batch["rows_read"]
    acled = int(
        scalar(
            db, "SELECT COUNT(*) FROM incidents WHERE source = 'acled' AND batch_id = ?", (batch["batch_id"],)
        )
    )
    assert acled == batch["accepted"] > 0


def test_bad_rows_are_reported_with_reasons_and_accounted_for(db: str) -> None:
    data = BAD.encode()
    at = upload(app(ANALYST, page="upload"), "bad.csv", data)
    assert not at.exception
    assert (metric(at, "Rows read"), metric(at, "Valid"), metric(at, "Rejected")) == (6, 2, 4)
    assert "**Format** template (standard) · **encoding** utf-8 · **delimiter** ',' · **header** yes" in [
        m.value for m in at.markdown
    ]
    rejected = next(d.value for d in at.dataframe if "Reason" in d.value)
    assert list(rejected.columns) == ["Line", "Reason", "Row as written"]
    reasons = dict(zip(rejected["Line"], rejected["Reason"], strict=True))
    assert set(reasons) == {3, 4, 5, 6}
    assert reasons[3].startswith("lat: missing value")
    assert "'yesterday' is not a date" in reasons[4]
    assert "negative" in reasons[5]
    assert "(0, 0)" in reasons[6]
    assert any(b.label == "Download rejected rows (CSV)" for b in at.get("download_button"))

    commit(at)
    batch = last_batch(db)
    assert (batch["rows_read"], batch["accepted"], batch["rejected"], batch["duplicate"]) == (6, 2, 4, 0)
    kept = query(
        db,
        "SELECT line_no, reason FROM rejected_rows WHERE batch_id = ? ORDER BY line_no",
        (batch["batch_id"],),
    )
    assert [line for line, _ in kept] == [3, 4, 5, 6]
    assert "Batch" in all_text(at) and "4 rejected" in all_text(at)

    commit(upload(app(ANALYST, page="upload"), "bad-again.csv", data))
    again = last_batch(db)
    assert (again["accepted"], again["rejected"], again["duplicate"]) == (0, 4, 2)


def test_unknown_layout_is_mapped_by_hand_saved_and_reused(db: str) -> None:
    data = UNKNOWN_LAYOUT.encode()
    at = upload(app(ANALYST, page="upload"), "monitor.csv", data)
    assert not at.exception
    assert "Map the file's columns below." in all_text(at)
    assert "Map at least occurred_at, lat, lon to go on." in plain(all_text(at))
    assert not any(b.key == "u_commit" for b in at.button)  # nothing to commit until mapped
    for target, column in MAPPING.items():
        at.selectbox(key=f"u_m_{target}").set_value(column)
    at.run()
    assert not at.exception, all_text(at)
    assert "Format mapped" in plain(all_text(at))
    assert (metric(at, "Rows read"), metric(at, "Valid")) == (3, 3)
    at.text_input(key="u_map_name").set_value("team-c").run()
    at.button(key="u_map_save").click().run()
    saved = scalar(db, "SELECT value FROM meta WHERE key = 'mapping:team-c'")
    assert '"occurred_at": "When"' in str(saved)
    assert (
        scalar(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'mapping_saved' AND user_name = 'ana'") == 1
    )
    commit(at)
    batch = last_batch(db)
    assert (batch["format"], batch["rows_read"], batch["accepted"]) == ("mapped", 3, 3)
    descriptions = {
        d for (d,) in query(db, "SELECT description FROM incidents WHERE batch_id = ?", (batch["batch_id"],))
    }
    assert descriptions == {"first", "second", "third"}

    # A later upload picks the saved mapping from the list: its columns come back filled in.
    later = upload(app(ANALYST, page="upload"), "monitor-2.csv", data.replace(b"M-", b"N-"))
    later.selectbox(key="u_mapping").set_value("team-c").run()
    assert later.selectbox(key="u_m_occurred_at").value == "When"
    assert (metric(later, "Rows read"), metric(later, "Valid")) == (3, 3)


@BOTH_STORES
def test_undo_removes_the_batch_and_only_your_own(db: str) -> None:
    before = stored(db)
    at = commit(upload(app(ANALYST, page="upload"), "bad.csv", BAD.encode()))
    batch = last_batch(db)
    assert stored(db) == before + 2
    choices = at.selectbox(key="u_batch").options
    assert choices == [f"{batch['batch_id']}: bad.csv"]  # the seed batch belongs to someone else
    at.button(key="u_undo").click().run()
    assert not at.exception
    assert f"Batch {batch['batch_id']} undone: 2 incidents removed." in all_text(at)
    assert stored(db) == before
    assert last_batch(db)["status"] == "deleted"
    assert "Batch 2: 2 accepted" not in all_text(at)  # the summary of the undone upload is gone
    actions = query(db, "SELECT user_name, target FROM audit_log WHERE action = 'batch_delete'")
    assert actions == [("ana", f"batch {batch['batch_id']}")]
    # An admin may undo any upload, including the seed.
    admin = app(ADMIN, page="upload")
    assert "1: seed.csv" in admin.selectbox(key="u_batch").options


def test_upload_size_limit(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCELINE_MAX_UPLOAD_MB", "0.0001")
    at = upload(app(ANALYST, page="upload"), "incidents_example.csv", EXAMPLE.read_bytes())
    assert "over the 0.0001 MB upload limit" in plain(all_text(at))
    assert not any(b.key == "u_commit" for b in at.button)


def test_hostile_file_name_is_shown_as_text(db: str) -> None:
    name = "<img src=x onerror=alert(1)>[click](http://evil.example)`${x}`.csv"
    at = upload(app(ANALYST, page="upload"), name, BAD.encode())
    label = next(b.label for b in at.button if b.key == "u_commit")
    assert "<img" not in label.replace("\\<img", "")
    assert "](" not in label.replace("\\]\\(", "")
    assert plain(label) == f"Commit {name}"
    commit(at)
    assert last_batch(db)["file_name"] == name


def test_viewer_gets_no_uploader_even_on_the_page_itself(db: str) -> None:
    at = AppTest.from_file(str(REPO / "dashboard" / "views" / "upload.py"), default_timeout=60)
    from tests.dashboard.support import sign_in

    sign_in(at, VIEWER).run()
    assert not at.file_uploader
    assert "does not allow this page" in all_text(at)


def test_a_file_with_no_valid_row_cannot_be_committed(db: str) -> None:
    data = (
        BAD.encode()
        .replace(b"B-1,2026-01-05T10:00:00Z,38.05", b"B-1,2026-01-05T10:00:00Z,")
        .replace(b"B-6,2026-01-09T10:00:00Z,38.06", b"B-6,2026-01-09T10:00:00Z,")
    )
    at = upload(app(ANALYST, page="upload"), "all-bad.csv", data)
    assert (metric(at, "Valid"), metric(at, "Rejected")) == (0, 6)
    assert at.button(key="u_commit").disabled
    assert "nothing to store" in all_text(at)


def test_a_new_file_does_not_show_the_last_files_summary(db: str) -> None:
    at = commit(upload(app(ANALYST, page="upload"), "bad.csv", BAD.encode()))
    batch = last_batch(db)
    assert f"Batch {batch['batch_id']}:" in all_text(at)
    upload(at, "incidents_example.csv", EXAMPLE.read_bytes())
    assert f"Batch {batch['batch_id']}:" not in all_text(at)
    assert not [m for m in at.metric if m.label == "Accepted"]


def stored_when(url: str, batch_id: int) -> dict[str, pd.Timestamp]:
    """``occurred_at`` of a batch's incidents by source event id (the store keeps UTC microseconds)."""
    rows = query(url, "SELECT source_event_id, occurred_at FROM incidents WHERE batch_id = ?", (batch_id,))
    return {eid: pd.Timestamp(int(us), unit="us", tz="UTC") for eid, us in rows}


AMBIGUOUS = (
    "event_id,occurred_at,lat,lon,category,party,description\r\n"
    "D-1,09/05/2014 00:00,38.05,126.9,artillery_fire,north,first\r\n"
    "D-2,10/06/2014 14:00,38.06,126.91,small_arms_fire,south,second\r\n"
)


def test_a_file_that_does_not_settle_its_date_order_asks_for_it(db: str) -> None:
    at = upload(app(ANALYST, page="upload"), "dates.csv", AMBIGUOUS.encode())
    assert not at.exception, all_text(at)
    text = plain(all_text(at))
    assert "dates.csv: occurred_at: dates such as '09/05/2014 00:00' (9 May 2014 or 5 September 2014)" in text
    assert "Choose the day/month order above." in text
    assert "Map the file's columns below." not in text
    assert not any(b.key == "u_commit" for b in at.button)

    at.selectbox(key="u_order").set_value("Month first: 09/05/2014 is 5 September").run()
    assert not at.exception, all_text(at)
    assert "Dates read month first (m/d/y), as chosen" in plain(all_text(at))
    assert (metric(at, "Rows read"), metric(at, "Valid")) == (2, 2)
    commit(at)
    batch = last_batch(db)
    assert stored_when(db, batch["batch_id"]) == {
        "D-1": pd.Timestamp("2014-09-05", tz="UTC"),
        "D-2": pd.Timestamp("2014-10-06T14:00", tz="UTC"),
    }


def test_a_legacy_encoding_is_detected_shown_and_kept(db: str) -> None:
    from tests.readers.spreadsheet import saved

    file = saved("template", "cp1251", "d/m/Y HH:MM")
    at = upload(app(ANALYST, page="upload"), "kyiv.csv", file.data)
    assert not at.exception, all_text(at)
    text = plain(all_text(at))
    assert "encoding cp1251" in text
    assert "Dates read day first (d/m/y): '29/08/2014 06:15' (occurred_at, line 6)" in text
    assert "read as cp1251, detected from its text" in text
    preview = at.dataframe[0].value
    assert set(preview["actor"]) == set(file.actors.values())
    commit(at)
    assert "Read as cp1251." in all_text(at)
    batch = last_batch(db)
    assert (
        batch["accepted"],
        scalar(db, "SELECT encoding FROM batches WHERE batch_id = ?", (batch["batch_id"],)),
    ) == (
        5,
        "cp1251",
    )
    actors = dict(
        query(db, "SELECT source_event_id, actor FROM incidents WHERE batch_id = ?", (batch["batch_id"],))
    )
    assert actors == file.actors


def test_an_encoding_the_file_does_not_tell_is_chosen_on_the_page(db: str) -> None:
    data = (
        "event_id,occurred_at,lat,lon,category,actor\r\nH-1,2026-01-05,38.05,126.9,other,צבא ההגנה לישראל\r\n"
    )
    at = upload(app(ANALYST, page="upload"), "hebrew.csv", data.encode("cp1255"))
    assert "hebrew.csv: cannot tell the encoding" in plain(all_text(at))
    at.selectbox(key="u_encoding").set_value("cp1255").run()
    assert not at.exception, all_text(at)
    assert "encoding cp1255" in plain(all_text(at))
    commit(at)
    batch = last_batch(db)
    assert query(db, "SELECT actor FROM incidents WHERE batch_id = ?", (batch["batch_id"],)) == [
        ("צבא ההגנה לישראל",)
    ]


def test_the_upload_history_says_each_upload_s_status_in_the_language(db: str) -> None:
    from geo.services.ingest import delete_batch
    from geo.store import open_store

    store = open_store(db)
    delete_batch(store, 1)  # the seeded upload, undone
    store.close()
    for lang, words in (("en", "undone"), ("fr", "annulé")):
        at = app(ANALYST, page="upload", query_params={"lang": lang})
        history = at.dataframe[-1].value
        assert history[history.columns[1]].tolist() == [words]  # Status / Statut
