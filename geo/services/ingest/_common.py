"""What the pipelines share: the progress callback, the summaries, the scenario check, zone rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo._errors import StoreError
from geo.core.model import Scenario
from geo.store import Store

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
