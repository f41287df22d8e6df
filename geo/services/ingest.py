"""Pipelines that change the store: upload, reclassify, scenario load, undo, verification, link review.

One upload is one transaction: read (in chunks) → validate → normalise → dedupe →
classify → store. Every row read ends in one bucket, accepted, rejected or duplicate,
and the transaction refuses to commit if the three do not add up to the rows read. Only
the same source and event id (or, without an id, the same content) make a duplicate;
look-alikes from one source and matches across sources are kept and linked
(:mod:`geo.core.duplicates`). See docs/store.md for the rules and for how an upload is pipelined.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo import clock
from geo._errors import InputError, NotFoundError, StoreError
from geo.core.auth import OPERATOR, Principal, require
from geo.core.categories import vocabulary
from geo.core.classify import PreparedScenario, classify, prepare
from geo.core.duplicates import (
    CROSS_SOURCE,
    LINK_STATUSES,
    LOOKALIKE,
    MATCH_GAP_S,
    MATCH_MAX_WINDOW_S,
    UNREVIEWED,
    Reports,
    closest_per_source,
    content_hash,
    hash_event_ids,
    match_pairs,
    matchable,
)
from geo.core.filters import SEARCHED, fold
from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS, VERIFICATION_STATUSES, Scenario
from geo.io import readers
from geo.store import FOLDED_COLUMNS, Store, Tx

Progress = Callable[[int, int | None, str], None]
"""``progress(done, total, stage)``: rows done, rows expected (``None`` if unknown), stage name."""


@dataclass
class UploadSummary:
    """What happened to every row of an upload."""

    batch_id: int
    file_name: str
    format: str
    encoding: str
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    near_duplicates: int = 0
    """Rows linked to another source's report of what may be the same event."""
    lookalikes: int = 0
    """Rows that look exactly like another report of their source under another event id."""
    new_breaches: int = 0
    warnings: list[str] = field(default_factory=list)
    status: str = "committed"

    def as_json(self) -> dict[str, Any]:
        """The summary as the CLI prints it with ``--json``."""
        return asdict(self)


@dataclass(frozen=True)
class ReclassifySummary:
    """How many incidents were reclassified, and how many verdicts changed."""

    total: int
    changed: int


def _noop(done: int, total: int | None, stage: str) -> None:
    del done, total, stage


def _file_digest(source: Path | bytes) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with Path(source).open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def _zone_links(ids: np.ndarray, zones: pd.Series) -> dict[str, list[Any]]:
    """``zone_id``, ``incident_id`` columns: one row per zone an incident is in, in key order."""
    codes, uniques = pd.factorize(zones.astype(object).fillna(""))
    zone_codes: dict[str, int] = {}
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for code, value in enumerate(uniques):
        if value:
            rows = ids[codes == code]
            for zone_id in str(value).split(";"):
                zc = zone_codes.setdefault(zone_id, len(zone_codes))
                parts.append((np.full(len(rows), zc), rows))
    if not parts:
        return {}
    zc_all = np.concatenate([z for z, _ in parts])
    id_all = np.concatenate([i for _, i in parts])
    order = np.lexsort((id_all, zc_all))
    names = np.array(list(zone_codes), dtype=object)
    return {"zone_id": names[zc_all[order]].tolist(), "incident_id": id_all[order].tolist()}


_US = 1_000_000


@dataclass
class _Accepted:
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
    return np.where(np.isfinite(given) & (given >= 0), given, radius)


_MATCH_WINDOW = 250_000
"""New incidents searched for cross-source matches at a time (bounds the search's memory)."""


def _micros(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values, utc=True).to_numpy(dtype="datetime64[us]").view(np.int64)


def _stored_near(tx: Tx, starts: np.ndarray, pad: int, before_id: int, acc: _Accepted) -> Reports:
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
        "WHERE i.occurred_at >= w.lo AND i.occurred_at <= w.hi AND i.incident_id < ?",
        (int(before_id),),
    )
    old = old.drop_duplicates("incident_id")  # windows may overlap once widened
    reports = acc.reports(old["incident_id"].to_numpy(dtype=np.int64), old)
    span = np.searchsorted(lo, reports.start, side="right") - 1  # the spans are sorted and apart
    inside = (span >= 0) & (reports.start <= hi[np.maximum(span, 0)])
    return reports.take(inside)


