"""Before and after a date: incidents per week by zone × party, the rate ratio and an exact test.

For each zone × party, the incidents of the ``weeks`` weeks before the date (``before``)
are set against those of the ``weeks`` weeks from it (``after``). With equal exposure
on both sides, the rate ratio ``after / before`` is estimated by the ratio of the counts.
Conditional on their total ``n = before + after``, ``after`` is binomial with
``p = ratio / (1 + ratio)``, so:

- the 95 % confidence interval of the ratio is the exact (Clopper–Pearson) interval of
  ``p``, each bound carried through ``p / (1 - p)``;
- the p-value is that of the exact binomial test of ``p = 1/2`` (no change), two-sided:
  the exact conditional test for two Poisson rates.

Zero counts: ``before = 0 < after`` gives an infinite ratio and upper bound (the lower
bound is finite); ``after = 0 < before`` gives a ratio and lower bound of 0; both 0 give
no ratio (NaN), the interval ``[0, inf]`` and p = 1.

A zone here is a place: an incident counts in every zone of the scenario whose polygon
holds it, whether or not the zone was in force then, so that the weeks before an
agreement are counted in the areas it created. See ``docs/trends.md``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from geo._errors import InputError
from geo.core._antimeridian import polygons_lonlat
from geo.core.duplicates import distinct_events
from geo.core.model import Scenario
from geo.core.trends import NO_ZONE, UNATTRIBUTED

DEFAULT_WEEKS = 8
CONFIDENCE = 0.95
COLUMNS = ("zone", "party", "before", "after", "weeks", "rate_ratio", "ci_low", "ci_high", "p_value")
"""The columns of a comparison, in the order ``compare --json`` prints them."""
_WEEK = timedelta(days=7)

FloatArray = NDArray[np.float64]


def rate_ratio(
    before: ArrayLike, after: ArrayLike, *, confidence: float = CONFIDENCE
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """
    The rate ratio after/before of counts over equal exposure, its exact interval and p-value.

    Parameters
    ----------
    before, after
        Counts (non-negative integers), scalars or arrays of one shape.
    confidence
        The confidence level of the interval.

    Returns
    -------
    tuple of numpy.ndarray
        ``ratio``, ``ci_low``, ``ci_high`` and ``p_value``, as floats (see the module's
        note for zero counts).
    """
    from scipy import stats

    b = np.asarray(before, dtype=np.int64)
    a = np.asarray(after, dtype=np.int64)
    if np.any(a < 0) or np.any(b < 0):
        msg = "rate_ratio: counts must be 0 or more"
        raise InputError(msg)
    if not 0.0 < confidence < 1.0:
        msg = f"rate_ratio: confidence must be between 0 and 1, got {confidence}"
        raise InputError(msg)
    alpha = 1.0 - confidence
    n = a + b
    # Clopper–Pearson bounds of p = after / n, through the beta distribution.
    p_low = np.where(a > 0, stats.beta.ppf(alpha / 2, np.maximum(a, 1), b + 1), 0.0)
    p_high = np.where(b > 0, stats.beta.ppf(1 - alpha / 2, a + 1, np.maximum(b, 1)), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(b > 0, a / np.maximum(b, 1), np.where(a > 0, np.inf, np.nan))
        ci_low = p_low / (1.0 - p_low)
        ci_high = np.where(p_high < 1.0, p_high / (1.0 - p_high), np.inf)
    # Two-sided exact test of p = 1/2: the distribution is symmetric, so the outcomes at
    # most as likely as the one seen are the two tails beyond min(a, b).
    p_value = np.where(n > 0, np.minimum(1.0, 2.0 * stats.binom.cdf(np.minimum(a, b), n, 0.5)), 1.0)
    return (
        np.asarray(ratio, dtype=np.float64),
        np.asarray(ci_low, dtype=np.float64),
        np.asarray(ci_high, dtype=np.float64),
        np.asarray(p_value, dtype=np.float64),
    )


def agreement_date(scenario: Scenario) -> date | None:
    """
    The day a scenario's agreement took effect: the earliest ``valid_from`` of its rules.

    A rule without a ``valid_from`` is in force from its zone's (a derived zone's, from
    its line's), which stands in for it. ``None`` when no rule has a start date.
    """
    zones = {z.id: z for z in scenario.zones}
    lines = {ln.id: ln for ln in scenario.lines}
    starts = []
    for rule in scenario.rules:
        start = rule.valid_from
        zone = zones.get(rule.zone)
        if start is None and zone is not None:
            start = zone.valid_from
            if start is None and zone.line in lines:
                start = lines[zone.line].valid_from
        if start is not None:
            starts.append(start)
    return min(starts) if starts else None


def utc_instant(value: datetime | date | pd.Timestamp | str) -> pd.Timestamp:
    """A date (its start) or time as a UTC timestamp; naive values are UTC."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class Comparison:
    """A before/after comparison: the weeks compared and one row per zone × party."""

    at: pd.Timestamp
    """The date compared around (UTC)."""
    weeks: int
    """Weeks on each side actually compared."""
    asked_weeks: int
    """Weeks on each side asked for (more than :attr:`weeks` when the data end first)."""
    table: pd.DataFrame
    """:data:`COLUMNS`, plus ``before_per_week`` and ``after_per_week``."""

    @property
    def before_start(self) -> pd.Timestamp:
        """The first instant counted before."""
        return self.at - self.weeks * _WEEK

    @property
    def after_end(self) -> pd.Timestamp:
        """The first instant after the weeks counted after."""
        return self.at + self.weeks * _WEEK

    def rows_for(self, zones: Sequence[str]) -> Comparison:
        """The same comparison with only the rows of ``zones`` (all rows when empty)."""
        if not zones:
            return self
        return replace(self, table=self.table[self.table["zone"].isin(list(zones))].reset_index(drop=True))

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready objects: counts as integers, values that are not finite as ``None``."""
        out = []
        for row in self.table[list(COLUMNS)].itertuples(index=False):
            item: dict[str, Any] = {}
            for key, value in zip(COLUMNS, row, strict=True):
                if key in ("before", "after", "weeks"):
                    item[key] = int(value)
                elif key in ("zone", "party"):
                    item[key] = str(value)
                else:
                    item[key] = float(value) if np.isfinite(value) else None
            out.append(item)
        return out


def window_weeks(at: pd.Timestamp, weeks: int, as_of: pd.Timestamp) -> int:
    """
    The whole weeks after ``at`` that the data can cover, at most ``weeks``.

    Raises
    ------
    InputError
        When ``weeks`` is below 1, or not one whole week lies between ``at`` and ``as_of``.
    """
    if weeks < 1:
        msg = f"compare: weeks: must be 1 or more, got {weeks}"
        raise InputError(msg)
    whole = int((as_of - at) // _WEEK)
    if whole < 1:
        msg = (
            f"compare: at: {at:%Y-%m-%d %H:%M} UTC is less than a week before the data end "
            f"({as_of:%Y-%m-%d %H:%M} UTC): there is no week after it to compare"
        )
        raise InputError(msg)
    return min(weeks, whole)


_prepared_lock = threading.Lock()
_prepared: dict[int, tuple[Scenario, tuple[shapely.Geometry, ...]]] = {}


def _zone_polygons(scenario: Scenario) -> tuple[shapely.Geometry, ...]:
    """Each zone's polygon in RFC 7946 form, prepared (cached per scenario object)."""
    with _prepared_lock:
        hit = _prepared.get(id(scenario))
        if hit is not None and hit[0] is scenario:
            return hit[1]
    polygons = []
    for zone in scenario.zones:
        polygon = shapely.from_wkb(shapely.to_wkb(polygons_lonlat(zone.geometry)))
        shapely.prepare(polygon)
        polygons.append(polygon)
    with _prepared_lock:
        if len(_prepared) > 8:
            _prepared.clear()
        _prepared[id(scenario)] = (scenario, tuple(polygons))
    return tuple(polygons)


