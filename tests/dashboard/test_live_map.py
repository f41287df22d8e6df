"""The live map page: filters change what is counted and drawn, live in the URL, and come back from it.

Every expected number is computed from the store file with plain SQL, not through geo/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto

from geo import clock
from geo.services.ingest import ingest_frame
from geo.store import open_store
from tests.dashboard.support import (
    ADMIN,
    BOTH_STORES,
    VIEWER,
    all_text,
    app,
    build_store,
    cell_payloads,
    demo_scenario,
    generate_incidents,
    hand_rows,
    map_args,
    marker_payloads,
    markers_sent,
    match_count,
    metrics,
    plain,
    query,
    scalar,
    us,
)

PARTIES = {"north": "North", "south": "South"}


def now() -> pd.Timestamp:
    return pd.Timestamp(clock.now())


def count(
    url: str, where: str = "1 = 1", params: tuple = (), *, since: timedelta | None = timedelta(days=7)
) -> int:
    """Incidents in the window that pass ``where``."""
    if since is not None:
        where += " AND occurred_at >= ?"
        params = (*params, us(now() - since))
    return int(scalar(url, f"SELECT COUNT(*) FROM incidents WHERE {where}", params))


def breaches(url: str, party: str, start_h: int, end_h: int, extra: str = "1 = 1") -> int:
    """Breaches attributed to ``party`` between ``start_h`` and ``end_h`` hours ago."""
    t = now()
    return int(
        scalar(
            url,
            "SELECT COUNT(*) FROM incidents WHERE verdict = 'breach' AND attributed_party = ? "
            f"AND occurred_at >= ? AND occurred_at < ? AND {extra}",
            (party, us(t - pd.Timedelta(hours=start_h)), us(t - pd.Timedelta(hours=end_h))),
        )
    )


def expected_kpis(url: str, extra: str = "1 = 1") -> dict[str, str]:
    out = {}
    for party, name in PARTIES.items():
        out[f"{name}: breaches, last 24 h"] = f"{breaches(url, party, 24, 0, extra):,}"
        out[f"{name}: breaches, last 7 days"] = f"{breaches(url, party, 168, 0, extra):,}"
    return out


def test_default_view_counts_the_last_7_days_and_draws_every_match(db: str) -> None:
    at = app(VIEWER)
    assert not at.exception
    expected = count(db)
    assert 0 < expected < count(db, since=None)
    assert match_count(at) == expected
    assert markers_sent(at) == expected
    assert metrics(at) == expected_kpis(db)
    # The planted recent breaches make every KPI non-zero: a filter can only lower them.
    assert all(int(v) > 0 for v in metrics(at).values())
    deltas = {m.label: m.delta for m in at.metric}
    north_prev = breaches(db, "north", 48, 24)
    north_change = breaches(db, "north", 24, 0) - north_prev
    assert deltas["North: breaches, last 24 h"] == (
        f"{north_change:+,} vs previous 24 h" if north_change else "no change"
    )
    # The arrow follows the change; "no change" has none (an up arrow read as a rise).
    arrows = {m.label: m.proto.direction for m in at.metric}
    for party, name in PARTIES.items():
        for hours, words in ((24, "24 h"), (168, "7 days")):
            change = breaches(db, party, hours, 0) - breaches(db, party, 2 * hours, hours)
            want = MetricProto.UP if change > 0 else MetricProto.DOWN if change < 0 else MetricProto.NONE
            assert arrows[f"{name}: breaches, last {words}"] == want, (name, hours, change)
    assert MetricProto.NONE in arrows.values()  # the planted data has a "no change": the case is tested
    assert at.query_params["window"] == "7d"
    assert "Data as of" in all_text(at)
    assert "These breach counts follow the filters" not in all_text(at)


def test_party_filter_changes_count_kpis_markers_and_url(db: str) -> None:
    at = app(VIEWER)
    before = metrics(at)
    at.sidebar.multiselect(key="f_party").set_value(["north"]).run()
    assert not at.exception
    expected = count(db, "attributed_party = 'north'")
    assert match_count(at) == expected < count(db)
    assert markers_sent(at) == expected
    after = metrics(at)
    assert after == expected_kpis(db, "attributed_party = 'north'")
    assert after["South: breaches, last 7 days"] == "0" != before["South: breaches, last 7 days"]
    assert after["North: breaches, last 7 days"] == before["North: breaches, last 7 days"]
    assert at.query_params["parties"] == "north"
    assert "These breach counts follow the filters" in all_text(at)  # never read as "South: 0 breaches"
    # Unattributed is a choice of its own, written "-" in the URL.
    at.sidebar.multiselect(key="f_party").set_value(["north", ""]).run()
    assert match_count(at) == count(db, "attributed_party IN ('north', '')")
    assert at.query_params["parties"] == "north,-"


def test_verdict_filter_changes_count_and_kpis(db: str) -> None:
    at = app(VIEWER)
    at.sidebar.multiselect(key="f_verdict").set_value(["breach", "possible_breach"]).run()
    assert match_count(at) == count(db, "verdict IN ('breach', 'possible_breach')")
    assert metrics(at) == expected_kpis(db)  # breaches are still all counted
    assert at.query_params["verdicts"] == "breach,possible_breach"
    at.sidebar.multiselect(key="f_verdict").set_value(["no_breach"]).run()
    assert match_count(at) == count(db, "verdict = 'no_breach'")
    assert set(metrics(at).values()) == {"0"}
    payloads = marker_payloads(map_args(at)["feature_group"])
    verdict_ids = payloads[0]["verdictIds"]
    assert {verdict_ids[v] for p in payloads for v in p["v"]} == {"no_breach"}


def test_zone_filter_counts_incidents_in_any_chosen_zone(db: str) -> None:
    at = app(VIEWER)
    at.sidebar.multiselect(key="f_zone").set_value(["dmz"]).run()
    in_dmz = "(';' || zones || ';') LIKE '%;dmz;%'"
    expected = count(db, in_dmz)
    assert 0 < expected == match_count(at)
    assert metrics(at) == expected_kpis(db, in_dmz)
    at.sidebar.multiselect(key="f_zone").set_value(["dmz", "nofly-fixed-wing"]).run()
    either = f"({in_dmz} OR (';' || zones || ';') LIKE '%;nofly-fixed-wing;%')"
    assert match_count(at) == count(db, either) > expected
    assert at.query_params["zones"] == "dmz,nofly-fixed-wing"


@pytest.mark.parametrize(
    ("window", "span"), [("24h", timedelta(hours=24)), ("30d", timedelta(days=30)), ("all", None)]
)
def test_time_window_changes_count(db: str, window: str, span: timedelta | None) -> None:
    at = app(VIEWER)
    at.sidebar.radio(key="f_window").set_value(window).run()
    assert match_count(at) == count(db, since=span)
    assert at.query_params["window"] == window
    assert "since" not in at.query_params


def test_custom_window_counts_whole_utc_days_and_lands_in_the_url(db: str) -> None:
    at = app(VIEWER)
    at.sidebar.radio(key="f_window").set_value("custom").run()
    first = (now() - pd.Timedelta(days=12)).date()
    last = (now() - pd.Timedelta(days=4)).date()
    at.sidebar.date_input(key="f_dates").set_value((first, last)).run()
    assert not at.exception
    start = pd.Timestamp(first, tz="UTC")
    end = pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)
    expected = count(db, "occurred_at >= ? AND occurred_at < ?", (us(start), us(end)), since=None)
    assert 0 < expected == match_count(at)
    assert at.query_params["window"] == "custom"
    assert at.query_params["since"] == f"{first:%Y-%m-%d}T00:00:00Z"
    assert at.query_params["until"] == f"{end:%Y-%m-%d}T00:00:00Z"


def test_a_shared_link_preselects_its_filters(db: str) -> None:
    link = {"window": "30d", "parties": "south", "verdicts": "breach,possible_breach", "zones": "dmz"}
    at = app(VIEWER, query_params=link)
    assert not at.exception
    assert at.sidebar.radio(key="f_window").value == "30d"
    assert at.sidebar.multiselect(key="f_party").value == ["south"]
    assert at.sidebar.multiselect(key="f_verdict").value == ["breach", "possible_breach"]
    assert at.sidebar.multiselect(key="f_zone").value == ["dmz"]
    where = "attributed_party = 'south' AND verdict IN ('breach', 'possible_breach') AND zones LIKE '%dmz%'"
    assert match_count(at) == count(db, where, since=timedelta(days=30)) > 0
    # The same link, with a custom window, reads back its dates.
    custom = {"window": "custom", "since": "2026-01-05T00:00:00Z", "until": "2026-01-08T00:00:00Z"}
    at = app(VIEWER, query_params=custom)
    assert at.sidebar.date_input(key="f_dates").value == (
        pd.Timestamp("2026-01-05").date(),
        pd.Timestamp("2026-01-07").date(),
    )


def test_a_link_from_another_page_replaces_the_current_filters(db: str) -> None:
    at = app(VIEWER)
    at.sidebar.multiselect(key="f_party").set_value(["north"]).run()
    at.switch_page("views/trends.py").run()
    assert at.sidebar.multiselect(key="f_party").value == ["north"]  # filters follow the viewer
    at.query_params.clear()
    at.query_params.update({"window": "7d", "parties": "south", "zones": "dmz"})
    at.switch_page("views/live_map.py").run()
    assert at.sidebar.multiselect(key="f_party").value == ["south"]
    assert at.sidebar.multiselect(key="f_zone").value == ["dmz"]


def test_malformed_link_values_are_ignored(db: str) -> None:
    at = app(
        VIEWER,
        query_params={"window": "fortnight", "parties": "north,<script>", "zones": "nowhere", "bbox": "x"},
    )
    assert not at.exception
    assert at.sidebar.radio(key="f_window").value == "7d"
    assert at.sidebar.multiselect(key="f_party").value == ["north"]
    assert at.sidebar.multiselect(key="f_zone").value == []
    assert match_count(at) == count(db, "attributed_party = 'north'")


def test_text_filter_from_a_link_cannot_inject_markdown(db: str) -> None:
    at = app(VIEWER, query_params={"text": "[sign in again](https://evil.example) <b>x</b>"})
    caption = next(c.value for c in at.caption if "incidents match" in c.value)
    assert "](" not in caption.replace("\\](", "").replace("\\(", "")
    assert "<b>" not in caption
    assert "sign in again" in plain(caption)
    assert match_count(at) == 0


@BOTH_STORES
def test_new_incidents_are_counted_and_ringed_after_a_refresh(db: str) -> None:
    at = app(VIEWER)
    before = match_count(at)
    t = now()
    fresh = hand_rows(
        [
            {
                "lon": 126.9,
                "lat": 38.05,
                "occurred_at": t - pd.Timedelta(hours=3),
                "source_event_id": "NEW-1",
            },
            {"lon": 127.3, "lat": 38.2, "occurred_at": t - pd.Timedelta(hours=4), "source_event_id": "NEW-2"},
        ],
        now=t,
    )
    store = open_store(db)
    ingest_frame(store, fresh, name="fresh.csv")
    store.close()
    at.run()
    assert match_count(at) == before + 2
    assert "**2 new since the last refresh**" in all_text(at)
    payloads = marker_payloads(map_args(at)["feature_group"])
    assert sum(sum(p["isNew"]) for p in payloads) == 2
    at.run()
    assert "no new incidents" in all_text(at)


def test_latest_breaches_link_to_their_incident_pages(db: str) -> None:
    at = app(VIEWER)
    newest = query(
        db,
        "SELECT incident_id FROM incidents WHERE verdict = 'breach' AND occurred_at >= ? "
        "ORDER BY occurred_at DESC, incident_id DESC LIMIT 10",
        (us(now() - timedelta(days=7)),),
    )
    links = [p for p in at.page_link if p.proto.page == "incident"]
    assert [p.proto.query_string for p in links] == [f"id={i}" for (i,) in newest]
    assert "North" in links[0].proto.label or "South" in links[0].proto.label


def test_map_carries_lines_zones_legend_and_only_local_assets(db: str) -> None:
    args = map_args(app(VIEWER))
    script = args["script"]
    scenario = demo_scenario()
    for zone in scenario.zones:
        assert zone.name.split(" ")[0] in script
    assert "Military Demarcation Line" in script
    assert "tl-legend" in script
    assert args["returned_objects"] == []
    links = args["js_links"] + args["css_links"]
    assert links
    assert all(link.startswith("/app/static/") for link in links), links


def test_beyond_3000_matches_the_map_sends_cells_not_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = demo_scenario()
    frame = generate_incidents(scenario, n=3600, days=5, end=now().date(), seed=9)
    url = build_store(tmp_path / "big.db", frame=frame)
    monkeypatch.setenv("TRUCELINE_DB", url)
    at = app(ADMIN)
    at.sidebar.radio(key="f_window").set_value("all").run()
    assert match_count(at) == 3600
    args = map_args(at)
    assert markers_sent(at) == 0
    cells = cell_payloads(args["feature_group"])
    assert len(cells) == 1
    assert sum(cells[0]["counts"]) == 3600
    assert "hex cells" in args["layer_control"]
    assert len(args["feature_group"]) < 3_000_000
    at.sidebar.multiselect(key="f_party").set_value(["north"]).run()
    north = int(scalar(url, "SELECT COUNT(*) FROM incidents WHERE attributed_party = 'north'"))
    assert match_count(at) == north
    assert (markers_sent(at) == north) == (north <= 3000)


def test_text_filter_counts_descriptions_and_actors(db: str) -> None:
    at = app(VIEWER)
    at.sidebar.text_input(key="f_text").set_value("panmunjom").run()
    assert not at.exception, all_text(at)
    expected = count(db, "(LOWER(description) LIKE '%panmunjom%' OR LOWER(actor) LIKE '%panmunjom%')")
    assert 0 < expected == match_count(at)
    assert at.query_params["text"] == "panmunjom"
    at.switch_page("views/trends.py").run()
    assert not at.exception, all_text(at)
    at.switch_page("views/export.py").run()
    assert f"{expected:,} incidents in this view" in all_text(at)


def test_two_sources_reporting_one_breach_count_once(db: str) -> None:
    """A cross-source pair is linked on upload, and the match count and KPIs count it once."""
    lon, lat, category = query(
        db,
        "SELECT lon, lat, category FROM incidents WHERE verdict = 'breach' AND attributed_party = 'north' "
        "AND location_precision = 'exact' ORDER BY incident_id LIMIT 1",
    )[0]
    t = now()
    at = app(VIEWER)
    before = match_count(at), metrics(at)["North: breaches, last 24 h"]
    pair = hand_rows(
        [
            {"lon": lon, "lat": lat, "category": category, "occurred_at": t - pd.Timedelta(hours=20),
             "source": "team-x", "source_event_id": "X-1"},
            {"lon": lon + 0.002, "lat": lat, "category": category, "source": "team-y",
             "source_event_id": "Y-1", "occurred_at": t - pd.Timedelta(hours=20, minutes=30)},
        ],
        now=t,
    )  # fmt: skip
    store = open_store(db)
    summary = ingest_frame(store, pair, name="pair.csv")
    store.close()
    assert (summary.accepted, summary.near_duplicates) == (2, 1)
    ids = [i for (i,) in query(db, "SELECT incident_id FROM incidents WHERE source IN ('team-x', 'team-y')")]
    assert query(db, "SELECT incident_id, other_id, kind FROM incident_links") == [
        (max(ids), min(ids), "cross_source")
    ]
    assert query(db, "SELECT verdict FROM incidents WHERE incident_id IN (?, ?)", ids) == [("breach",)] * 2
    at.run()
    assert not at.exception
    rows = count(db)
    assert rows == before[0] + 2
    assert match_count(at) == rows - 1 == before[0] + 1
    assert f"({rows:,} reports: linked reports of one event count once)" in plain(all_text(at))
    # Both of the north's breach counts hold the pair once (plain SQL counts its two rows).
    once = {f"North: breaches, last {span}": f"{breaches(db, 'north', hours, 0) - 1:,}" for span, hours in
            (("24 h", 24), ("7 days", 168))}  # fmt: skip
    assert metrics(at) == expected_kpis(db) | once
    assert once["North: breaches, last 24 h"] == f"{int(before[1]) + 1:,}"
    # The latest breaches list the pair once, by its earlier report.
    latest = [p.proto.query_string for p in at.page_link if p.proto.page == "incident"]
    assert f"id={min(ids)}" in latest and f"id={max(ids)}" not in latest
    # The Export page counts the pair once too.
    at.switch_page("views/export.py").run()
    assert f"{rows - 1:,} incidents in this view ({rows:,} reports" in plain(all_text(at))