def _cross_source_links(
    tx: Tx, acc: _Accepted, first_id: int
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
        return (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),) * 2  # type: ignore[return-value]
    return tuple(np.concatenate([f[k] for f in found]) for k in range(4))  # type: ignore[return-value]


def _require_scenario(store: Store) -> Scenario:
    scenario = store.scenario()
    if scenario is None:
        hint = "run `python -m geo scenario load PATH` or `python -m geo demo`"
        msg = f"{store.url}: no scenario loaded ({hint})"
        raise StoreError(msg)
    return scenario


def ingest_file(
    store: Store,
    source: Path | bytes,
    *,
    file_name: str | None = None,
    format: str = "auto",
    mapping: readers.ColumnMapping | None = None,
    source_name: str | None = None,
    actor: Principal = OPERATOR,
    progress: Progress = _noop,
    now: datetime | None = None,
    encoding: str | None = None,
    dayfirst: bool | None = None,
) -> UploadSummary:
    """
    Upload one incident file as one batch, in one transaction.

    Parameters
    ----------
    store
        The store; it must hold a scenario.
    source
        A path, or the file's bytes.
    file_name
        The name to record (default: the path's name).
    format, mapping, source_name
        As for :func:`geo.io.readers.read_incidents`.
    actor
        Who uploads (needs the ``upload`` permission).
    progress
        Called after each chunk.
    now
        The present, for rejecting future dates (default: now).
    encoding, dayfirst
        The file's encoding and the day/month order of its dates, instead of deciding
        them from the file; the ones used are in the summary (``encoding``).

    Returns
    -------
    UploadSummary

    Raises
    ------
    ReaderError
        When the file cannot be read at all. Bad rows are not errors.
    """
    require(actor, "upload")
    name = file_name or (Path(source).name if not isinstance(source, bytes) else "upload.csv")
    detected = readers.detect(
        source, format=format, mapping=mapping, name=name, encoding=encoding, dayfirst=dayfirst
    )
    scenario = _require_scenario(store)
    chunks = readers.read_incidents(
        source,
        format=detected.format,
        encoding=detected.encoding,
        dayfirst=detected.dayfirst,
        mapping=mapping,
        source_name=source_name,
        party_mapping=scenario.party_mapping,
        now=now,
        name=name,
        parties={p.id for p in scenario.parties},
        bbox=scenario_bounds(scenario),
    )
    return _upload(
        store,
        scenario,
        chunks,
        name=name,
        digest=_file_digest(source),
        fmt=detected.format,
        encoding=detected.encoding,
        warnings=list(detected.warnings),
        source_name=source_name or "",
        actor=actor,
        progress=progress,
    )


def scenario_bounds(scenario: Scenario) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the scenario's lines and zones, in degrees."""
    geoms = [ln.geometry for ln in scenario.lines] + [z.geometry for z in scenario.zones]
    west, south, east, north = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return float(west), float(south), float(east), float(north)


@dataclass
class _Chunk:
    frame: pd.DataFrame
    rejected: pd.DataFrame
    warnings: list[str]
    rows_read: int


def ingest_frame(
    store: Store,
    frame: pd.DataFrame,
    *,
    name: str,
    actor: Principal = OPERATOR,
    progress: Progress = _noop,
    chunk_rows: int = 100_000,
) -> UploadSummary:
    """
    Upload already-normalised incidents (``geo.core.model.INCIDENT_COLUMNS``) as one batch.

    Used for generated data such as the demo; files go through :func:`ingest_file`.
    """
    require(actor, "upload")
    scenario = _require_scenario(store)
    frame = frame.reset_index(drop=True).assign(line_no=np.arange(2, len(frame) + 2))
    empty = pd.DataFrame(
        {"line_no": pd.Series(dtype="int64"), "reason": pd.Series(dtype=str), "raw": pd.Series(dtype=str)}
    )
    chunks = (
        _Chunk(frame.iloc[i : i + chunk_rows], empty, [], len(frame.iloc[i : i + chunk_rows]))
        for i in range(0, len(frame), chunk_rows)
    )
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
    return _upload(
        store,
        scenario,
        chunks,
        name=name,
        digest=digest,
        fmt="frame",
        encoding="",
        warnings=[],
        source_name="",
        actor=actor,
        progress=progress,
    )


