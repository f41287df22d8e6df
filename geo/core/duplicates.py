"""Which reports are the same event: duplicates, look-alikes, cross-source links, and counting once.

- The same ``source`` with the same ``source_event_id`` is one event: a second copy is a
  duplicate and is not stored. A row without an event id is keyed by its content hash.
- Rows of one source under different ids are different events, however alike. Those with
  identical content (:func:`content_hash`) are linked as ``same_source_lookalike`` pairs,
  for review.
- Reports of two sources that could describe one event (:func:`match_pairs`) are linked as
  ``cross_source`` pairs.

Links are never deletions. Counts that say "incidents" count each linked group once
(:func:`distinct_events`); a reviewer can confirm or reject each link and the counts follow.
See docs/store.md for the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

LOOKALIKE = "same_source_lookalike"
CROSS_SOURCE = "cross_source"
LINK_KINDS: tuple[str, ...] = (LOOKALIKE, CROSS_SOURCE)
"""What made a link: identical content from one source, or a match across sources."""

UNREVIEWED = "unreviewed"
SAME_EVENT = "same_event"
DIFFERENT_EVENTS = "different_events"
LINK_STATUSES: tuple[str, ...] = (UNREVIEWED, SAME_EVENT, DIFFERENT_EVENTS)
"""A link's review status."""

HASH_KEYS: tuple[str, str] = ("truceline:hash:1", "truceline:hash:2")
"""The two SipHash-2-4 keys (16 bytes each) whose digests make the 128-bit content hash."""

MATCH_DISTANCE_M = 500.0
"""Two exactly placed reports match within this distance; each location uncertainty adds to it."""
MATCH_GAP_S = 3600.0
"""Two reports match when their time windows overlap or lie at most this far apart (seconds)."""
MATCH_MAX_UNCERTAINTY_M = 5000.0
"""Reports placed less precisely than this (meters) are never matched automatically."""
MATCH_MAX_WINDOW_S = 7 * 86400.0
"""Reports dated less precisely than this (a window longer than a week) are never matched."""

COMPATIBLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "armed_clash": (
        "small_arms_fire",
        "artillery_fire",
        "air_strike",
        "explosion",
        "violence_against_civilians",
    ),
    "explosion": ("artillery_fire", "air_strike"),
    "violence_against_civilians": ("small_arms_fire", "artillery_fire", "air_strike", "explosion"),
    "drone_activity": ("air_strike", "airspace_violation"),
    "troop_movement": ("heavy_weapons_presence",),
}
"""Categories that two sources may give the same event, besides the same category.

A broad category (an armed clash, an explosion, violence against civilians: what UCDP and
ACLED's wider codes give) matches the specific kinds of fire it covers; a drone report
matches an air strike or an airspace violation; troops and heavy weapons seen match.
"""

HASH_ID_PREFIX = "sha:"
"""A row without an event id is keyed by this and the first 20 hex digits of its content hash."""

_US = 1_000_000
_RADIUS_CLASSES = np.array([250.0, 2000.0, MATCH_MAX_UNCERTAINTY_M])
_WINDOW_CLASSES = np.array([3600, 25 * 3600, int(MATCH_MAX_WINDOW_S)], dtype=np.int64) * _US


# -- the content hash -----------------------------------------------------------------------------------