def zone_pairs(view: pd.DataFrame, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """
    The zones each incident lies in, whatever their dates: (row, zone position) pairs.

    A row in no zone pairs with position ``len(scenario.zones)`` (``(no zone)``).
    """
    lon = view["lon"].to_numpy(dtype=np.float64)
    lat = view["lat"].to_numpy(dtype=np.float64)
    rows: list[np.ndarray] = []
    zones: list[np.ndarray] = []
    seen = np.zeros(len(view), dtype=bool)
    for k, polygon in enumerate(_zone_polygons(scenario)):
        xmin, ymin, xmax, ymax = shapely.bounds(polygon)
        near = np.flatnonzero((lon >= xmin) & (lon <= xmax) & (lat >= ymin) & (lat <= ymax))
        hit = near[shapely.intersects_xy(polygon, lon[near], lat[near])]
        rows.append(hit)
        zones.append(np.full(hit.size, k))
        seen[hit] = True
    outside = np.flatnonzero(~seen)
    rows.append(outside)
    zones.append(np.full(outside.size, len(scenario.zones)))
    return np.concatenate(rows).astype(np.int64), np.concatenate(zones).astype(np.int64)


def compare_rates(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    at: datetime | date | pd.Timestamp | str,
    as_of: datetime | pd.Timestamp,
    weeks: int = DEFAULT_WEEKS,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """
    Compare incidents per week before and after ``at``, for each zone × party.

    Parameters
    ----------
    view
        Incidents (``occurred_at``, ``lon``, ``lat``, ``attributed_party``; linked reports
        count once when ``duplicate_group`` is there) covering at least the weeks compared.
    scenario
        The scenario: its zones and parties make the rows.
    at
        The date compared around: before is ``[at - weeks, at)``, after ``[at, at + weeks)``.
    as_of
        The end of the data: the weeks after ``at`` are cut to the whole weeks before it,
        and the weeks before to as many, so both sides have the same exposure.
    weeks
        Weeks on each side.
    confidence
        The confidence level of the interval.

    Returns
    -------
    Comparison
        One row per zone of the scenario (then ``(no zone)``) and party (then
        ``(unattributed)``), zero counts included.
    """
    start = utc_instant(at)
    used = window_weeks(start, weeks, utc_instant(as_of))
    lo, hi = start - used * _WEEK, start + used * _WEEK
    occurred = pd.to_datetime(view["occurred_at"], utc=True)
    frame = distinct_events(view[((occurred >= lo) & (occurred < hi)).to_numpy()])
    side = (pd.to_datetime(frame["occurred_at"], utc=True) >= start).to_numpy().astype(np.int64)  # 1: after
    party_ids = [p.id for p in scenario.parties]
    party = pd.Index(party_ids).get_indexer(frame["attributed_party"].astype(object).fillna("").to_numpy())
    party = np.where(party < 0, len(party_ids), party).astype(np.int64)
    rows, zone = zone_pairs(frame, scenario)
    nz, np_ = len(scenario.zones) + 1, len(party_ids) + 1
    cells = np.bincount((zone * np_ + party[rows]) * 2 + side[rows], minlength=nz * np_ * 2).reshape(-1, 2)
    ratio, ci_low, ci_high, p_value = rate_ratio(cells[:, 0], cells[:, 1], confidence=confidence)
    table = pd.DataFrame(
        {
            "zone": np.repeat([z.id for z in scenario.zones] + [NO_ZONE], np_),
            "party": np.tile([*party_ids, UNATTRIBUTED], nz),
            "before": cells[:, 0],
            "after": cells[:, 1],
            "weeks": np.int64(used),
            "rate_ratio": ratio,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "p_value": p_value,
            "before_per_week": cells[:, 0] / used,
            "after_per_week": cells[:, 1] / used,
        }
    )
    return Comparison(start, used, weeks, table)
