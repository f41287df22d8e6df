"""Links found while uploading: look-alikes of one source and matches across sources."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.core.categories import vocabulary
from geo.core.classify import PreparedScenario
from geo.core.duplicates import (
    CROSS_SOURCE,
    LOOKALIKE,
    MATCH_GAP_S,
    MATCH_MAX_WINDOW_S,
    UNREVIEWED,
    Reports,
    closest_per_source,
    match_pairs,
    matchable,
)
from geo.services.ingest._common import UploadSummary
from geo.store import Tx

_US = 1_000_000


@dataclass
class Accepted:
    """The accepted reports that can be matched across sources, compactly: the match search's input."""

    prep: PreparedScenario
    parts: list[Reports] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)

    def reports(self, ids: np.ndarray, frame: pd.DataFrame) -> Reports:
        """The matchable ones of incidents about to be stored (or stored)."""
        if frame.empty:
            return Reports.empty()
        start, end = _micros(frame["occurred_from"]), _micros(frame["occurred_to"])
        radius = _radius(frame)
        keep = matchable(radius, start, end)
        frame = frame[keep]
        x, y = self.project(frame)
        return Reports(
            np.asarray(ids, dtype=np.int64)[keep],
            start[keep],
            end[keep],
            x,
            y,
            radius[keep],
            _codes(self.categories, frame["category"]),
            _codes(self.sources, frame["source"]),
        )

    def add(self, reports: Reports) -> None:
        """Remember stored incidents."""
        self.parts.append(reports)

    def project(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Positions in meters, in the scenario's local projection."""
        lon, lat = frame["lon"].to_numpy(dtype=np.float64), frame["lat"].to_numpy(dtype=np.float64)
        if not len(lon):
            return lon, lat
        x, y = self.prep.projection.forward(lon, lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def arrays(self) -> Reports:
        """Everything added, by the start of its time window."""
        every = Reports.concat([Reports.empty(), *self.parts])
        return every.take(np.argsort(every.start, kind="stable"))


def _codes(labels: dict[str, int], values: pd.Series) -> np.ndarray:
    """Integer codes of text values, shared by every chunk (and the stored rows)."""
    codes, uniques = pd.factorize(values.astype(object).fillna(""))
    lut = np.array([labels.setdefault(str(u), len(labels)) for u in uniques], dtype=np.int64)
    return lut[codes] if len(lut) else np.zeros(len(values), dtype=np.int64)


def _radius(frame: pd.DataFrame) -> np.ndarray:
    """Each incident's location uncertainty (meters): its own, else its precision's default."""
    defaults = vocabulary().uncertainty_m
    codes, precisions = pd.factorize(frame["location_precision"].astype(object).fillna(""))
    lut = np.array([defaults.get(p, defaults["region"]) for p in precisions] + [defaults["region"]])
    radius = lut[codes]  # code -1 (missing) picks the last: the coarsest
    given = frame["location_uncertainty_m"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(np.where(np.isfinite(given) & (given >= 0), given, radius))


_MATCH_WINDOW = 250_000
"""New incidents searched for cross-source matches at a time (bounds the search's memory)."""


def _micros(values: pd.Series) -> np.ndarray:
    return np.asarray(pd.to_datetime(values, utc=True).to_numpy(dtype="datetime64[us]").view(np.int64))


def _stored_near(tx: Tx, starts: np.ndarray, pad: int, before_id: int, acc: Accepted) -> Reports:
    """Stored incidents older than ``before_id`` starting within ``pad`` µs of ``starts`` (sorted)."""
    gap = np.flatnonzero(np.diff(starts) > 2 * pad)
    lo = starts[np.concatenate(([0], gap + 1))] - pad
    hi = starts[np.concatenate((gap, [len(starts) - 1]))] + pad
    store = tx.store
    tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS near_windows (lo {store.time_type}, hi {store.time_type})")
    tx.execute("DELETE FROM near_windows")
    # occurred_at lies in the window, which is at most MATCH_MAX_WINDOW_S long: search it that much wider.
    longest = int(MATCH_MAX_WINDOW_S) * _US
    tx.insert_columns(
        "near_windows",
        {
            "lo": store.encode_times(pd.Series(pd.to_datetime(lo, unit="us", utc=True))).tolist(),
            "hi": store.encode_times(pd.Series(pd.to_datetime(hi + longest, unit="us", utc=True))).tolist(),
        },
    )
    old = tx.frame(
        "SELECT i.incident_id, i.source, i.category, i.occurred_from, i.occurred_to, i.lon, i.lat, "
        "i.location_precision, i.location_uncertainty_m "
        "FROM near_windows w CROSS JOIN incidents i "
        "WHERE i.occurred_at >= w.lo AND i.occurred_at <= w.hi AND i.incident_id < ? AND i.scenario_id = ?",
        (int(before_id), store.scenario_id),
    )
    old = old.drop_duplicates("incident_id")  # windows may overlap once widened
    reports = acc.reports(old["incident_id"].to_numpy(dtype=np.int64), old)
    span = np.searchsorted(lo, reports.start, side="right") - 1  # the spans are sorted and apart
    inside = (span >= 0) & (reports.start <= hi[np.maximum(span, 0)])
    return reports.take(inside)


def cross_source_links(
    tx: Tx, acc: Accepted, first_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Each new incident's closest match from each other source, among earlier incidents.

    Returns the new incidents' ids, their matches' ids, the distances (meters) and the
    gaps in time (seconds). Earlier means a lower incident id: stored before, or read
    before in this upload. New incidents are searched a window at a time (in time order),
    with the stored and new incidents whose windows start close enough to match them.
    """
    new = acc.arrays()
    pad = int(MATCH_GAP_S + MATCH_MAX_WINDOW_S) * _US
    found: list[tuple[np.ndarray, ...]] = []
    for lo in range(0, len(new), _MATCH_WINDOW):
        hi = min(lo + _MATCH_WINDOW, len(new))
        a = int(np.searchsorted(new.start, new.start[lo] - pad, side="left"))
        b = int(np.searchsorted(new.start, new.start[hi - 1] + pad, side="right"))
        pool = new.take(slice(a, b))
        offset = lo - a  # where the window's rows start in the pool
        if first_id > 1:
            old = _stored_near(tx, new.start[lo:hi], pad, first_id, acc)
            pool = Reports.concat([old, pool])
            offset += len(old)
        i, j, distance, gap = match_pairs(pool, list(acc.categories))  # stored rows may add categories
        later = np.where(pool.ids[i] > pool.ids[j], i, j)
        earlier = np.where(later == i, j, i)
        mine = (later >= offset) & (later < offset + hi - lo)
        later, earlier, distance, gap = later[mine], earlier[mine], distance[mine], gap[mine]
        keep = closest_per_source(pool.ids[later], pool.ids[earlier], pool.source[earlier], distance, gap)
        found.append((pool.ids[later[keep]], pool.ids[earlier[keep]], distance[keep], gap[keep]))
    if not found:
        no_ids = np.zeros(0, dtype=np.int64)
        return no_ids, no_ids, np.zeros(0), np.zeros(0)
    later_ids, earlier_ids, distances, gaps = (np.concatenate([f[k] for f in found]) for k in range(4))
    return later_ids, earlier_ids, distances, gaps


def flag_links(
    tx: Tx,
    lookalikes: list[tuple[np.ndarray, np.ndarray]],
    cross: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    summary: UploadSummary,
) -> None:
    """Store the upload's new links (look-alikes and cross-source matches) and regroup; count and warn."""
    same_later = np.concatenate([np.zeros(0, dtype=np.int64), *(p[0] for p in lookalikes)])
    same_earlier = np.concatenate([np.zeros(0, dtype=np.int64), *(p[1] for p in lookalikes)])
    later, earlier, distance, gap = cross
    summary.lookalikes = len(same_later)  # one link per look-alike: to the lowest id alike
    summary.near_duplicates = len(np.unique(later))
    if not len(same_later) and not len(later):
        return
    n_same = len(same_later)
    tx.insert_columns(
        "incident_links",
        {
            "incident_id": np.concatenate([same_later, later]).tolist(),
            "other_id": np.concatenate([same_earlier, earlier]).tolist(),
            "kind": [LOOKALIKE] * n_same + [CROSS_SOURCE] * len(later),
            "status": [UNREVIEWED] * (n_same + len(later)),
            "distance_m": [0.0] * n_same + distance.tolist(),
            "gap_s": [0.0] * n_same + gap.tolist(),
            "batch_id": [summary.batch_id] * (n_same + len(later)),
        },
    )
    tx.store.regroup(tx)
    if summary.lookalikes:
        summary.warnings.append(
            f"{summary.lookalikes} incident(s) look exactly like another report from the same source "
            "under another event id; kept as separate events and flagged for review"
        )
    if summary.near_duplicates:
        summary.warnings.append(
            f"{summary.near_duplicates} incident(s) may be another source's report of the same event "
            "(compatible category, times within 1 h, within 500 m plus both location uncertainties); "
            "kept, linked, and counted once"
        )
