"""Before and after: known answers on constructed incidents, the exact test's calibration, textbook cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from math import comb

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from scipy import stats

from geo import InputError, classify
from geo.core.compare import (
    COLUMNS,
    agreement_date,
    compare_rates,
    rate_ratio,
    window_weeks,
)
from geo.core.trends import NO_ZONE, UNATTRIBUTED
from tests.helpers import hand_incidents

AT = pd.Timestamp("2025-03-03T00:00:00Z")
AS_OF = pd.Timestamp("2025-07-01T00:00:00Z")
WEEK = pd.Timedelta(days=7)


def place(scenario, share: float, north_m: float) -> tuple[float, float]:
    """A point at ``share`` of the MDL, ``north_m`` meters north of it (geodesic)."""
    p = scenario.line("mdl").geometry.interpolate(share, normalized=True)
    lon, lat, _ = Geod(ellps="WGS84").fwd(p.x, p.y, 0.0, north_m)
    return float(lon), float(lat)


def frame_at(times: pd.DatetimeIndex | list, lon: float, lat: float, party: str = "north") -> pd.DataFrame:
    """A minimal incident frame: what a comparison reads."""
    n = len(times)
    return pd.DataFrame(
        {
            "incident_id": np.arange(1, n + 1, dtype=np.int64),
            "occurred_at": pd.to_datetime(list(times), utc=True),
            "lon": np.full(n, lon),
            "lat": np.full(n, lat),
            "attributed_party": pd.array([party] * n, dtype="str"),
            "source": "monitor-team",
        }
    )


def evenly(start: pd.Timestamp, weeks: int, per_week: int) -> pd.DatetimeIndex:
    """``per_week`` incidents a week, evenly spread over ``weeks`` weeks from ``start``."""
    n = weeks * per_week
    return pd.DatetimeIndex([start + (i + 0.5) * (weeks * WEEK / n) for i in range(n)])


def row(comparison, zone: str, party: str) -> pd.Series:
    t = comparison.table
    return t[(t["zone"] == zone) & (t["party"] == party)].iloc[0]


@pytest.fixture(scope="module")
def in_dmz(demo_scenario) -> tuple[float, float]:
    lon, lat = place(demo_scenario, 0.3, 900.0)
    assert demo_scenario.zone("dmz").geometry.contains(shapely.Point(lon, lat))
    return lon, lat


# -- known answers -----------------------------------------------------------------------------------


def test_a_tripled_rate_gives_a_ratio_of_3_and_a_small_p(demo_scenario, in_dmz) -> None:
    before = evenly(AT - 8 * WEEK, 8, 10)
    after = evenly(AT, 8, 30)
    view = frame_at(before.append(after), *in_dmz)
    result = compare_rates(view, demo_scenario, at=AT, as_of=AS_OF, weeks=8)
    r = row(result, "dmz", "north")
    assert (r["before"], r["after"], r["weeks"]) == (80, 240, 8)
    assert r["rate_ratio"] == pytest.approx(3.0)
    assert r["ci_low"] < 3.0 < r["ci_high"]
    assert r["ci_low"] > 2.0  # the interval excludes no change by far
    assert r["p_value"] < 0.01
    assert r["before_per_week"] == 10.0 and r["after_per_week"] == 30.0
    # Nested zones count it too; the other party has nothing.
    for zone in ("nofly-uav", "nofly-fixed-wing"):
        assert row(result, zone, "north")["after"] == 240
    assert row(result, "dmz", "south")["before"] == 0
    assert row(result, NO_ZONE, "north")["before"] == 0


def test_an_unchanged_rate_is_called_no_change_in_at_least_95_of_200_seeded_runs(
    demo_scenario, in_dmz
) -> None:
    kept = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        times = []
        for start in (AT - 8 * WEEK, AT):
            k = rng.poisson(5.0 * 8)
            times += list(start + pd.to_timedelta(rng.uniform(0, 8 * 7 * 86400, k), unit="s"))
        result = compare_rates(frame_at(times, *in_dmz), demo_scenario, at=AT, as_of=AS_OF, weeks=8)
        kept += row(result, "dmz", "north")["p_value"] > 0.05
    assert kept >= 190, kept


def test_a_hand_computed_case_matches_the_textbook_formulas() -> None:
    """2 before, 8 after: p = 2 P(X <= 2) with X ~ B(10, 1/2); the F-distribution form of Clopper-Pearson."""
    ratio, low, high, p = rate_ratio(2, 8)
    assert float(ratio) == 4.0
    exact = 2 * Fraction(comb(10, 0) + comb(10, 1) + comb(10, 2), 2**10)
    assert exact == Fraction(112, 1024)
    assert float(p) == pytest.approx(float(exact), abs=1e-15)
    x, n = 8, 10
    f_low = stats.f.ppf(0.975, 2 * (n - x + 1), 2 * x)
    p_low = x / (x + (n - x + 1) * f_low)
    f_high = stats.f.ppf(0.975, 2 * (x + 1), 2 * (n - x))
    p_high = (x + 1) * f_high / (n - x + (x + 1) * f_high)
    assert float(low) == pytest.approx(p_low / (1 - p_low), rel=1e-9)
    assert float(high) == pytest.approx(p_high / (1 - p_high), rel=1e-9)
    assert (round(float(low), 3), round(float(high), 3)) == (0.798, 38.666)


def test_the_worked_example_of_the_docs() -> None:
    """docs/trends.md: 24 incidents in the 8 weeks before, 6 in the 8 weeks after."""
    ratio, low, high, p = rate_ratio(24, 6)
    assert float(ratio) == 0.25
    assert (round(float(low), 3), round(float(high), 3)) == (0.084, 0.628)
    assert float(p) == pytest.approx(2 * sum(comb(30, k) for k in range(7)) / 2**30, rel=1e-12)
    assert round(float(p), 4) == 0.0014


def test_zero_counts_follow_the_documented_conventions() -> None:
    # 0 before, 5 after: the lower bound of p is (alpha/2)^(1/n) in closed form.
    ratio, low, high, p = rate_ratio(0, 5)
    p_low = 0.025 ** (1 / 5)
    assert np.isinf(ratio) and np.isinf(high)
    assert float(low) == pytest.approx(p_low / (1 - p_low), rel=1e-9)
    assert float(p) == pytest.approx(2 / 32)
    ratio, low, high, p = rate_ratio(5, 0)
    p_high = 1 - 0.025 ** (1 / 5)
    assert float(ratio) == 0.0 and float(low) == 0.0
    assert float(high) == pytest.approx(p_high / (1 - p_high), rel=1e-9)
    ratio, low, high, p = rate_ratio(0, 0)
    assert np.isnan(ratio) and float(low) == 0.0 and np.isinf(high) and float(p) == 1.0


def test_the_p_value_and_interval_agree_with_scipys_binomial_test_everywhere() -> None:
    before, after = np.meshgrid(np.arange(0, 41), np.arange(0, 41))
    _, low, high, p = rate_ratio(before.ravel(), after.ravel())
    for i, (b, a) in enumerate(zip(before.ravel(), after.ravel(), strict=True)):
        if a + b == 0:
            continue
        test = stats.binomtest(int(a), int(a + b), 0.5)
        ci = test.proportion_ci(0.95, method="exact")
        assert p[i] == pytest.approx(test.pvalue, abs=1e-12), (b, a)
        expected_low = ci.low / (1 - ci.low)
        expected_high = np.inf if ci.high >= 1 else ci.high / (1 - ci.high)
        assert low[i] == pytest.approx(expected_low, rel=1e-9, abs=1e-12), (b, a)
        assert high[i] == pytest.approx(expected_high, rel=1e-9), (b, a)


def test_bad_counts_and_levels_are_refused() -> None:
    with pytest.raises(InputError, match="counts must be 0 or more"):
        rate_ratio(-1, 3)
    with pytest.raises(InputError, match="confidence"):
        rate_ratio(1, 3, confidence=1.5)


# -- the weeks, the zones, the parties, the date -------------------------------------------------------


def test_the_weeks_after_are_cut_to_the_data_and_the_weeks_before_to_as_many(demo_scenario, in_dmz) -> None:
    as_of = AT + 3 * WEEK + pd.Timedelta(days=3)
    assert window_weeks(AT, 8, as_of) == 3
    before = evenly(AT - 8 * WEEK, 8, 2)  # 16, of which the last 3 weeks hold 6
    after = evenly(AT, 3, 2)
    result = compare_rates(frame_at(before.append(after), *in_dmz), demo_scenario, at=AT, as_of=as_of)
    r = row(result, "dmz", "north")
    assert (result.weeks, result.asked_weeks, r["before"], r["after"]) == (3, 8, 6, 6)
    with pytest.raises(InputError, match="less than a week before the data end"):
        compare_rates(frame_at([], *in_dmz), demo_scenario, at=AS_OF - pd.Timedelta(days=6), as_of=AS_OF)
    with pytest.raises(InputError, match="weeks: must be 1 or more"):
        window_weeks(AT, 0, AS_OF)


def test_a_zone_counts_as_a_place_before_it_came_into_force(demo_scenario) -> None:
    """The JSA is in force from 2018-11-01: incidents there before count in it all the same."""
    jsa = demo_scenario.zone("jsa").geometry.representative_point()
    at = pd.Timestamp("2018-11-01T00:00:00Z")
    times = [at - pd.Timedelta(days=10), at - pd.Timedelta(days=3), at + pd.Timedelta(days=5)]
    rows = hand_incidents(
        [{"lon": jsa.x, "lat": jsa.y, "occurred_at": t, "category": "construction"} for t in times],
        now=AS_OF,
    )
    classified = rows.join(classify(rows, demo_scenario))
    stored_zones = classified["zones"].astype(str).tolist()
    assert ["jsa" in z.split(";") for z in stored_zones] == [False, False, True]
    classified["incident_id"] = np.arange(1, 4)
    result = compare_rates(classified, demo_scenario, at=at, as_of=AS_OF, weeks=2)
    r = row(result, "jsa", "north")
    assert (r["before"], r["after"]) == (2, 1)


def test_rows_cover_every_zone_and_party_and_unattributed_incidents_have_their_own(
    demo_scenario, in_dmz
) -> None:
    view = frame_at([AT - WEEK, AT + WEEK], *in_dmz, party="")
    result = compare_rates(view, demo_scenario, at=AT, as_of=AS_OF, weeks=2)
    zones = [z.id for z in demo_scenario.zones] + [NO_ZONE]
    parties = [p.id for p in demo_scenario.parties] + [UNATTRIBUTED]
    assert list(result.table.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert list(zip(result.table["zone"], result.table["party"], strict=True)) == [
        (z, p) for z in zones for p in parties
    ]
    r = row(result, "dmz", UNATTRIBUTED)
    assert (r["before"], r["after"]) == (1, 1)
    records = result.records()
    assert records[0].keys() == set(COLUMNS)
    empty = next(x for x in records if x["before"] == 0 and x["after"] == 0)
    assert empty["rate_ratio"] is None and empty["ci_high"] is None and empty["p_value"] == 1.0


def test_linked_reports_of_one_event_count_once(demo_scenario, in_dmz) -> None:
    view = frame_at([AT - WEEK, AT - WEEK, AT + WEEK], *in_dmz)
    view["source"] = ["team-a", "team-b", "team-a"]
    view["duplicate_group"] = np.array([1, 1, 3], dtype=np.int64)
    view["duplicate_unit"] = np.array([1, 2, 3], dtype=np.int64)
    result = compare_rates(view, demo_scenario, at=AT, as_of=AS_OF, weeks=2)
    r = row(result, "dmz", "north")
    assert (r["before"], r["after"]) == (1, 1)


def test_the_agreement_date_is_the_earliest_rule_start(demo_scenario) -> None:
    # The demo's rules carry no date: each stands in with its zone's (the DMZ: 1953-07-27).
    assert agreement_date(demo_scenario) == date(1953, 7, 27)
    dated = replace(
        demo_scenario,
        rules=tuple(
            replace(r, valid_from=date(2024, 5, 1) if r.id == "nofly-uav" else None)
            for r in demo_scenario.rules
        ),
        zones=tuple(replace(z, valid_from=None) for z in demo_scenario.zones),
        lines=tuple(replace(ln, valid_from=None) for ln in demo_scenario.lines),
    )
    assert agreement_date(dated) == date(2024, 5, 1)
    undated = replace(dated, rules=tuple(replace(r, valid_from=None) for r in dated.rules))
    assert agreement_date(undated) is None
