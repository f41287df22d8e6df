"""An in-memory, incrementally refreshed copy of the columns maps and trends need.

Filtering a million rows in memory takes tens of milliseconds; asking the database for
them on every filter change does not. New incidents are appended by id; when stored rows
are rewritten (reclassification, undo, verification, a scenario load) the store's
generation grows and the copy is reloaded. Each row also carries the group of linked
reports it is counted in (``duplicate_group``, ``duplicate_unit``: see
:func:`geo.core.duplicates.distinct_events`), re-read whenever the store's groups change.

Reading a million rows from the database takes seconds, so the copy is also kept in a file
(:mod:`geo.services._cache_file`: Arrow, beside a SQLite store or in the user's cache folder)
that the next server start reads in a fraction of that, then catches up as above. The file
is used only for the store it came from and only while that store's generation is the one it
was saved at; it is saved again after a reload and after many appended rows.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from geo import clock
from geo.core.grading import confidence_notes
from geo.services import _cache_file
from geo.store import COMPACT_COLUMNS, Store

_CATEGORICAL = (
    "category",
    "source",
    "verification",
    "source_reliability",
    "info_credibility",
    "location_precision",
    "attributed_party",
    "attribution",
    "verdict",
    "zones",
    "rules",
    "side",
    "verdict_note",
)
GROUP_COLUMNS = ("duplicate_group", "duplicate_unit", "verdict_note")
"""The columns the cache adds to :data:`geo.store.COMPACT_COLUMNS`: each row's group and unit, and
the note its verdict carries once its group's grades are seen (:func:`geo.core.grading.confidence_notes`)."""
READ_ROWS = 100_000
"""Rows read from the store at a time (see :func:`_read`)."""

SAVE_AFTER_ROWS = 50_000
"""Rows appended since the cache file was saved that make the cache save it again."""
_log = logging.getLogger(__name__)


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
    out = frame.assign(duplicate_group=group, duplicate_unit=unit)
    return out.assign(verdict_note=confidence_notes(out).astype("category"))