def content_hash(frame: pd.DataFrame) -> np.ndarray:
    r"""
    A stable 128-bit hash of each incident's content, as 32 hex digits.

    The canonical text of a row is nine values joined by ``\x1f``: ``source``,
    ``occurred_at`` (integer microseconds since the epoch, UTC), ``lon`` and ``lat``
    (integer micro-degrees, ``numpy.rint(x * 1e6)``), ``category``, ``actor``, ``party``,
    ``fatalities`` (a whole number) and ``description``; integers in decimal, text as is,
    missing values empty. The hash is the SipHash-2-4 of its UTF-8 bytes under each key
    of :data:`HASH_KEYS`, each passed through the splitmix64 finaliser (as
    :func:`pandas.util.hash_array` computes them), written as two 16-digit big-endian hex
    numbers. Stored hashes depend on this definition: never change it without a
    migration that rehashes the stored incidents.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from pandas.util import hash_array

    n = len(frame)
    if not n:
        return np.zeros(0, dtype=object)
    occurred = pd.to_datetime(frame["occurred_at"], utc=True).to_numpy(dtype="datetime64[us]")
    fatalities = frame["fatalities"].astype("Int64")
    parts = [
        _arrow_text(frame["source"]),
        _decimal(occurred.view(np.int64), np.isnat(occurred)),
        _decimal(*_micro_degrees(frame["lon"])),
        _decimal(*_micro_degrees(frame["lat"])),
        _arrow_text(frame["category"]),
        _arrow_text(frame["actor"]),
        _arrow_text(frame["party"]),
        _decimal(fatalities.to_numpy(dtype=np.int64, na_value=0), fatalities.isna().to_numpy()),
        _arrow_text(frame["description"]),
    ]
    text = pc.binary_join_element_wise(*parts, "\x1f").cast(pa.binary()).to_numpy(zero_copy_only=False)
    digests = np.empty((n, len(HASH_KEYS)), dtype=">u8")
    for k, key in enumerate(HASH_KEYS):
        digests[:, k] = hash_array(text, hash_key=key, categorize=False)
    return np.frombuffer(digests.tobytes().hex().encode("ascii"), dtype="S32").astype(str).astype(object)


def hash_event_ids(hashes: pd.Series) -> pd.Series:
    """The event ids of rows without one: :data:`HASH_ID_PREFIX` and the first 20 digits of the hash."""
    return HASH_ID_PREFIX + hashes.astype(str).str[:20]


def _arrow_text(values: pd.Series) -> Any:
    """A text column as an Arrow string array, missing values empty."""
    import pyarrow as pa

    if isinstance(values.dtype, pd.StringDtype):
        return pa.array(values.fillna("").array, type=pa.string())
    return pa.array(values.astype(object).where(values.notna(), "").astype(str).tolist(), type=pa.string())


def _decimal(values: np.ndarray, missing: np.ndarray) -> Any:
    """Integers as decimal text (Arrow), missing ones empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values, type=pa.int64()).cast(pa.string())
    return pc.if_else(pa.array(missing, type=pa.bool_()), "", text)


def _micro_degrees(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.rint(x * 1e6)`` as integers, and where ``x`` is missing."""
    scaled = np.rint(values.to_numpy(dtype=np.float64, na_value=np.nan) * 1e6)
    missing = np.isnan(scaled)
    return np.where(missing, 0.0, scaled).astype(np.int64), missing


# -- cross-source matches ---------------------------------------------------------------------------------


def compatible(a: str, b: str) -> bool:
    """Whether two sources may have given the same event categories ``a`` and ``b``."""
    return a == b or b in COMPATIBLE_CATEGORIES.get(a, ()) or a in COMPATIBLE_CATEGORIES.get(b, ())


@dataclass
class Reports:
    """Reports to match, as arrays: what :func:`match_pairs` reads."""

    ids: np.ndarray  # incident ids
    start: np.ndarray  # occurred_from, microseconds since the epoch (UTC)
    end: np.ndarray  # occurred_to, likewise
    x: np.ndarray  # meters, in one local metric projection
    y: np.ndarray
    radius: np.ndarray  # location uncertainty, meters
    category: np.ndarray  # integer codes (positions in the category names)
    source: np.ndarray  # integer codes

    def take(self, which: slice | np.ndarray) -> Reports:
        """A subset, by position or mask."""
        return Reports(*(getattr(self, f.name)[which] for f in fields(self)))

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def concat(cls, parts: Sequence[Reports]) -> Reports:
        """All the parts, in order."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    @classmethod
    def empty(cls) -> Reports:
        """No reports."""
        f8, i8 = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.int64)
        return cls(i8, i8, i8, f8, f8, f8, i8, i8)


