"""The trends page on hand-built data with a known spike, a known moderate rise and a known flat series."""

from __future__ import annotations

import itertools
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest
import shapely

from geo import clock
from tests.dashboard.support import VIEWER, all_text, app, build_store, demo_scenario, hand_rows, plain


def trend_rows(now: pd.Timestamp) -> pd.DataFrame:
    """
    Artillery fire on the Demarcation Line, inside the DMZ (so every row is a breach).

    - North: 2 a week for the 4 weeks before the last 7 days, then 10: a spike (+400 %).
    - South: 10 a week, then 12: moderate (+20 %).
    - Neither party, 1 a week then 1: flat, below the floor.
    """
    line = demo_scenario().lines[0].geometry
    point = line.interpolate(0.55, normalized=True)
    rows = []

    def add(party: str, hours: list[float]) -> None:
        for i, h in enumerate(hours):
            lon, lat = shapely.get_coordinates(point)[0]
            rows.append(
                {
                    "lon": lon + 0.0004 * (i % 5),
                    "lat": lat,
                    "occurred_at": now - pd.Timedelta(hours=h),
                    "party": party,
                    "party_basis": "source" if party else "",
                    "actor": "" if party else "Unknown",
                    "source_event_id": f"{party or 'none'}-{i}",
                }
            )

    def weekly(week: int, n: int, offset: float) -> list[float]:
        """``n`` instants spread over week ``week`` back (0: the last 7 days), clear of its edges."""
        return [24 * 7 * week + offset + 150 * k / n for k in range(n)]

    # Different offsets: the same place and time with another party would be a duplicate.
    def weeks(before: int, last: int, offset: float) -> list[float]:
        return [h for w in (1, 2, 3, 4) for h in weekly(w, before, offset)] + weekly(0, last, offset)

    add("north", weeks(2, 10, 10))
    add("south", weeks(10, 12, 11))
    add("", weeks(1, 1, 12))
    return hand_rows(rows, now=now)


@pytest.fixture
def trend_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = build_store(tmp_path / "trends.db", frame=trend_rows(pd.Timestamp(clock.now())))
    monkeypatch.setenv("TRUCELINE_DB", url)
    return url


def alerts(at: object) -> list[str]:
    return [plain(m.value) for m in at.markdown if "in the last 7 days vs" in m.value]


def test_spike_and_moderate_alerts_name_zone_party_and_numbers(trend_db: str) -> None:
    at = app(VIEWER, page="trends")
    assert not at.exception, all_text(at)
    found = alerts(at)
    assert (
        ":red-badge[Spike] Demilitarized Zone · North: 10 in the last 7 days vs 2.0/week before (+400%)"
        in found
    )
    assert (
        ":orange-badge[Moderate] Demilitarized Zone · South: 12 in the last 7 days vs 10.0/week before (+20%)"
        in found
    )
    assert not any("(unattributed)" in a for a in found)  # 1 vs 1 a week: flat, and under the floor
    # Spikes come first, and each alert links to the map filtered to its zone and party.
    assert found.index(next(a for a in found if "Spike" in a)) < found.index(
        next(a for a in found if "Moderate" in a)
    )
    links = [parse_qs(p.proto.query_string) for p in at.page_link if p.proto.label == "Show on map"]
    assert len(links) == len(found)
    assert {
        "parties": ["north"],
        "zones": ["dmz"],
        "verdicts": ["breach,possible_breach"],
        "window": ["7d"],
    } in links


def test_alerts_do_not_depend_on_the_time_window_shown(trend_db: str) -> None:
    """The baseline is the 4 weeks before the last 7 days even when only the last 24 h are shown."""
    at = app(VIEWER, page="trends")
    at.sidebar.radio(key="f_window").set_value("24h").run()
    assert any("North: 10 in the last 7 days vs 2.0/week before" in a for a in alerts(at))


def test_floor_and_party_filter_narrow_the_alerts(trend_db: str) -> None:
    at = app(VIEWER, page="trends")
    at.number_input(key="t_floor").set_value(11).run()
    found = alerts(at)
    assert not any("North" in a for a in found)  # 10 < 11
    assert any("South: 12 in the last 7 days" in a for a in found)
    at.sidebar.multiselect(key="f_party").set_value(["north"]).run()
    at.number_input(key="t_floor").set_value(5).run()
    found = alerts(at)
    assert any("North: 10" in a for a in found)
    assert not any("South" in a for a in found)


def test_heat_table_series_and_verdict_breakdown(trend_db: str) -> None:
    at = app(VIEWER, page="trends")
    at.sidebar.radio(key="f_window").set_value("all").run()
    assert not at.exception
    heat = at.dataframe[0].value
    assert heat.loc["Demilitarized Zone", "North"] == 18
    assert heat.loc["Demilitarized Zone", "South"] == 52
    assert heat.loc["Demilitarized Zone", "(unattributed)"] == 5
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # the series and the verdict breakdown
    top = at.dataframe[1].value
    assert top.loc["Demilitarized Zone", "incidents"] == 75
    at.radio(key="t_which").set_value("Breaches only").run()
    assert at.dataframe[0].value.loc["Demilitarized Zone", "North"] == 18
    at.radio(key="t_freq").set_value("week").run()
    assert not at.exception