def with_groups(frame: pd.DataFrame, store: Store) -> pd.DataFrame:
    """
    Rows of a store query with their group of linked reports, as the cache carries them.

    With these, :func:`geo.core.duplicates.distinct_events` counts linked reports once.
    The rows come back sorted by ``incident_id``.
    """
    rows = frame.sort_values("incident_id", kind="stable").reset_index(drop=True)
    return _with_groups(rows, store.groups())


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Rows of ``parts`` in order, each categorical column over the union of their categories."""
    parts = [part for part in parts if not part.empty] or parts[:1]
    if len(parts) == 1:
        return parts[0]
    parts = [part.copy() for part in parts]
    for col in _CATEGORICAL:
        if all(col in part for part in parts):
            cats = parts[0][col].cat.categories
            for part in parts[1:]:
                cats = cats.union(part[col].cat.categories)
            for part in parts:
                part[col] = part[col].cat.set_categories(cats)
    return pd.concat(parts, ignore_index=True)


def _read(store: Store, after_id: int, rows: int) -> pd.DataFrame:
    """
    The compacted rows after ``after_id``, read ``rows`` at a time.

    A database driver hands rows over as Python tuples, many times the size of the
    compacted frame (800,000 rows: 64 MB compacted, 1.2 GB on the way): reading in slices
    bounds what a refresh after a large upload needs.
    """
    parts = []
    while True:
        part = _compact(store.compact(after_id=after_id, limit=rows))
        parts.append(part)
        if len(part) < rows:
            return _concat(parts)
        after_id = int(part["incident_id"].iloc[-1])


class IncidentCache:
    """
    A thread-safe cache of :data:`geo.store.COMPACT_COLUMNS` and :data:`GROUP_COLUMNS` for one store.

    Parameters
    ----------
    store
        The store to mirror.
    path
        The cache file (default :func:`geo.services._cache_file.path_for`: beside a SQLite
        store, else in ``TRUCELINE_CACHE`` or the user's cache folder).
    persist
        Whether to read and save the cache file at all.
    read_rows
        How many rows to read from the store at a time.
    """

    def __init__(
        self, store: Store, *, path: Path | None = None, persist: bool = True, read_rows: int = READ_ROWS
    ) -> None:
        self.store = store
        self.read_rows = read_rows
        self.path = (path or _cache_file.path_for(store)) if persist else None
        self._lock = threading.Lock()
        self._snapshot: CachedIncidents | None = None
        self._saved: tuple[int, int] | None = None
        """The generation and highest incident id of the file as last read or saved."""

    def snapshot(self, *, refresh: bool = True) -> CachedIncidents:
        """The cached rows, first catching up with the store when ``refresh``."""
        with self._lock:
            current = self._snapshot
            if current is not None and not refresh:
                return current
            generation = self.store.generation()
            linked = self.store.link_generation()
            if current is None or generation != current.generation:
                current = self._read_file(generation)
            if current is None or generation != current.generation:
                frame = _with_groups(_read(self.store, 0, self.read_rows), self.store.groups())
            else:
                new = _read(self.store, current.max_id, self.read_rows)
                if linked != current.link_generation:
                    frame = _with_groups(_concat([current.frame, new]), self.store.groups())
                else:  # no group changed: the new rows are in none
                    frame = _concat([current.frame, _with_groups(new, _NO_GROUPS)])
            max_id = int(frame["incident_id"].max()) if len(frame) else 0
            self._snapshot = CachedIncidents(
                frame, generation, max_id, clock.now(), self.store.changed_at(), linked
            )
            self._save_if_behind(self._snapshot)
            return self._snapshot

    def _read_file(self, generation: int) -> CachedIncidents | None:
        """The rows of the cache file, when it holds this store's at this generation."""
        if self.path is None:
            return None
        saved = _cache_file.load(
            self.path,
            store_id=_cache_key(self.store),
            generation=generation,
            columns=COMPACT_COLUMNS + GROUP_COLUMNS,
        )
        if saved is None:
            return None
        self._saved = (saved.generation, saved.max_id)
        frame = _compact(saved.frame)
        linked = saved.link_generation
        return CachedIncidents(frame, saved.generation, saved.max_id, clock.now(), None, linked)

    def _save_if_behind(self, current: CachedIncidents) -> None:
        """Save the cache file after a reload, or once many rows were appended since it was saved."""
        if self.path is None:
            return
        saved = self._saved
        behind = (
            saved is None or saved[0] != current.generation or current.max_id - saved[1] >= SAVE_AFTER_ROWS
        )
        if not behind:
            return
        written = _cache_file.save(
            self.path,
            current.frame,
            store_id=_cache_key(self.store),
            generation=current.generation,
            link_generation=current.link_generation,
            max_id=current.max_id,
        )
        if written:
            self._saved = (current.generation, current.max_id)
        else:
            _log.warning("%s: cannot save the incident cache; the next start reads the store", self.path)

    def warm(self) -> threading.Thread:
        """
        Take the first snapshot in a background thread (at a server start), and return the thread.

        The first visitor's snapshot then waits for it instead of loading again. A failure is
        logged here and met again, and reported, by that visitor's own snapshot.
        """
        thread = threading.Thread(target=self._warm, name="truceline-cache-warm", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            self.snapshot()
        except Exception:  # noqa: BLE001 - a background thread: the next snapshot() raises it where it is seen
            _log.warning("warming the incident cache of %s failed", self.store.url, exc_info=True)
        finally:
            self.store.release()  # this thread ends: its connection with it

    def invalidate(self) -> None:
        """Forget the cached rows (the next snapshot reads them again: from the file if it still holds)."""
        with self._lock:
            self._snapshot = None


def _cache_key(store: Store) -> str:
    """
    What a cache file must carry to be read for this scenario of this store.

    The store's id for its default scenario (as before scenarios); the id and the scenario
    for another, whose file also has its own name (:func:`geo.services._cache_file.path_for`).
    """
    key = store.store_id()
    return key if store.scenario_id == store.using(None).scenario_id else f"{key}/{store.scenario_id}"


def window_start(now: datetime, preset: str) -> datetime | None:
    """The start of a named time window ending at ``now``: ``24h``, ``7d``, ``30d``, ``all``."""
    spans = {"24h": pd.Timedelta(hours=24), "7d": pd.Timedelta(days=7), "30d": pd.Timedelta(days=30)}
    if preset == "all":
        return None
    return cast("datetime | None", (pd.Timestamp(now) - spans[preset]).to_pydatetime())
