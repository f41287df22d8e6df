"""Digests of uploads, and each row's content hash and folded search text."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from geo.core.duplicates import content_hash, hash_event_ids
from geo.core.filters import SEARCHED, fold
from geo.store import FOLDED_COLUMNS


def file_digest(source: Path | bytes) -> str:
    """The SHA-256 of a file (a path, or its bytes), in hex."""
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with Path(source).open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def frame_digest(frame: pd.DataFrame) -> str:
    """The SHA-256 of a frame's values (not its index), in hex."""
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


def hashed(frame: pd.DataFrame) -> pd.DataFrame:
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
