"""The upload pipeline: one transaction, chunks staged and moved in a worker thread, then settled."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo import clock
from geo._errors import StoreError
from geo.core.auth import Principal
from geo.core.classify import PreparedScenario, classify, prepare
from geo.core.duplicates import Reports
from geo.core.model import Scenario
from geo.services.alerts._queue import queue_batch
from geo.services.ingest import _staging as staging
from geo.services.ingest._common import Progress, Upload, UploadSummary, record_batch
from geo.services.ingest._hashing import hashed
from geo.services.ingest._links import Accepted, cross_source_links, flag_links
from geo.store import Store, Tx


def run_upload(
    store: Store,
    scenario: Scenario,
    chunks: Iterable[Any],
    upload: Upload,
    *,
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
        summary = upload.summary(tx.next_id("batches", "batch_id"))
        first_id = tx.next_id("incidents", "incident_id")
        pipeline = _Pipeline(tx, prep, summary, first_id, store.encode_times(pd.Series([started]))[0])
        try:
            for chunk in chunks:
                pipeline.feed(chunk, worker, progress)
            pipeline.settle(progress)
        finally:
            pipeline.drain()  # on an error, let the worker finish before the rollback
        if summary.accepted:
            cross = cross_source_links(tx, pipeline.accepted, first_id)
            flag_links(tx, pipeline.lookalikes, cross, summary)
        if summary.accepted + summary.rejected + summary.duplicate != summary.rows_read:
            msg = (
                f"{upload.name}: internal error: accepted {summary.accepted} + rejected {summary.rejected} + "
                f"duplicate {summary.duplicate} != rows read {summary.rows_read}; nothing was stored"
            )
            raise StoreError(msg)
        record_batch(tx, summary, upload, actor=actor, started=started)
        if summary.accepted:  # the batch's alerts commit with it, or not at all
            queue_batch(tx, scenario, summary.batch_id)
        tx.touch(rewrite=False)
        progress(summary.rows_read, None, "committing")  # the last step: from here on, all or nothing
    return summary


class _Pipeline:
    """The chunk loop of :func:`run_upload`: one chunk moving in the worker, the next being prepared."""

    def __init__(
        self, tx: Tx, prep: PreparedScenario, summary: UploadSummary, first_id: int, stamp: Any
    ) -> None:
        self.tx, self.prep, self.summary, self.stamp = tx, prep, summary, stamp
        self.next_id = first_id
        self.accepted = Accepted(prep)
        self.lookalikes: list[tuple[np.ndarray, np.ndarray]] = []
        self.moving: tuple[Future[_Moved], _Staged] | None = None
        self.screen = first_id > 1  # screen chunks while duplicates are likely: the store holds rows
        _create_stage(tx)

    def feed(self, chunk: Any, worker: ThreadPoolExecutor, progress: Progress) -> None:
        """Take one chunk: prepare it while the previous one moves, then stage it and start its move."""
        tx, summary = self.tx, self.summary
        frame = hashed(chunk.frame)
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
            duplicates = _settle(moving, self.summary, self.accepted, self.lookalikes)
            self.screen = duplicates * 2 > len(moving[1].ids)
            progress(self.summary.rows_read, None, "stored")

    def drain(self) -> None:
        """Wait for the worker without accounting (the upload failed)."""
        if self.moving is not None:
            wait([self.moving[0]])
            self.moving = None


@dataclass
class _Staged:
    """One chunk, hashed, classified and encoded: ready to stage."""

    chunk: Any
    frame: pd.DataFrame
    cls: pd.DataFrame
    ids: np.ndarray
    encoded: staging.Encoded | None
    reports: Reports

    @classmethod
    def prepare(
        cls,
        chunk: Any,
        frame: pd.DataFrame,
        prep: PreparedScenario,
        first_id: int,
        encode: staging.Encode,
        accepted: Accepted,
    ) -> _Staged:
        """Classify and encode a chunk's hashed rows (no database work)."""
        ids = np.arange(first_id, first_id + len(frame), dtype=np.int64)
        if frame.empty:
            return cls(chunk, frame, pd.DataFrame(), ids, None, accepted.reports(ids, frame))
        verdicts = classify(frame, prep)
        encoded = staging.Encoded.of(ids, frame, verdicts, encode)
        return cls(chunk, frame, verdicts, ids, encoded, accepted.reports(ids, frame))

    def stage(self, tx: Tx) -> None:
        """Replace the staging tables' rows with this chunk's (then drop the encoded copy)."""
        if self.encoded is not None:
            self.encoded.stage(tx)
            self.encoded = None


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
        "WHERE i.source = k.source AND i.source_event_id = k.source_event_id AND i.scenario_id = ?",
        (tx.store.scenario_id,),
    )
    return np.unique(np.asarray([row[0] for row in rows.fetchall()], dtype=np.int64))


