"""The Review page: pairs side by side on a small map; a decision counts on every page, undo restores it."""

from __future__ import annotations

import json

import pandas as pd

from geo import clock
from geo.services.ingest import ingest_frame
from geo.store import open_store
from tests.dashboard.support import (
    ADMIN,
    ANALYST,
    all_text,
    app,
    hand_rows,
    map_args,
    marker_payloads,
    match_count,
    plain,
    query,
)

HOSTILE = "**bold?** <img src=x onerror=alert(1)> `${x}` {{7*7}}"


def add_lookalikes(url: str, n: int = 3) -> list[tuple[int, int]]:
    """``n`` pairs of one source's identical reports, three days ago; their (earlier, later) ids."""
    now = pd.Timestamp(clock.now())
    rows = []
    for k in range(n):
        content = {
            "source": "team-r",
            "occurred_at": now - pd.Timedelta(days=3, hours=5 + k),
            "lon": 126.95 + k / 100,
            "lat": 37.95,
            "category": "construction",
            "description": HOSTILE if k == 0 else f"Trench {k}",
            "actor": "[phish](https://evil.example)",
        }
        rows += [{**content, "source_event_id": f"R-{k}"}, {**content, "source_event_id": f"R-{k}-bis"}]
    store = open_store(url)
    summary = ingest_frame(store, hand_rows(rows, now=now), name="pairs.csv")
    assert summary.lookalikes == n
    links = store.links()
    store.close()
    return sorted(zip(links["other_id"].astype(int), links["incident_id"].astype(int), strict=True))


def stored_count(at) -> int:
    """The "N incidents stored" figure of the page's caption."""
    for caption in at.caption:
        text = plain(caption.value)
        if "incidents stored" in text:
            return int(text.split(" incidents stored")[0].split()[-1].replace(",", ""))
    raise AssertionError(all_text(at))


def test_an_analyst_confirms_a_pair_and_it_counts_once_then_undoes_it(db: str) -> None:
    pairs = add_lookalikes(db)
    at = app(ANALYST, page="review")
    assert not at.exception, all_text(at)
    assert at.title[0].value == "Review"
    assert at.selectbox(key="r_status").value == "pending"
    assert "3 pairs, page 1 of 1, newest first." in plain(all_text(at))
    shown = at.dataframe[0].value
    assert sorted(zip(shown["A"], shown["B"], strict=True)) == pairs
    # The newest pair first; its two reports side by side and on the small map.
    a, b = pairs[-1]
    assert f"Incidents {a} and {b}" in plain(all_text(at))
    markers = marker_payloads(map_args(at)["script"])
    assert sum(len(p["lat"]) for p in markers) == 2
    before = stored_count(at)
    live = app(ANALYST, query_params={"window": "all"})
    live_before = match_count(live)

    at.text_input(key=f"r_note_{a}_{b}").set_value("one trench, twice")
    at.button(key="r_same").click().run()
    assert not at.exception, all_text(at)
    assert f"Incidents {a} and {b}: the same event." in plain(all_text(at))
    assert stored_count(at) == before - 1
    assert match_count(app(ANALYST, query_params={"window": "all"})) == live_before - 1
    assert "2 pairs, page 1 of 1" in plain(all_text(at))  # it left the pending queue
    assert query(db, "SELECT status, reviewed_by, note FROM incident_links WHERE incident_id = ?", (b,)) == [
        ("same_event", "ana", "one trench, twice")
    ]

    at.button(key="review_undo_last").click().run()
    assert not at.exception, all_text(at)
    assert f"Undone: incidents {a} and {b} are pending again." in plain(all_text(at))
    assert stored_count(at) == before
    assert match_count(app(ANALYST, query_params={"window": "all"})) == live_before
    audit = query(db, "SELECT user_name, action, target FROM audit_log WHERE action LIKE 'link_review%'")
    target = f"incidents {a} and {b}"
    assert audit == [("ana", "link_review", target), ("ana", "link_review_undo", target)]


def test_confirmed_and_rejected_pairs_are_listed_and_undone_from_their_queue(db: str) -> None:
    pairs = add_lookalikes(db)
    at = app(ADMIN, page="review")
    b = pairs[-1][1]
    at.button(key="r_different").click().run()
    assert not at.exception, all_text(at)
    at.selectbox(key="r_status").set_value("rejected").run()
    assert at.query_params["status"] == "rejected"
    assert "1 pairs, page 1 of 1" in plain(all_text(at))
    assert "Rejected: different events by ada" in plain(all_text(at))
    assert at.button(key="r_different").disabled
    at.button(key="r_undo").click().run()
    assert not at.exception, all_text(at)
    assert "No rejected: different events pairs." in plain(all_text(at))
    assert query(db, "SELECT status FROM incident_links WHERE incident_id = ?", (b,)) == [("unreviewed",)]


def test_report_text_is_shown_inert(db: str) -> None:
    pairs = add_lookalikes(db, n=1)
    at = app(ANALYST, page="review")
    assert not at.exception, all_text(at)
    assert [t.value for t in at.text] == [HOSTILE, HOSTILE]  # st.text: never markup
    text = all_text(at)
    assert "](https" not in text and "<img" not in text.replace("\\<img", "")
    script = map_args(at)["script"]
    assert "<img src=x" not in script and "onerror=alert(1)>" not in script
    payload = json.dumps(marker_payloads(script))
    assert str(pairs[0][0]) in payload


def test_a_queue_of_thousands_is_paged_and_the_page_is_in_the_url(db: str) -> None:
    add_lookalikes(db, n=45)
    at = app(ANALYST, page="review", query_params={"page": "3"})
    assert not at.exception, all_text(at)
    assert "45 pairs, page 3 of 3" in plain(all_text(at))
    assert len(at.dataframe[0].value) == 5
    at.number_input(key="r_page_pending").set_value(1).run()
    assert at.query_params["page"] == "1"
    assert len(at.dataframe[0].value) == 20