def matchable(radius: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Which reports are placed and dated precisely enough to be matched (see the limits above)."""
    return np.asarray((radius <= MATCH_MAX_UNCERTAINTY_M) & (end - start <= int(MATCH_MAX_WINDOW_S) * _US))


def match_pairs(
    reports: Reports, categories: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Every pair of reports from different sources that could describe one event.

    Two reports match when their categories are the same or :func:`compatible`, their
    time windows, ``[start, end]``, overlap or lie at most :data:`MATCH_GAP_S` apart, and
    their distance is at most :data:`MATCH_DISTANCE_M` plus both location uncertainties
    (their uncertainty disks, each widened by 250 m, touch).

    Parameters
    ----------
    reports
        The reports (all :func:`matchable`).
    categories
        Category names, indexed by the reports' category codes.

    Returns
    -------
    tuple of numpy.ndarray
        Positions ``i`` and ``j`` of each pair (``i < j``), its distance (meters) and the
        gap between its windows (seconds, 0 when they overlap).
    """
    i, j = _candidates(reports, _clusters(categories))
    same = np.array([[compatible(a, b) for b in categories] for a in categories], dtype=bool).reshape(
        len(categories), len(categories)
    )
    r = reports
    distance = np.hypot(r.x[i] - r.x[j], r.y[i] - r.y[j])
    gap = np.maximum(r.start[i], r.start[j]) - np.minimum(r.end[i], r.end[j])
    keep = (
        (r.source[i] != r.source[j])
        & same[r.category[i], r.category[j]]
        & (distance <= MATCH_DISTANCE_M + r.radius[i] + r.radius[j])
        & (gap <= int(MATCH_GAP_S) * _US)
    )
    i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    return i, j, distance[keep], np.maximum(gap[keep], 0) / _US


def _clusters(categories: Sequence[str]) -> np.ndarray:
    """For each category code, its cluster: categories that only ever match within their cluster."""
    n = len(categories)
    if not n:
        return np.zeros(0, dtype=np.int64)
    a, b = np.nonzero([[compatible(x, y) for y in categories] for x in categories])
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1].astype(np.int64))