def _upload(
    store: Store,
    scenario: Scenario,
    chunks: Iterable[Any],
    *,
    name: str,
    digest: str,
    fmt: str,
    encoding: str,
    warnings: list[str],
    source_name: str,
    actor: Principal,
    progress: Progress,
) -> UploadSummary:
    """
    Write an upload in one transaction, as a two-stage pipeline.

    Each chunk is hashed, classified and encoded in this thread, then staged in a
    temporary table; one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` moves it into
    ``incidents`` in a worker thread (the database works without holding the GIL) while
    this thread prepares the next chunk. The unique keys drop duplicates, of stored rows
    and of rows earlier in the upload, as the rows go in; reading back which ids arrived
    tells each row's bucket. The worker never runs while this thread uses the connection.

    While duplicates dominate (a re-upload), chunks are first screened by their keys and
    only the new rows are classified and staged.
    """
    prep = prepare(scenario)
    started = clock.now()
    with store.write() as tx, store.bulk(tx), ThreadPoolExecutor(1, "truceline-ingest") as worker:
        store.lock_for_ingest(tx)
        summary = UploadSummary(tx.next_id("batches", "batch_id"), name, fmt, encoding, warnings=warnings)
        first_id = tx.next_id("incidents", "incident_id")
        pipeline = _Pipeline(tx, prep, summary, first_id, store.encode_times(pd.Series([started]))[0])
        try:
            for chunk in chunks:
                pipeline.feed(chunk, worker, progress)
            pipeline.settle(progress)
        finally:
            pipeline.drain()  # on an error, let the worker finish before the rollback
        if summary.accepted:
            cross = _cross_source_links(tx, pipeline.accepted, first_id)
            _flag_links(tx, pipeline.lookalikes, cross, summary)
        if summary.accepted + summary.rejected + summary.duplicate != summary.rows_read:
            msg = (
                f"{name}: internal error: accepted {summary.accepted} + rejected {summary.rejected} + "
                f"duplicate {summary.duplicate} != rows read {summary.rows_read}; nothing was stored"
            )
            raise StoreError(msg)
        _record_batch(tx, summary, actor=actor, digest=digest, source_name=source_name, started=started)
        tx.touch(rewrite=False)
    return summary