def _create_stage(tx: Tx) -> None:
    """The per-connection staging tables (temporary: gone with the connection)."""
    staging.create(tx)
    tx.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS stage_keys (pos {tx.store.key_type}, source TEXT, "
        "source_event_id TEXT)"
    )


_Moved = tuple[np.ndarray, np.ndarray, np.ndarray]
"""The ids of a chunk that stayed out (duplicates), and its look-alike pairs (later id, earlier id)."""


def _move_staged(tx: Tx, ids: np.ndarray, batch_id: int, ingested_at: Any) -> _Moved:
    """
    Move the staged chunk into the store; duplicates stay out.

    Then find, for each staged row, the lowest stored id with the same content hash (a
    look-alike: the hash holds the source). Rows found to be duplicates are in the answer
    too; the caller leaves them out.
    """
    moved = staging.move(tx, ids, batch_id, ingested_at)
    out = staging.stayed_out(tx) if moved != len(ids) else np.zeros(0, dtype=np.int64)
    # CROSS JOIN keeps the staged rows as the outer loop in SQLite: one index probe each.
    alike = tx.execute(
        "SELECT s.incident_id, MIN(i.incident_id) FROM stage_incidents s CROSS JOIN incidents i "
        "WHERE i.content_hash = s.content_hash AND i.incident_id < s.incident_id AND i.scenario_id = ? "
        "GROUP BY s.incident_id",
        (tx.store.scenario_id,),
    ).fetchall()
    pairs = np.asarray(alike, dtype=np.int64).reshape(-1, 2)
    return out, pairs[:, 0], pairs[:, 1]


def _settle(
    moving: tuple[Future[_Moved], _Staged],
    summary: UploadSummary,
    accepted: Accepted,
    lookalikes: list[tuple[np.ndarray, np.ndarray]],
) -> int:
    """Wait for a chunk's move, then sort its rows into accepted and duplicate; how many were duplicates."""
    future, staged = moving
    frame, verdicts, ids, reports = staged.frame, staged.cls["verdict"], staged.ids, staged.reports
    out, later, earlier = future.result()
    if len(out):  # some were duplicates
        kept = ~np.isin(ids, out)
        summary.duplicate += len(out)
        frame, verdicts, ids = frame[kept], verdicts[kept], ids[kept]
        reports = reports.take(np.isin(reports.ids, ids))
        went_in = np.isin(later, ids)
        later, earlier = later[went_in], earlier[went_in]
    summary.accepted += len(ids)
    summary.new_breaches += int((verdicts == "breach").sum())
    summary.warnings += _kept_warnings(staged.chunk, frame)
    accepted.add(reports)
    lookalikes.append((later, earlier))
    return len(out)


def _kept_warnings(chunk: Any, kept: pd.DataFrame) -> list[str]:
    """The chunk's row warnings, leaving out those of rows dropped as duplicates."""
    lines = getattr(chunk, "warning_lines", None)
    if not lines or "line_no" not in kept:
        return list(chunk.warnings)
    keep = set(kept["line_no"].tolist())
    return [w for w, line in zip(chunk.warnings, lines, strict=True) if line in keep]