def _candidates(r: Reports, cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    Pairs that may match: a superset found with k-d trees, one query per pair of classes.

    Reports are classed by location uncertainty and window length, so that precise
    reports are searched with a small reach. For each pair of classes, coordinates are
    scaled so that the largest possible match of the two classes is 1 away in every
    dimension; clusters of categories sit 4 apart, out of reach of each other.
    """
    length = r.end - r.start
    klass = np.searchsorted(_RADIUS_CLASSES, r.radius) * len(_WINDOW_CLASSES) + np.searchsorted(
        _WINDOW_CLASSES, length
    )
    centre = ((r.start - r.start.min()) + (r.end - r.start.min())) / 2.0 if len(r) else np.zeros(0)
    present = np.unique(klass)
    members = {k: np.flatnonzero(klass == k) for k in present.tolist()}
    found_i: list[np.ndarray] = []
    found_j: list[np.ndarray] = []
    reach = 1.0 + 1e-9
    for pos, a in enumerate(present.tolist()):
        for b in present[pos:].tolist():
            ia, ib = members[a], members[b]
            space = MATCH_DISTANCE_M + r.radius[ia].max() + r.radius[ib].max()
            time = MATCH_GAP_S * _US + (length[ia].max() + length[ib].max()) / 2.0

            def scaled(idx: np.ndarray, space: float = space, time: float = time) -> np.ndarray:
                return np.column_stack(
                    [r.x[idx] / space, r.y[idx] / space, centre[idx] / time, cluster[r.category[idx]] * 4.0]
                )

            tree = cKDTree(scaled(ia))
            if a == b:
                pairs = tree.query_pairs(reach, p=np.inf, output_type="ndarray")
                found_i.append(ia[pairs[:, 0]])
                found_j.append(ia[pairs[:, 1]])
            else:
                other = cKDTree(scaled(ib))
                hits = tree.sparse_distance_matrix(other, reach, p=np.inf, output_type="ndarray")
                found_i.append(ia[hits["i"]])
                found_j.append(ib[hits["j"]])
    if not found_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_i).astype(np.int64), np.concatenate(found_j).astype(np.int64)


def closest_per_source(
    later: np.ndarray, earlier: np.ndarray, earlier_source: np.ndarray, distance: np.ndarray, gap: np.ndarray
) -> np.ndarray:
    """
    Positions of the links to keep: for each later report, its closest match from each other source.

    Closest means the shortest distance, then the shortest gap in time, then the lowest id.
    """
    if not len(later):
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((earlier, gap, distance, earlier_source, later))
    key_later, key_source = later[order], earlier_source[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (key_later[1:] != key_later[:-1]) | (key_source[1:] != key_source[:-1])
    return order[first]


# -- groups and counting once --------------------------------------------------------------------------


def groups(links: pd.DataFrame) -> pd.DataFrame:
    """
    The groups that counts of incidents count once, from the stored links.

    A link joins its two incidents into one group unless a reviewer found them
    ``different_events``; a same-source look-alike joins them only once a reviewer
    confirmed them ``same_event`` (until then they are two events). Within a group, a
    unit is a set of one source's reports confirmed to be one event.

    Parameters
    ----------
    links
        ``incident_id``, ``other_id``, ``kind``, ``status``.

    Returns
    -------
    pandas.DataFrame
        ``incident_id``, ``group_id`` and ``unit_id`` (each the lowest incident id of the
        group or unit) of every incident in a group of two or more, by incident id.
    """
    kind, status = links["kind"].to_numpy(dtype=object), links["status"].to_numpy(dtype=object)
    joins = (status != DIFFERENT_EVENTS) & ((kind == CROSS_SOURCE) | (status == SAME_EVENT))
    a = links["incident_id"].to_numpy(dtype=np.int64)[joins]
    b = links["other_id"].to_numpy(dtype=np.int64)[joins]
    nodes = np.unique(np.concatenate([a, b]))
    same_source = (kind[joins] == LOOKALIKE) & (status[joins] == SAME_EVENT)
    return pd.DataFrame(
        {
            "incident_id": nodes,
            "group_id": _lowest_in_component(nodes, a, b),
            "unit_id": _lowest_in_component(nodes, a[same_source], b[same_source]),
        }
    )


def _lowest_in_component(nodes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of the sorted ``nodes``, the lowest node connected to it by the edges ``a``–``b``."""
    n = len(nodes)
    if not n:
        return np.zeros(0, dtype=np.int64)
    pa, pb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    graph = coo_matrix((np.ones(len(pa)), (pa, pb)), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    _, first = np.unique(labels, return_index=True)  # nodes are sorted: the first is the lowest
    lowest = np.empty(labels.max() + 1, dtype=np.int64)
    lowest[labels[first]] = nodes[first]
    return np.asarray(lowest[labels])


def distinct_events(view: pd.DataFrame) -> pd.DataFrame:
    """
    The rows of an incident view that count as incidents: one per event, linked reports once.

    A group of linked reports counts as many incidents as the most events any one source
    reported in it (a source's reports are separate events unless confirmed otherwise):
    one for a report and another source's report of it. It is counted by that source's
    reports, one per event (the lowest id; ties between sources go to the one holding the
    group's lowest unit id). Only the rows in ``view`` take part: a filter that keeps one
    report of a group counts it once. Views without ``duplicate_group`` are returned as
    they are.
    """
    if "duplicate_group" not in view.columns or view.empty:
        return view
    group = view["duplicate_group"].to_numpy(dtype=np.int64)
    shared = pd.Series(group).duplicated(keep=False).to_numpy()
    if not shared.any():
        return view
    pos = np.flatnonzero(shared)
    sub = pd.DataFrame(
        {
            "pos": pos,
            "group": group[pos],
            "source": pd.factorize(view["source"].to_numpy(dtype=object)[pos])[0],
            "unit": view["duplicate_unit"].to_numpy(dtype=np.int64)[pos],
            "id": view["incident_id"].to_numpy(dtype=np.int64)[pos],
        }
    ).sort_values("id", kind="stable")
    units = sub.drop_duplicates(["group", "source", "unit"])
    per_source = units.groupby(["group", "source"], sort=False).agg(n=("unit", "size"), low=("unit", "min"))
    winner = (
        per_source.reset_index()
        .sort_values(["group", "n", "low"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("group")[["group", "source"]]
    )
    counted = units.merge(winner, on=["group", "source"])["pos"].to_numpy()
    keep = ~shared
    keep[counted] = True
    return view[keep]


def count_events(view: pd.DataFrame) -> int:
    """How many incidents a view holds, linked reports of one event counted once (:func:`distinct_events`)."""
    return len(distinct_events(view))