class _Pipeline:
    """The chunk loop of :func:`_upload`: one chunk moving in the worker, the next being prepared."""

    def __init__(
        self, tx: Tx, prep: PreparedScenario, summary: UploadSummary, first_id: int, stamp: Any
    ) -> None:
        self.tx, self.prep, self.summary, self.stamp = tx, prep, summary, stamp
        self.next_id = first_id
        self.accepted = _Accepted(prep)
        self.lookalikes: list[tuple[np.ndarray, np.ndarray]] = []
        self.moving: tuple[Future[_Moved], _Staged] | None = None
        self.screen = first_id > 1  # screen chunks while duplicates are likely: the store holds rows
        _create_stage(tx)

    def feed(self, chunk: Any, worker: ThreadPoolExecutor, progress: Progress) -> None:
        """Take one chunk: prepare it while the previous one moves, then stage it and start its move."""
        tx, summary = self.tx, self.summary
        frame = _hashed(chunk.frame)
        staged = None if self.screen else self._prepare(chunk, frame)
        self.settle(progress)
        summary.rows_read += chunk.rows_read
        if len(chunk.rejected):
            rejected = chunk.rejected.assign(batch_id=summary.batch_id)
            tx.bulk_insert("rejected_rows", rejected[["batch_id", "line_no", "reason", "raw"]])
            summary.rejected += len(chunk.rejected)
        if staged is None:
            stored = _stored_duplicates(tx, frame)
            summary.duplicate += len(stored)
            self.screen = len(stored) * 2 > len(frame)
            staged = self._prepare(chunk, frame.drop(index=stored).reset_index(drop=True))
        if not len(staged.ids):
            summary.warnings += _kept_warnings(chunk, staged.frame)
            progress(summary.rows_read, None, "read")
            return
        staged.stage(tx)
        self.moving = (worker.submit(_move_staged, tx, staged.ids, summary.batch_id, self.stamp), staged)

    def _prepare(self, chunk: Any, frame: pd.DataFrame) -> _Staged:
        staged = _Staged.prepare(chunk, frame, self.prep, self.next_id, self.tx.store.encode, self.accepted)
        self.next_id += len(staged.ids)
        return staged

    def settle(self, progress: Progress) -> None:
        """Account for the chunk that is moving, once it has moved."""
        if self.moving is not None:
            moving, self.moving = self.moving, None
            duplicates = _settle(self.tx, moving, self.summary, self.accepted, self.lookalikes)
            self.screen = duplicates * 2 > len(moving[1].ids)
            progress(self.summary.rows_read, None, "stored")

    def drain(self) -> None:
        """Wait for the worker without accounting (the upload failed)."""
        if self.moving is not None:
            wait([self.moving[0]])
            self.moving = None


def _record_batch(
    tx: Tx, summary: UploadSummary, *, actor: Principal, digest: str, source_name: str, started: datetime
) -> None:
    """The upload's audit record: its batch row and an audit-log entry."""
    tx.bulk_insert(
        "batches",
        pd.DataFrame(
            [
                {
                    "batch_id": summary.batch_id,
                    "user_name": actor.name,
                    "file_name": summary.file_name,
                    "sha256": digest,
                    "format": summary.format,
                    "encoding": summary.encoding,
                    "source": source_name,
                    "rows_read": summary.rows_read,
                    "accepted": summary.accepted,
                    "rejected": summary.rejected,
                    "duplicate": summary.duplicate,
                    "near_duplicates": summary.near_duplicates,
                    "lookalikes": summary.lookalikes,
                    "new_breaches": summary.new_breaches,
                    "warnings": json.dumps(summary.warnings[:1000]),
                    "status": "committed",
                    "started_at": started,
                    "finished_at": clock.now(),
                }
            ]
        ),
    )
    tx.audit(
        actor,
        "upload",
        f"batch {summary.batch_id}",
        {},
        {
            "file": summary.file_name,
            "sha256": digest,
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "duplicate": summary.duplicate,
        },
    )


_UPLOAD_CONSTANTS = {"batch_id": "?", "ingested_at": "?"}
"""Stored columns that are the same for every row of an upload: bound once, not staged."""


@dataclass
class _Staged:
    """One chunk, hashed, classified and encoded: ready to stage."""

    chunk: Any
    frame: pd.DataFrame
    cls: pd.DataFrame
    ids: np.ndarray
    columns: dict[str, list[Any]]
    links: dict[str, list[Any]]
    reports: Reports

    @classmethod
    def prepare(
        cls,
        chunk: Any,
        frame: pd.DataFrame,
        prep: PreparedScenario,
        first_id: int,
        encode: Callable[[pd.DataFrame], dict[str, list[Any]]],
        accepted: _Accepted,
    ) -> _Staged:
        """Classify and encode a chunk's hashed rows (no database work)."""
        ids = np.arange(first_id, first_id + len(frame), dtype=np.int64)
        if frame.empty:
            return cls(chunk, frame, pd.DataFrame(), ids, {}, {}, accepted.reports(ids, frame))
        verdicts = classify(frame, prep)
        columns = {
            "incident_id": ids.tolist(),
            **encode(frame[[*INCIDENT_COLUMNS, "content_hash", *FOLDED_COLUMNS]]),
            **encode(verdicts[list(CLASSIFICATION_COLUMNS)]),
        }
        links = _zone_links(ids, verdicts["zones"])
        return cls(chunk, frame, verdicts, ids, columns, links, accepted.reports(ids, frame))

    def stage(self, tx: Tx) -> None:
        """Replace the staging tables' rows with this chunk's (then drop the encoded copy)."""
        tx.execute("DELETE FROM stage_incidents")
        tx.execute("DELETE FROM stage_zones")
        tx.insert_columns("stage_incidents", self.columns)
        tx.insert_columns("stage_zones", self.links)
        self.columns, self.links = {}, {}


