"""Counts by zone × party × period, spike bands and KPIs, on hand-built views."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.core.trends import NO_ZONE, UNATTRIBUTED, counts, explode_zones, kpis, spikes

AS_OF = pd.Timestamp("2024-06-29T00:00:00Z")  # a Saturday


def view(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Rows of (occurred_at, zones, attributed_party, verdict)."""
    frame = pd.DataFrame(rows, columns=["occurred_at", "zones", "attributed_party", "verdict"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["category"] = "artillery_fire"
    return frame


def weekly(zone: str, party: str, per_week: list[int], verdict: str = "breach") -> list[tuple]:
    """``per_week[i]`` incidents in week i before AS_OF (i = 0 is the last 7 days)."""
    rows = []
    for week, n in enumerate(per_week):
        for k in range(n):
            when = AS_OF - pd.Timedelta(days=7 * week + 1) - pd.Timedelta(hours=k)
            rows.append((when.isoformat(), zone, party, verdict))
    return rows


def test_explode_repeats_an_incident_once_per_zone():
    v = view([("2024-06-01", "a;b", "north", "breach"), ("2024-06-02", "", "", "no_breach")])
    out = explode_zones(v)
    assert list(out["zone"]) == ["a", "b", NO_ZONE]
    assert list(out["attributed_party"]) == ["north", "north", ""]
    assert len(explode_zones(v.iloc[:0])) == 0


def test_counts_by_zone_party_and_period():
    v = view(
        [
            ("2024-06-03T10:00Z", "a;b", "north", "breach"),  # Monday, week of 3 June
            ("2024-06-09T23:59Z", "a", "north", "possible_breach"),  # Sunday, same week
            ("2024-06-10T00:00Z", "a", "", "breach"),  # next Monday
            ("2024-06-10T05:00Z", "a", "south", "no_breach"),  # not counted by default
        ]
    )
    week = counts(v, freq="week")
    assert week.to_dict("records") == [
        {"period": pd.Timestamp("2024-06-03", tz="UTC"), "zone": "a", "party": "north", "count": 2},
        {"period": pd.Timestamp("2024-06-03", tz="UTC"), "zone": "b", "party": "north", "count": 1},
        {"period": pd.Timestamp("2024-06-10", tz="UTC"), "zone": "a", "party": UNATTRIBUTED, "count": 1},
    ]
    day = counts(v, freq="day", verdicts=None, by=("party",))
    assert day["count"].sum() == 4 and len(day) == 4
    month = counts(v, freq="month", by=("verdict",), verdicts=None)
    assert set(month["period"]) == {pd.Timestamp("2024-06-01", tz="UTC")}
    with pytest.raises(ValueError, match="freq"):
        counts(v, freq="fortnight")


@pytest.mark.parametrize(
    ("per_week", "level"),
    [
        ([13, 10, 10, 10, 10], "spike"),  # +30 %
        ([12, 10, 10, 10, 10], "moderate"),  # +20 %
        ([11, 10, 10, 10, 10], ""),  # +10 %: not above 10 %
        ([13, 10, 10, 10, 10, 50], "spike"),  # a sixth week back is outside the baseline
        ([4, 1, 1, 1, 1], ""),  # +300 % but under the floor of 5
        ([6, 0, 0, 0, 0], "spike"),  # new activity
    ],
)
def test_spike_bands(per_week, level):
    v = view(weekly("dmz", "north", per_week) + weekly("dmz", "south", [5, 5, 5, 5, 5]))
    flagged = spikes(v, as_of=AS_OF)
    north = flagged[(flagged["zone"] == "dmz") & (flagged["party"] == "north")]
    assert list(north["level"]) == ([level] if level else [])
    assert "south" not in set(flagged["party"])  # flat
    if level:
        assert int(north["last_7d"].iloc[0]) == per_week[0]
        assert north["baseline"].iloc[0] == pytest.approx(sum(per_week[1:5]) / 4)


def test_spike_floor_is_configurable():
    v = view(weekly("z", "north", [4, 1, 1, 1, 1]))
    assert spikes(v, as_of=AS_OF, floor=5).empty
    assert list(spikes(v, as_of=AS_OF, floor=3)["level"]) == ["spike"]


def test_kpis_last_and_previous_windows():
    v = view(
        [
            ((AS_OF - pd.Timedelta(hours=1)).isoformat(), "a", "north", "breach"),
            ((AS_OF - pd.Timedelta(hours=30)).isoformat(), "a", "north", "breach"),
            ((AS_OF - pd.Timedelta(days=3)).isoformat(), "a", "south", "breach"),
            ((AS_OF - pd.Timedelta(days=10)).isoformat(), "b", "south", "breach"),
            ((AS_OF - pd.Timedelta(hours=2)).isoformat(), "a", "south", "possible_breach"),  # not a breach
            ((AS_OF + pd.Timedelta(hours=2)).isoformat(), "a", "north", "breach"),  # after as_of
        ]
    )
    table = kpis(v, as_of=AS_OF)
    assert table.loc["north"].to_dict() == {
        "last_24h": 1,
        "prev_24h": 1,
        "change_24h": 0,
        "last_168h": 2,
        "prev_168h": 0,
        "change_168h": 2,
    }
    assert table.loc["south"].to_dict() == {
        "last_24h": 0,
        "prev_24h": 0,
        "change_24h": 0,
        "last_168h": 1,
        "prev_168h": 1,
        "change_168h": 0,
    }
    zones = kpis(v, as_of=AS_OF, by="zone")
    assert zones.loc["a", "last_168h"] == 3 and zones.loc["b", "prev_168h"] == 1


def test_the_last_7_days_end_at_as_of_to_the_second_not_at_midnight():
    """At 03:30 an incident 6 days 23 h ago is recent, one 7 days 1 h ago is baseline."""
    as_of = pd.Timestamp("2024-06-29T03:30:00Z")
    recent = [(as_of - pd.Timedelta(days=6, hours=23, minutes=m)).isoformat() for m in range(6)]
    old = [(as_of - pd.Timedelta(days=7, hours=1, minutes=m)).isoformat() for m in range(4)]
    v = view([(t, "a", "north", "breach") for t in recent + old])
    out = spikes(v, as_of=as_of).set_index(["zone", "party"])
    assert out.loc[("a", "north"), "last_7d"] == 6
    assert out.loc[("a", "north"), "baseline"] == 1.0  # 4 incidents over 4 weeks
