"""What an upload stored when its worker ended while committing, without saying.

A worker killed from outside (the out-of-memory killer, a kill after the stop's grace)
between sending COMMIT and writing its outcome leaves the page nothing to read. Its
transaction either committed or not: SQLite rolls back a transaction whose writer is gone,
and PostgreSQL finishes a COMMIT it has received whether or not its client is still there.
The store itself is then the answer, asked once any commit still in flight has ended.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from geo._errors import StoreError
from geo.services.ingest._common import UploadSummary
from geo.services.ingest._hashing import file_digest
from geo.store import Store

SETTLE_WAIT_S = 30.0
"""How long to wait for a commit still in flight (or another upload holding the store)."""


def committed_upload(store: Store, path: str, *, user_name: str, since: datetime) -> UploadSummary | None:
    """
    The summary of the batch an upload of ``path`` by ``user_name`` committed since ``since``.

    Parameters
    ----------
    store
        The store the upload was committed to (its scenario).
    path
        The uploaded file: its SHA-256 is what its batch records.
    user_name
        Who uploaded it.
    since
        When the upload's worker was started.

    Returns
    -------
    UploadSummary or None
        The batch's counts and warnings as it recorded them, or ``None`` when it stored nothing.

    Raises
    ------
    StoreError
        When a commit still in flight has not ended within :data:`SETTLE_WAIT_S`.
    """
    digest = file_digest(Path(path))
    found = _batch_of(store, digest, user_name, since)
    if found is None:
        if not store.settle_orphaned_commits(SETTLE_WAIT_S):
            msg = f"an upload is still being written to the store after {SETTLE_WAIT_S:g} s"
            raise StoreError(msg)
        found = _batch_of(store, digest, user_name, since)
    if found is None:
        return None
    batch = store.batch(found)
    return UploadSummary(
        batch.batch_id,
        batch.file_name,
        batch.format,
        batch.encoding,
        rows_read=batch.rows_read,
        accepted=batch.accepted,
        rejected=batch.rejected,
        duplicate=batch.duplicate,
        near_duplicates=batch.near_duplicates,
        lookalikes=batch.lookalikes,
        new_breaches=batch.new_breaches,
        warnings=list(batch.warnings),
        status=batch.status,
    )


def _batch_of(store: Store, digest: str, user_name: str, since: datetime) -> int | None:
    """The newest committed batch of a file (its SHA-256) by ``user_name`` started since ``since``."""
    found = store.scalar(
        "SELECT MAX(batch_id) FROM batches WHERE sha256 = ? AND user_name = ? AND started_at >= ? "
        "AND status = 'committed' AND scenario_id = ?",
        (digest, user_name, store.encode_times(pd.Series([since]))[0], store.scenario_id),
    )
    return None if found is None else int(found)