def _hashed(frame: pd.DataFrame) -> pd.DataFrame:
    """
    The rows with their content hash and folded search text.

    A row without an event id is keyed by its content instead: ``sha:`` and the start of
    its hash (:func:`geo.core.duplicates.hash_event_ids`).
    """
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return frame.assign(**{c: pd.Series(dtype=str) for c in ("content_hash", *FOLDED_COLUMNS)})
    frame["content_hash"] = content_hash(frame)
    missing_id = (frame["source_event_id"].fillna("") == "").to_numpy()
    if missing_id.any():
        frame.loc[missing_id, "source_event_id"] = hash_event_ids(frame.loc[missing_id, "content_hash"])
    for column in SEARCHED:
        frame[f"{column}_folded"] = fold(frame[column])
    return frame


def _stored_duplicates(tx: Tx, frame: pd.DataFrame) -> np.ndarray:
    """Positions of rows whose source and event id are already stored (or written in ``tx``)."""
    if frame.empty:
        return np.zeros(0, dtype=np.int64)
    tx.execute("DELETE FROM stage_keys")
    keys = tx.store.encode(frame[["source", "source_event_id"]])
    tx.insert_columns("stage_keys", {"pos": list(range(len(frame))), **keys})
    tx.store.analyze(tx, "stage_keys")
    # CROSS JOIN keeps the keys as the outer loop in SQLite: one index probe each.
    rows = tx.execute(
        "SELECT k.pos FROM stage_keys k CROSS JOIN incidents i "
        "WHERE i.source = k.source AND i.source_event_id = k.source_event_id"
    )
    return np.unique(np.asarray([row[0] for row in rows.fetchall()], dtype=np.int64))


def _create_stage(tx: Tx) -> None:
    """The per-connection staging tables (temporary: gone with the connection)."""
    columns = ", ".join(f"{c} {tx.store.column_type(c)}" for c in _STORED if c not in _UPLOAD_CONSTANTS)
    tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS stage_incidents ({columns})")
    tx.execute("CREATE TEMP TABLE IF NOT EXISTS stage_zones (zone_id TEXT, incident_id BIGINT)")
    tx.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS stage_keys (pos {tx.store.key_type}, source TEXT, "
        "source_event_id TEXT)"
    )


_Moved = tuple[int, np.ndarray, np.ndarray]
"""How many rows of a chunk went in, and its look-alike pairs (later id, earlier id)."""


def _move_staged(tx: Tx, ids: np.ndarray, batch_id: int, ingested_at: Any) -> _Moved:
    """
    Move the staged chunk into the store; duplicates stay out.

    Then find, for each staged row, the lowest stored id with the same content hash (a
    look-alike: the hash holds the source). Rows found to be duplicates are in the answer
    too; the caller leaves them out.
    """
    picked = ", ".join(_UPLOAD_CONSTANTS.get(c, c) for c in _STORED)
    moved = tx.execute(
        f"INSERT INTO incidents ({', '.join(_STORED)}) SELECT {picked} FROM stage_incidents "
        "WHERE true ORDER BY incident_id ON CONFLICT DO NOTHING",
        (int(batch_id), ingested_at),
    ).rowcount
    links = (
        "INSERT INTO incident_zones (zone_id, incident_id) SELECT z.zone_id, z.incident_id FROM stage_zones z"
    )
    if moved == len(ids):
        tx.execute(links)
    else:  # only the links of incidents that went in
        tx.execute(
            f"{links} WHERE EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = z.incident_id "
            "AND i.incident_id >= ? AND i.incident_id <= ?)",
            (int(ids[0]), int(ids[-1])),
        )
    # CROSS JOIN keeps the staged rows as the outer loop in SQLite: one index probe each.
    alike = tx.execute(
        "SELECT s.incident_id, MIN(i.incident_id) FROM stage_incidents s CROSS JOIN incidents i "
        "WHERE i.content_hash = s.content_hash AND i.incident_id < s.incident_id GROUP BY s.incident_id"
    ).fetchall()
    pairs = np.asarray(alike, dtype=np.int64).reshape(-1, 2)
    return int(moved), pairs[:, 0], pairs[:, 1]


