"""The incident cache kept in a file between server starts: Arrow IPC, memory-mapped when read.

A file holds the cached rows and what they are as of: the store's id, its generation (which
grows whenever stored incidents are rewritten or removed), its link generation and the
highest incident id. It is used only for the store it came from and only while that store's
generation is unchanged; newer incidents are then read from the store and appended. A file
that cannot be read, is of another format or another store, or is stale, is ignored (and
replaced by the next save). Saves write a temporary file beside it and rename it over the
old one, so a reader (in this process or another sharing the store) sees a whole file,
never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from geo.store import Store

FORMAT = "truceline-incident-cache/1"
"""The layout of a cache file; a file of another layout is ignored."""
_KEY = b"truceline"


@dataclass(frozen=True)
class Saved:
    """Cached rows read back from a file, and what they are as of."""

    frame: pd.DataFrame
    generation: int
    link_generation: int
    max_id: int


def default_directory() -> Path:
    """Where cache files of stores that are not files go: ``TRUCELINE_CACHE``, else the user cache."""
    given = os.environ.get("TRUCELINE_CACHE")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "truceline"


def path_for(store: Store) -> Path:
    """The cache file of a scenario of ``store``: beside a SQLite file, else by URL in the cache directory."""
    local = store.local_path()
    # One file per scenario; the default scenario keeps the name it had before scenarios.
    part = "" if store.scenario_id == store.using(None).scenario_id else f".{_safe(store.scenario_id)}"
    if local is not None:
        return local.with_name(local.name + f"{part}.incidents.arrow")
    digest = hashlib.sha256(store.url.encode()).hexdigest()[:16]
    return default_directory() / f"incidents-{digest}{part}.arrow"


def _safe(scenario_id: str) -> str:
    """A scenario id as a file name part (ids are letters, digits, ``_``, ``.`` and ``-``)."""
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in scenario_id).lstrip(".") or "_"


def load(path: Path, *, store_id: str, generation: int, columns: tuple[str, ...]) -> Saved | None:
    """
    The rows saved in ``path``, or ``None`` unless they are this store's at this generation.

    Parameters
    ----------
    path
        The cache file.
    store_id
        The store's id (:meth:`geo.store.Store.store_id`).
    generation
        The store's generation now.
    columns
        The columns the cache holds, in order.
    """
    try:
        with pa.memory_map(str(path), "r") as source:
            reader = pa.ipc.open_file(source)
            meta = json.loads((reader.schema.metadata or {}).get(_KEY, b"{}"))
            if (
                meta.get("format") != FORMAT
                or not store_id
                or meta.get("store_id") != store_id
                or meta.get("generation") != generation
                or tuple(reader.schema.names) != columns
            ):
                return None
            frame = reader.read_all().to_pandas()
        return Saved(frame, int(meta["generation"]), int(meta["link_generation"]), int(meta["max_id"]))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None  # absent, unreadable or not ours: the store is read instead


def save(
    path: Path, frame: pd.DataFrame, *, store_id: str, generation: int, link_generation: int, max_id: int
) -> bool:
    """
    Write the cached rows to ``path`` (whole, by renaming a temporary file over it).

    Returns whether it was written: a cache that cannot be saved (a read-only folder, a
    full disk) costs the next start a read of the store, nothing else.
    """
    meta = {
        "format": FORMAT,
        "store_id": store_id,
        "generation": generation,
        "link_generation": link_generation,
        "max_id": max_id,
    }
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _KEY: json.dumps(meta).encode()})
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle, pa.ipc.new_file(handle, table.schema) as writer:
            writer.write_table(table)
        Path(tmp).replace(path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False
    return True
