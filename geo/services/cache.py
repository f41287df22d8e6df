"""An in-memory, incrementally refreshed copy of the columns maps and trends need.

Filtering a million rows in memory takes tens of milliseconds; asking the database for
them on every filter change does not. New incidents are appended by id; when stored rows
are rewritten (reclassification, undo, verification) the store's generation grows and
the copy is reloaded. Each row also carries the group of linked reports it is counted in
(``duplicate_group``, ``duplicate_unit``: see :func:`geo.core.duplicates.distinct_events`),
re-read whenever the store's groups change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from geo import clock
from geo.store import Store

_CATEGORICAL = (
    "category",
    "source",
    "verification",
    "location_precision",
    "attributed_party",
    "attribution",
    "verdict",
    "zones",
    "rules",
    "side",
)
GROUP_COLUMNS = ("duplicate_group", "duplicate_unit")
"""The columns the cache adds to :data:`geo.store.COMPACT_COLUMNS`: each row's group and unit."""


@dataclass(frozen=True)
class CachedIncidents:
    """The cached rows at one moment, and what they are as of."""

    frame: pd.DataFrame
    generation: int
    max_id: int
    refreshed_at: datetime
    changed_at: datetime | None
    link_generation: int = 0


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    for col in _CATEGORICAL:
        if col in frame:
            frame[col] = frame[col].astype("category")
    for col in ("incident_id", "batch_id"):
        if col in frame:
            frame[col] = frame[col].astype("int64")
    return frame


_NO_GROUPS = pd.DataFrame({"incident_id": [], "group_id": [], "unit_id": []}, dtype="int64")


def _with_groups(frame: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (sorted by id) with each row's group and unit: its own id unless the store groups it."""
    ids = frame["incident_id"].to_numpy(dtype=np.int64)
    group, unit = ids.copy(), ids.copy()
    if len(groups) and len(ids):
        grouped = groups["incident_id"].to_numpy(dtype=np.int64)
        pos = np.minimum(np.searchsorted(ids, grouped), len(ids) - 1)
        found = ids[pos] == grouped  # a group may hold an incident the cache does not yet have
        group[pos[found]] = groups["group_id"].to_numpy(dtype=np.int64)[found]
        unit[pos[found]] = groups["unit_id"].to_numpy(dtype=np.int64)[found]
    return frame.assign(duplicate_group=group, duplicate_unit=unit)


def with_groups(frame: pd.DataFrame, store: Store) -> pd.DataFrame:
    """
    Rows of a store query with their group of linked reports, as the cache carries them.

    With these, :func:`geo.core.duplicates.distinct_events` counts linked reports once.
    The rows come back sorted by ``incident_id``.
    """
    rows = frame.sort_values("incident_id", kind="stable").reset_index(drop=True)
    return _with_groups(rows, store.groups())


def _append(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    if old.empty:
        return new
    if new.empty:
        return old
    parts = [old.copy(), new.copy()]
    for col in _CATEGORICAL:
        if col in old:
            cats = old[col].cat.categories.union(new[col].cat.categories)
            for part in parts:
                part[col] = part[col].cat.set_categories(cats)
    return pd.concat(parts, ignore_index=True)


class IncidentCache:
    """
    A thread-safe cache of :data:`geo.store.COMPACT_COLUMNS` and :data:`GROUP_COLUMNS` for one store.

    Parameters
    ----------
    store
        The store to mirror.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._snapshot: CachedIncidents | None = None

    def snapshot(self, *, refresh: bool = True) -> CachedIncidents:
        """The cached rows, first catching up with the store when ``refresh``."""
        with self._lock:
            current = self._snapshot
            if current is not None and not refresh:
                return current
            generation = self.store.generation()
            linked = self.store.link_generation()
            if current is None or generation != current.generation:
                frame = _with_groups(_compact(self.store.compact()), self.store.groups())
            else:
                new = _compact(self.store.compact(after_id=current.max_id))
                if linked != current.link_generation:
                    frame = _with_groups(_append(current.frame, new), self.store.groups())
                else:  # no group changed: the new rows are in none
                    frame = _append(current.frame, _with_groups(new, _NO_GROUPS))
            max_id = int(frame["incident_id"].max()) if len(frame) else 0
            self._snapshot = CachedIncidents(
                frame, generation, max_id, clock.now(), self.store.changed_at(), linked
            )
            return self._snapshot

    def invalidate(self) -> None:
        """Forget the cached rows (the next snapshot reloads them)."""
        with self._lock:
            self._snapshot = None


def window_start(now: datetime, preset: str) -> datetime | None:
    """The start of a named time window ending at ``now``: ``24h``, ``7d``, ``30d``, ``all``."""
    spans = {"24h": pd.Timedelta(hours=24), "7d": pd.Timedelta(days=7), "30d": pd.Timedelta(days=30)}
    if preset == "all":
        return None
    return (pd.Timestamp(now) - spans[preset]).to_pydatetime()
