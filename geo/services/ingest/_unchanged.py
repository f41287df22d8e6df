"""An unchanged re-upload, recognised by its digest without reading its rows.

A file uploaded again with the same bytes (SHA-256), read with the same options against
the same scenario, gives the same rows: every one is a duplicate of the batch that
stored it, and the rows rejected then are rejected again. The answer is given at once,
unless something since could make reading it again give another answer:

- that batch was undone (its status is ``deleted``);
- some of its incidents are no longer stored;
- an upload was undone after it: rows it counted as duplicates of that upload's rows
  would now be new;
- it rejected rows for being in the future, which the clock may since have reached.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from geo import clock
from geo.core.auth import Principal
from geo.io import readers
from geo.services.ingest._common import Progress, Upload, UploadSummary, record_batch
from geo.store import Batch, Store, Tx

FUTURE_REASON = "is in the future"
"""What the readers' reason for a row dated after the present says (``geo.io.readers``)."""


def upload_key(
    digest: str,
    scenario: str,
    *,
    format: str,
    mapping: readers.ColumnMapping | None,
    source_name: str | None,
    encoding: str | None,
    dayfirst: bool | None,
) -> str:
    """
    The key of an upload: what decides its rows, besides the clock.

    Parameters
    ----------
    digest
        The file's SHA-256.
    scenario
        The stored scenario's record (``meta.scenario``: its manifest, and when it was loaded).
    format, mapping, source_name, encoding, dayfirst
        The options it is read with, as asked for (not as detected).
    """
    options: dict[str, Any] = {
        "digest": digest,
        "scenario": hashlib.sha256(scenario.encode()).hexdigest(),
        "format": format,
        "mapping": asdict(mapping) if mapping is not None else None,
        "source": source_name,
        "encoding": encoding,
        "dayfirst": dayfirst,
    }
    text = json.dumps(options, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _unchanged_since(tx: Tx, key: str) -> Batch | None:
    """The committed batch an upload with this key would repeat, or ``None`` when it must be read."""
    store = tx.store
    found = tx.scalar(
        "SELECT MAX(batch_id) FROM batches WHERE upload_key = ? AND status = 'committed'", (key,)
    )
    if found is None:
        return None
    batch = store.batch(int(found))
    # Audit entries are numbered in commit order: an undo numbered after this upload came after it.
    recorded = tx.scalar(
        "SELECT MAX(entry_id) FROM audit_log WHERE action = 'upload' AND target = ?",
        (f"batch {batch.batch_id}",),
    )
    undone_since = tx.scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'batch_delete' AND entry_id > ?", (recorded,)
    )
    if recorded is None or undone_since:
        return None
    stored = tx.scalar("SELECT COUNT(*) FROM incidents WHERE batch_id = ?", (batch.batch_id,))
    if int(stored) != batch.accepted:
        return None
    future = tx.scalar(
        f"SELECT COUNT(*) FROM rejected_rows WHERE batch_id = ? AND {store.contains('reason')}",
        (batch.batch_id, FUTURE_REASON),
    )
    return None if future else batch


def repeat_upload(
    store: Store, upload: Upload, *, actor: Principal, progress: Progress
) -> UploadSummary | None:
    """
    Record an unchanged re-upload as a batch at once; ``None`` when the file must be read.

    The batch counts the rows read and rejected by the batch it repeats, every other row
    as a duplicate, and keeps the rejected rows again under its own id.
    """
    if not upload.key:
        return None
    started = clock.now()
    with store.write() as tx:
        store.lock_for_ingest(tx)
        batch = _unchanged_since(tx, upload.key)
        if batch is None:
            return None
        summary = upload.summary(tx.next_id("batches", "batch_id"))
        summary.format, summary.encoding = batch.format, batch.encoding
        summary.rows_read, summary.rejected = batch.rows_read, batch.rejected
        summary.duplicate = batch.rows_read - batch.rejected
        summary.warnings.append(
            f"unchanged: the same file, read the same way, as batch {batch.batch_id}; every row is a "
            f"duplicate of it ({summary.duplicate:,}), the rejected rows as before ({summary.rejected:,}); "
            "nothing was read again"
        )
        tx.execute(
            "INSERT INTO rejected_rows (batch_id, line_no, reason, raw) "
            "SELECT ?, line_no, reason, raw FROM rejected_rows WHERE batch_id = ?",
            (summary.batch_id, batch.batch_id),
        )
        record_batch(tx, summary, upload, actor=actor, started=started)
        tx.touch(rewrite=False)
    progress(summary.rows_read, summary.rows_read, "unchanged")
    return summary