def _settle(
    tx: Tx,
    moving: tuple[Future[_Moved], _Staged],
    summary: UploadSummary,
    accepted: _Accepted,
    lookalikes: list[tuple[np.ndarray, np.ndarray]],
) -> int:
    """Wait for a chunk's move, then sort its rows into accepted and duplicate; how many were duplicates."""
    future, staged = moving
    frame, verdicts, ids, reports = staged.frame, staged.cls["verdict"], staged.ids, staged.reports
    moved, later, earlier = future.result()
    if moved != len(ids):  # some were duplicates: which ids went in?
        bounds = (int(ids[0]), int(ids[-1]))
        rows = tx.execute(
            "SELECT incident_id FROM incidents WHERE incident_id >= ? AND incident_id <= ?", bounds
        )
        kept = np.isin(ids, np.array([r[0] for r in rows.fetchall()], dtype=np.int64))
        summary.duplicate += int((~kept).sum())
        frame, verdicts, ids = frame[kept], verdicts[kept], ids[kept]
        reports = reports.take(np.isin(reports.ids, ids))
        went_in = np.isin(later, ids)
        later, earlier = later[went_in], earlier[went_in]
    summary.accepted += len(ids)
    summary.new_breaches += int((verdicts == "breach").sum())
    summary.warnings += _kept_warnings(staged.chunk, frame)
    accepted.add(reports)
    lookalikes.append((later, earlier))
    return len(staged.ids) - moved


def _kept_warnings(chunk: Any, kept: pd.DataFrame) -> list[str]:
    """The chunk's row warnings, leaving out those of rows dropped as duplicates."""
    lines = getattr(chunk, "warning_lines", None)
    if not lines or "line_no" not in kept:
        return list(chunk.warnings)
    keep = set(kept["line_no"].tolist())
    return [w for w, line in zip(chunk.warnings, lines, strict=True) if line in keep]


