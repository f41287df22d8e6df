"""The entry points of an upload: a file (through the readers) or an already-normalised frame."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo.core.auth import OPERATOR, Principal, require
from geo.core.model import Scenario
from geo.core.names import MAX_NAME, check_name, clip, printable
from geo.io import readers
from geo.services.ingest._common import Progress, Upload, UploadSummary, no_progress, require_scenario
from geo.services.ingest._hashing import file_digest, frame_digest
from geo.services.ingest._pipeline import run_upload
from geo.services.ingest._unchanged import repeat_upload, upload_key
from geo.store import Store


def ingest_file(
    store: Store,
    source: Path | bytes,
    *,
    file_name: str | None = None,
    format: str = "auto",
    mapping: readers.ColumnMapping | None = None,
    source_name: str | None = None,
    actor: Principal = OPERATOR,
    progress: Progress = no_progress,
    now: datetime | None = None,
    encoding: str | None = None,
    dayfirst: bool | None = None,
    chunk_rows: int = readers.CHUNK_ROWS,
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
    chunk_rows
        The rows read, checked, classified and written per step (and between two progress
        reports): fewer hold less memory at once.

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
    name = clip(printable(name), MAX_NAME)  # recorded and shown: one line, bounded
    if source_name is not None:
        check_name("source", source_name, limit=64)
    scenario = require_scenario(store)
    digest = file_digest(source)
    key = upload_key(
        digest,
        scenario_key(store),
        format=format,
        mapping=mapping,
        source_name=source_name,
        encoding=encoding,
        dayfirst=dayfirst,
    )
    asked = Upload(name, digest, key, format, encoding or "", source_name or "")
    repeated = repeat_upload(store, asked, actor=actor, progress=progress)
    if repeated is not None:
        return repeated
    detected = readers.detect(
        source, format=format, mapping=mapping, name=name, encoding=encoding, dayfirst=dayfirst
    )
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
        chunk_rows=chunk_rows,
    )
    upload = replace(
        asked, format=detected.format, encoding=detected.encoding, warnings=tuple(detected.warnings)
    )
    return run_upload(store, scenario, chunks, upload, actor=actor, progress=progress)


def scenario_key(store: Store) -> str:
    """What an upload key holds of the scenario it was read against: its id and stored metadata."""
    meta = store.scenario_meta()
    return json.dumps({"id": store.scenario_id, **meta}, sort_keys=True) if meta else ""


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
    progress: Progress = no_progress,
    chunk_rows: int = readers.CHUNK_ROWS,
) -> UploadSummary:
    """
    Upload already-normalised incidents (``geo.core.model.INCIDENT_COLUMNS``) as one batch.

    Used for generated data such as the demo; files go through :func:`ingest_file`.
    """
    require(actor, "upload")
    scenario = require_scenario(store)
    frame = frame.reset_index(drop=True).assign(line_no=np.arange(2, len(frame) + 2))
    empty = pd.DataFrame(
        {"line_no": pd.Series(dtype="int64"), "reason": pd.Series(dtype=str), "raw": pd.Series(dtype=str)}
    )
    chunks = (
        _Chunk(frame.iloc[i : i + chunk_rows], empty, [], len(frame.iloc[i : i + chunk_rows]))
        for i in range(0, len(frame), chunk_rows)
    )
    digest = frame_digest(frame)
    upload = Upload(
        name,
        digest,
        upload_key(
            digest,
            scenario_key(store),
            format="frame",
            mapping=None,
            source_name=None,
            encoding=None,
            dayfirst=None,
        ),
        "frame",
        "",
        "",
    )
    repeated = repeat_upload(store, upload, actor=actor, progress=progress)
    if repeated is not None:
        return repeated
    return run_upload(store, scenario, chunks, upload, actor=actor, progress=progress)
