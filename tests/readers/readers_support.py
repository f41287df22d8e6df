"""Helpers shared by the incident reader tests."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from geo.core.model import INCIDENT_COLUMNS
from geo.io.readers import ReadChunk, read_incidents

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "readers"
TEMPLATES = ROOT / "data" / "templates"
NOW = datetime(2025, 1, 1, tzinfo=UTC)
"""A fixed "now" so that future-date checks do not depend on the clock."""


def korea_party_mapping() -> tuple[tuple[str, str, str], ...]:
    """The demo scenario's party mapping, read straight from its CSV."""
    path = ROOT / "data" / "scenarios" / "korea" / "party_mapping.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple((r["pattern"], r["match"], r["party"]) for r in csv.DictReader(handle))


ACLED_PARTIES = (
    ("Military Forces of North Korea", "icontains", "north"),
    ("Military Forces of South Korea", "icontains", "south"),
)
"""Only the armed forces: ACLED names civilians and protesters with a country suffix too."""

UCDP_PARTIES = (
    ("Government of Russia (Soviet Union)", "exact", "ru"),
    ("Government of Ukraine", "exact", "ua"),
)


@dataclass
class Result:
    """Every chunk of one read, concatenated."""

    frame: pd.DataFrame
    rejected: pd.DataFrame
    warnings: list[str]
    rows_read: int
    chunks: list[ReadChunk]

    def row(self, event_id: str) -> pd.Series:
        """The accepted row with this source event id."""
        hit = self.frame[self.frame["source_event_id"] == event_id]
        assert len(hit) == 1, f"{event_id}: {len(hit)} rows"
        return hit.iloc[0]

    def reason(self, line_no: int) -> str:
        """The reject reason of the record starting on ``line_no``."""
        hit = self.rejected[self.rejected["line_no"] == line_no]
        assert len(hit) == 1, f"line {line_no}: {len(hit)} rejected rows"
        return str(hit["reason"].iloc[0])


def collect(chunks: list[ReadChunk]) -> Result:
    """Concatenate chunks, checking the per-chunk invariants on the way."""
    for chunk in chunks:
        assert len(chunk.frame) + len(chunk.rejected) == chunk.rows_read
        assert list(chunk.frame.columns) == [*INCIDENT_COLUMNS, "line_no"]
        assert list(chunk.rejected.columns) == ["line_no", "reason", "raw"]
        assert len(chunk.warnings) == len(chunk.warning_lines)
    frames = [c.frame for c in chunks]
    rejected = [c.rejected for c in chunks]
    return Result(
        frame=pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            {k: pd.Series(dtype=v) for k, v in {**INCIDENT_COLUMNS, "line_no": "int64"}.items()}),
        rejected=pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(
            {"line_no": pd.Series([], dtype="int64"), "reason": pd.Series([], dtype="str"),
             "raw": pd.Series([], dtype="str")}),
        warnings=[w for c in chunks for w in c.warnings],
        rows_read=sum(c.rows_read for c in chunks),
        chunks=chunks,
    )


TEMPLATE_HEADER = ("event_id,occurred_at,lat,lon,category,actor,party,location_precision,"
                   "location_uncertainty_m,fatalities,verification,source,description")


def template_csv(*rows: str, header: str = TEMPLATE_HEADER, newline: str = "\n") -> bytes:
    """A template CSV from raw row lines."""
    return (newline.join([header, *rows]) + newline).encode("utf-8")


def read_all(source: str | Path | bytes, **kwargs: object) -> Result:
    """Read a whole source (path or bytes) with a fixed ``now``."""
    kwargs.setdefault("now", NOW)
    return collect(list(read_incidents(source, **kwargs)))  # type: ignore[arg-type]
