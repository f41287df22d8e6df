"""What the pipelines share: the progress callback, the summaries, the scenario check, zone rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from geo import clock
from geo._errors import StoreError
from geo.core.auth import Principal
from geo.core.model import Scenario
from geo.i18n import N_, _
from geo.store import Store, Tx

Progress = Callable[[int, int | None, str], None]
"""
``progress(done, total, stage)``: rows done, rows expected (``None`` if unknown), stage name.

An upload's stages are ``read`` (a chunk read, all of it already stored), ``stored`` (a
chunk written), ``unchanged`` (the file was uploaded before: nothing to do) and, once
every row is written, ``committing`` (the transaction commits next); a reclassification
reports ``reclassified``; an upload's check (:mod:`geo.services._upload_worker`) reports
``detecting`` and ``checking``. What a user reads for each: :func:`stage_words`.
"""
STAGES = {
    "starting": N_("starting"),
    "detecting": N_("detecting the format"),
    "checking": N_("reading and checking rows"),
    "read": N_("rows read"),
    "stored": N_("rows stored"),
    "committing": N_("committing"),
    "unchanged": N_("unchanged: uploaded before"),
    "reclassified": N_("reclassified"),
}
"""Progress stage -> its words (a message id)."""


def stage_words(stage: str) -> str:
    """A progress stage in the current language's words (an unknown stage as it is)."""
    return _(STAGES[stage]) if stage in STAGES else stage


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
class Upload:
    """What is uploaded, as its batch records it."""

    name: str
    """The file name."""
    digest: str
    """The SHA-256 of the file (of the frame's values, for a frame), in hex."""
    key: str
    """The digest with the options the rows are read with and the scenario they are read against
    (:func:`geo.services.ingest._unchanged.upload_key`); empty when it is never to be matched."""
    format: str
    encoding: str
    source_name: str
    warnings: tuple[str, ...] = ()
    """The file's warnings (format, encoding, dates), before any row's."""

    def summary(self, batch_id: int) -> UploadSummary:
        """An empty summary of this upload as batch ``batch_id``."""
        return UploadSummary(batch_id, self.name, self.format, self.encoding, warnings=list(self.warnings))


@dataclass(frozen=True)
class ReclassifySummary:
    """How many incidents were reclassified, and how many verdicts changed."""

    total: int
    changed: int


def no_progress(done: int, total: int | None, stage: str) -> None:
    """A progress callback that ignores the progress."""
    del done, total, stage


def require_scenario(store: Store) -> Scenario:
    """The stored scenario; a :class:`StoreError` saying how to load one when there is none."""
    scenario = store.scenario()
    if scenario is None:
        hint = "run `python -m geo scenario load PATH` or `python -m geo demo`"
        msg = f"{store.url}: no scenario loaded ({hint})"
        raise StoreError(msg)
    return scenario


def zone_links(ids: np.ndarray, zones: pd.Series) -> dict[str, list[Any]]:
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


def record_batch(
    tx: Tx, summary: UploadSummary, upload: Upload, *, actor: Principal, started: datetime
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
                    "sha256": upload.digest,
                    "format": summary.format,
                    "encoding": summary.encoding,
                    "source": upload.source_name,
                    "rows_read": summary.rows_read,
                    "accepted": summary.accepted,
                    "rejected": summary.rejected,
                    "duplicate": summary.duplicate,
                    "near_duplicates": summary.near_duplicates,
                    "lookalikes": summary.lookalikes,
                    "new_breaches": summary.new_breaches,
                    "warnings": json.dumps(summary.warnings[:1000]),
                    "status": "committed",
                    "upload_key": upload.key,
                    "started_at": started,
                    "finished_at": clock.now(),
                    "scenario_id": tx.store.scenario_id,
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
            "sha256": upload.digest,
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "duplicate": summary.duplicate,
        },
    )
