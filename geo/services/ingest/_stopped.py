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

from geo.services.ingest._common import UploadSummary
from geo.services.ingest._hashing import file_digest
from geo.store import Store


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
    """
    digest = file_digest(Path(path))
    with store.write() as tx:
        store.lock_for_ingest(tx)  # a commit still in flight holds it until it has ended
        found = tx.scalar(
            "SELECT MAX(batch_id) FROM batches WHERE sha256 = ? AND user_name = ? AND started_at >= ? "
            "AND status = 'committed' AND scenario_id = ?",
            (digest, user_name, store.encode_times(pd.Series([since]))[0], store.scenario_id),
        )
    if found is None:
        return None
    batch = store.batch(int(found))
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