def series_chart(at) -> dict:
    import json

    return json.loads(at.get("vega_lite_chart")[0].proto.spec)


@pytest.mark.parametrize(
    ("lang", "label"), [("en", lambda t: t.strftime("%m-%d")), ("fr", lambda t: f"{t.day} {FRENCH[t.month]}")]
)
def test_the_time_axis_shows_each_utc_period_start_in_the_language(trend_db: str, lang: str, label) -> None:
    """Vega-Lite left alone labels in the browser's zone (the day before, west of UTC), in English."""
    at = app(VIEWER, page="trends", query_params={"window": "30d", "lang": lang})
    assert not at.exception
    x = series_chart(at)["encoding"]["x"]
    assert x["scale"] == {"type": "utc"}
    ticks = [
        pd.Timestamp(year=v["year"], month=v["month"], day=v["date"], hour=v["hours"], tz="UTC")
        for v in x["axis"]["values"]
    ]
    assert all(v["utc"] for v in x["axis"]["values"])
    assert 5 <= len(ticks) <= 10  # 30 days, at most ten labels
    assert all(t == t.normalize() for t in ticks)  # day starts, 00:00 UTC
    assert ticks == sorted(ticks) and len({b - a for a, b in itertools.pairwise(ticks)}) == 1  # evenly spaced
    expr = x["axis"]["labelExpr"]
    for t in ticks:  # each tick's value (epoch ms) maps to its label
        assert f'time(datum.value) === {t.value // 1_000_000} ? "{label(t)}"' in expr
    placeholder = {"en": "Choose options", "fr": "Choisir des options"}[lang]  # Streamlit's is English only
    assert at.sidebar.multiselect(key="f_party").proto.placeholder == placeholder
    tooltip = {item["field"]: item for item in series_chart(at)["encoding"]["tooltip"]}
    assert tooltip["from"] == {"field": "from", "type": "nominal", "title": {"en": "From", "fr": "Du"}[lang]}


FRENCH = {1: "janv.", 2: "févr.", 3: "mars", 4: "avr.", 5: "mai", 6: "juin", 7: "juil.", 8: "août",
          9: "sept.", 10: "oct.", 11: "nov.", 12: "déc."}  # fmt: skip


def test_no_match_says_so(trend_db: str) -> None:
    at = app(VIEWER, page="trends")
    at.sidebar.multiselect(key="f_verdict").set_value(["no_breach"]).run()
    assert not at.exception
    assert "No incidents match these filters." in all_text(at)


HOSTILE = "$x^2$ {{7*7}} <b>b</b> ${alert(1)} datum.x"


@pytest.fixture
def hostile_trend_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The trend rows, the parties and zones named with markup, template and mathtext payloads."""
    import dataclasses

    from geo.services.accounts import add_user
    from geo.services.ingest import ingest_frame, load_scenario_into_store
    from geo.store import open_store
    from tests.dashboard.support import PASSWORD, USERS

    scen = demo_scenario()
    scen = dataclasses.replace(
        scen,
        parties=tuple(
            dataclasses.replace(p, name=f"{p.name} {HOSTILE}", short_name="") for p in scen.parties
        ),
        zones=tuple(dataclasses.replace(z, name=f"{z.name} {HOSTILE}") for z in scen.zones),
    )
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    store = open_store(url)
    load_scenario_into_store(store, scen)
    ingest_frame(store, trend_rows(pd.Timestamp(clock.now())), name="seed.csv")
    for user in USERS:
        add_user(store, user.name, user.role, PASSWORD)
    store.close()
    monkeypatch.setenv("TRUCELINE_DB", url)
    return url


def test_names_are_chart_data_never_spec(hostile_trend_db: str) -> None:
    """Vega-Lite gets names as data values only: no title, expression or field holds them."""
    import pyarrow as pa

    at = app(VIEWER, page="trends")
    at.sidebar.radio(key="f_window").set_value("all").run()
    assert not at.exception
    chart = at.get("vega_lite_chart")[0].proto
    assert HOSTILE not in chart.spec
    assert "7*7" not in chart.spec and "alert" not in chart.spec
    values = []
    for dataset in [chart.data, *chart.datasets]:
        raw = getattr(dataset, "data", dataset)
        data = getattr(raw, "data", b"")
        if data:
            table = pa.ipc.open_stream(data).read_all()
            values += [str(v) for col in table.columns for v in col.to_pylist()]
    assert any(HOSTILE in v for v in values)


def test_the_series_chart_draws_no_two_series_in_one_colour(db: str) -> None:
    """Ten series at most: the palette has ten colours."""
    import pyarrow as pa

    at = app(VIEWER, page="trends")
    at.sidebar.radio(key="f_window").set_value("all").run()
    assert not at.exception
    chart = at.get("vega_lite_chart")[0].proto
    table = pa.ipc.open_stream(chart.datasets[0].data.data).read_all()
    drawn = set(table.column("series").to_pylist())
    assert len(drawn) == 10  # the demo store has more zone × party series than that
    assert "The 10 busiest zone × party series" in all_text(at)