def _flag_links(
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


_STORED = (
    "incident_id",
    *INCIDENT_COLUMNS,
    "content_hash",
    "batch_id",
    "ingested_at",
    *CLASSIFICATION_COLUMNS,
    *FOLDED_COLUMNS,
)

_CLASSIFY_INPUT = (
    "incident_id",
    "occurred_at",
    "occurred_from",
    "occurred_to",
    "lon",
    "lat",
    "location_precision",
    "location_uncertainty_m",
    "category",
    "weapon_class",
    "party",
    "verdict",
)


def _reclassify_in(
    tx: Tx, scenario: Scenario, progress: Progress, chunk_rows: int = 200_000
) -> ReclassifySummary:
    prep = prepare(scenario)
    total = int(tx.scalar("SELECT COUNT(*) FROM incidents"))
    done = changed = 0
    last = 0
    tx.execute("DELETE FROM incident_zones")
    tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS new_classification ({', '.join(CLASSIFICATION_UPDATE_DDL)})")
    while True:
        frame = tx.frame(
            f"SELECT {', '.join(_CLASSIFY_INPUT)} FROM incidents WHERE incident_id > ? "
            f"ORDER BY incident_id LIMIT {chunk_rows}",
            (last,),
        )
        if frame.empty:
            break
        last = int(frame["incident_id"].iloc[-1])
        cls = classify(frame, prep)
        changed += int(
            (cls["verdict"].astype(str).to_numpy() != frame["verdict"].astype(str).to_numpy()).sum()
        )
        update = pd.concat([frame[["incident_id"]], cls], axis=1)
        tx.execute("DELETE FROM new_classification")
        tx.bulk_insert("new_classification", update)
        sets = ", ".join(f"{c} = n.{c}" for c in CLASSIFICATION_COLUMNS)
        ids = frame["incident_id"].to_numpy(dtype=np.int64)
        # The id range keeps SQLite from scanning the whole table for each chunk.
        tx.execute(
            f"UPDATE incidents SET {sets} FROM new_classification n "
            "WHERE incidents.incident_id = n.incident_id "
            "AND incidents.incident_id >= ? AND incidents.incident_id <= ?",
            (int(ids[0]), int(ids[-1])),
        )
        tx.insert_columns("incident_zones", _zone_links(ids, cls["zones"]))
        done += len(frame)
        progress(done, total, "reclassified")
    tx.touch(rewrite=True)
    return ReclassifySummary(total=done, changed=changed)


CLASSIFICATION_UPDATE_DDL = (
    "incident_id BIGINT PRIMARY KEY",
    "zones TEXT",
    "nearest_line TEXT",
    "distance_m DOUBLE PRECISION",
    "side TEXT",
    "side_party TEXT",
    "attributed_party TEXT",
    "attribution TEXT",
    "verdict TEXT",
    "rules TEXT",
    "verdict_reason TEXT",
)


def reclassify(store: Store, *, actor: Principal = OPERATOR, progress: Progress = _noop) -> ReclassifySummary:
    """Recompute every stored classification against the stored scenario, in one transaction."""
    require(actor, "reclassify")
    scenario = _require_scenario(store)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        result = _reclassify_in(tx, scenario, progress)
        tx.audit(actor, "reclassify", "incidents", {}, {"total": result.total, "changed": result.changed})
    return result


def load_scenario_into_store(
    store: Store,
    scenario: Scenario,
    *,
    manifest: str = "",
    actor: Principal = OPERATOR,
    progress: Progress = _noop,
) -> ReclassifySummary:
    """Replace the stored scenario and reclassify every incident, in one transaction."""
    require(actor, "edit_scenario")
    before = store.scenario()
    with store.write() as tx:
        store.lock_for_ingest(tx)
        store.save_scenario(tx, scenario, manifest=manifest)
        result = _reclassify_in(tx, scenario, progress)
        tx.audit(actor, "scenario_load", scenario.name, _scenario_digest(before), _scenario_digest(scenario))
    return result


def _scenario_digest(scenario: Scenario | None) -> dict[str, Any]:
    if scenario is None:
        return {}
    return {
        "name": scenario.name,
        "zones": {
            z.id: {
                "kind": z.kind,
                "valid_from": str(z.valid_from),
                "valid_to": str(z.valid_to),
                "width_m": z.width_m,
                "side": z.side,
                "wkb_sha256": hashlib.sha256(z.geometry.wkb).hexdigest()[:16],
            }
            for z in scenario.zones
        },
        "rules": {
            r.id: {
                "zone": r.zone,
                "prohibits": list(r.prohibits),
                "parties": list(r.parties),
                "severity": r.severity,
                "text": r.text,
            }
            for r in scenario.rules
        },
    }


def delete_batch(store: Store, batch_id: int, *, actor: Principal | None = OPERATOR) -> int:
    """
    Undo an upload: remove its incidents and mark it deleted. Returns how many were removed.

    Analysts may undo their own uploads; admins any.
    """
    batch = store.batch(batch_id)
    if actor is None or batch.user_name != actor.name or not actor.can("undo_own_batch"):
        require(actor, "undo_any_batch")
    if batch.status == "deleted":
        msg = f"batch {batch_id}: already deleted"
        raise NotFoundError(msg)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        removed = int(tx.scalar("SELECT COUNT(*) FROM incidents WHERE batch_id = ?", (batch_id,)))
        tx.execute(
            "DELETE FROM incident_zones WHERE incident_id IN "
            "(SELECT incident_id FROM incidents WHERE batch_id = ?)",
            (batch_id,),
        )
        mine = "IN (SELECT incident_id FROM incidents WHERE batch_id = ?)"
        unlinked = tx.execute(
            f"DELETE FROM incident_links WHERE incident_id {mine} OR other_id {mine}", (batch_id, batch_id)
        ).rowcount
        if unlinked:
            store.regroup(tx)
        tx.execute("DELETE FROM incidents WHERE batch_id = ?", (batch_id,))
        tx.execute("UPDATE batches SET status = 'deleted' WHERE batch_id = ?", (batch_id,))
        tx.audit(
            actor,
            "batch_delete",
            f"batch {batch_id}",
            {"status": batch.status, "incidents": removed},
            {"status": "deleted", "incidents": 0},
        )
        tx.touch(rewrite=True)
    return removed


def set_verification(
    store: Store, incident_id: int, status: str, *, actor: Principal = OPERATOR, note: str = ""
) -> None:
    """Change an incident's verification status, recording who, when and why."""
    require(actor, "verify")
    if status not in VERIFICATION_STATUSES:
        msg = f"verification: must be one of {', '.join(VERIFICATION_STATUSES)}, got {status!r}"
        raise InputError(msg)
    old = str(store.incident(incident_id)["verification"])
    if old == status:
        return
    with store.write() as tx:
        tx.execute("UPDATE incidents SET verification = ? WHERE incident_id = ?", (status, int(incident_id)))
        tx.bulk_insert(
            "verification_log",
            pd.DataFrame(
                [
                    {
                        "incident_id": int(incident_id),
                        "old": old,
                        "new": status,
                        "user_name": actor.name,
                        "at": clock.now(),
                        "note": note,
                    }
                ]
            ),
        )
        tx.audit(
            actor,
            "verification",
            f"incident {incident_id}",
            {"verification": old},
            {"verification": status, "note": note},
        )
        tx.touch(rewrite=True)


def set_link_status(
    store: Store,
    incident_id: int,
    other_id: int,
    status: str,
    *,
    actor: Principal = OPERATOR,
    note: str = "",
) -> None:
    """
    Review a link between two reports: ``same_event``, ``different_events`` or back to ``unreviewed``.

    The link records who reviewed it and when, the audit log keeps every change, and the
    groups that counts of incidents count once follow at once (:func:`geo.core.duplicates.groups`).

    Parameters
    ----------
    store
        The store.
    incident_id, other_id
        The two linked incidents, in either order.
    status
        One of :data:`geo.core.duplicates.LINK_STATUSES`.
    actor
        Who reviews (needs the ``verify`` permission).
    note
        Why, in a sentence.
    """
    require(actor, "verify")
    if status not in LINK_STATUSES:
        msg = f"status: must be one of {', '.join(LINK_STATUSES)}, got {status!r}"
        raise InputError(msg)
    later, earlier = max(int(incident_id), int(other_id)), min(int(incident_id), int(other_id))
    with store.write() as tx:
        store.lock_for_ingest(tx)
        old = tx.scalar(
            "SELECT status FROM incident_links WHERE incident_id = ? AND other_id = ?", (later, earlier)
        )
        if old is None:
            msg = f"incidents {earlier} and {later}: not linked"
            raise NotFoundError(msg)
        if old == status:
            return
        reviewed = status != UNREVIEWED
        tx.execute(
            "UPDATE incident_links SET status = ?, reviewed_by = ?, reviewed_at = ?, note = ? "
            "WHERE incident_id = ? AND other_id = ?",
            (
                status,
                actor.name if reviewed else "",
                store.encode_times(pd.Series([clock.now()]))[0] if reviewed else None,
                note,
                later,
                earlier,
            ),
        )
        store.regroup(tx)
        tx.audit(
            actor,
            "link_review",
            f"incidents {earlier} and {later}",
            {"status": old},
            {"status": status, "note": note},
        )
        tx.touch(rewrite=False)
