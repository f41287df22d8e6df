"""Pipelines that change the store: upload, reclassify, scenario load, undo, verification, link review.

One upload is one transaction: read (in chunks) → validate → normalise → dedupe →
classify → store. Every row read ends in one bucket, accepted, rejected or duplicate,
and the transaction refuses to commit if the three do not add up to the rows read. Only
the same source and event id (or, without an id, the same content) make a duplicate;
look-alikes from one source and matches across sources are kept and linked
(:mod:`geo.core.duplicates`). See docs/store.md for the rules and for how an upload is pipelined.
"""

from geo.services.ingest._batches import (
    delete_batch,
    set_grading,
    set_link_status,
    set_verification,
    undo_link_review,
)
from geo.services.ingest._common import STAGES, Progress, ReclassifySummary, UploadSummary, stage_words
from geo.services.ingest._reclassify import load_scenario_into_store, reclassify
from geo.services.ingest._stopped import committed_upload
from geo.services.ingest._upload import ingest_file, ingest_frame, scenario_bounds

__all__ = [
    "STAGES",
    "Progress",
    "ReclassifySummary",
    "UploadSummary",
    "committed_upload",
    "delete_batch",
    "ingest_file",
    "ingest_frame",
    "load_scenario_into_store",
    "reclassify",
    "scenario_bounds",
    "set_grading",
    "set_link_status",
    "set_verification",
    "stage_words",
    "undo_link_review",
]
