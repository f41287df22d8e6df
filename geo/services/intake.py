"""Incidents posted as JSON (the HTTP API, KoboToolbox, ODK Central), uploaded as one batch.

A posted batch is a JSON array of house-template objects, or a GeoJSON FeatureCollection
of points whose properties are template fields. Its shape is checked first, every problem
collected (row, field, problem): a batch with any is refused whole and nothing is stored.
A batch of the right shape is written as a house-template CSV and uploaded through
:func:`geo.services.ingest.ingest_file`, like any file: the same validation, dedupe and
classification, one transaction, one batch; rows the reader rejects (an unknown
category, a future date) are in the answer with their reasons. Posting the same events
again adds nothing.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geo._errors import BatchError
from geo.core.auth import Principal
from geo.core.names import check_name, clip, printable
from geo.io.readers import template
from geo.services.ingest import UploadSummary, ingest_file
from geo.store import Store

FIELDS: tuple[str, ...] = template.COLUMNS + template.EXTRA_COLUMNS
"""The fields a posted incident may have (the house template's columns)."""
NUMBER_FIELDS = frozenset({"lat", "lon", "fatalities", "location_uncertainty_m"})
"""Fields that hold a number (a JSON number, or a string holding one)."""
RANGES: dict[str, tuple[float, float]] = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0)}
MAX_ROWS = 10_000
"""The most incidents one request may post."""
MAX_TEXT = 10_000
"""The longest text value of one field."""
MAX_PROBLEMS = 100
"""The most problems one refusal lists (the count says how many there were)."""
SUMMARY_KEYS = (
    "batch_id",
    "rows_read",
    "accepted",
    "rejected",
    "duplicate",
    "near_duplicates",
    "new_breaches",
    "format",
    "encoding",
    "warnings",
)
"""The members of ``ingest --json`` (and of the API's answer)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a posted batch: the row (0-based; ``None`` for the whole body) and field."""

    row: int | None
    field: str
    problem: str

    def as_json(self) -> dict[str, Any]:
        """The problem as the API reports it."""
        return {"row": self.row, "field": self.field, "problem": self.problem}

    def __str__(self) -> str:
        where = "body" if self.row is None else f"row {self.row}"
        return f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"


@dataclass
class Intake:
    """The answer to a posted batch: the upload's summary and its rejected rows."""

    summary: UploadSummary
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """``ingest --json``'s members, plus ``rejected_rows`` (row, line, reason)."""
        data = self.summary.as_json()
        return {**{k: data[k] for k in SUMMARY_KEYS}, "rejected_rows": self.rejected_rows}


def records_of(payload: Any) -> list[dict[str, Any]]:
    """
    The incidents of a posted body: an array of objects, or a FeatureCollection of points.

    A feature's point gives ``lon`` and ``lat`` (properties may not disagree with it).

    Raises
    ------
    BatchError
        When the body is neither, or a feature is not a point.
    """
    if isinstance(payload, list):
        return payload
    if not isinstance(payload, dict) or payload.get("type") != "FeatureCollection":
        raise BatchError(
            [Problem(None, "", "expected a JSON array of incidents or a GeoJSON FeatureCollection")]
        )
    features = payload.get("features")
    if not isinstance(features, list):
        raise BatchError([Problem(None, "features", "expected an array of features")])
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for row, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(row, "", "expected a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        geom = feature.get("geometry")
        if not isinstance(props, dict):
            problems.append(Problem(row, "properties", "expected an object"))
            continue
        record = dict(props)
        if geom is not None:
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if not isinstance(geom, dict) or geom.get("type") != "Point" or not _pair(coords):
                problems.append(Problem(row, "geometry", "expected a Point with [lon, lat] coordinates"))
                continue
            assert isinstance(coords, list)  # noqa: S101 - checked by _pair
            for key, value in (("lon", coords[0]), ("lat", coords[1])):
                if key in record and _number(record[key]) != _number(value):
                    problems.append(Problem(row, key, "differs from the feature's geometry"))
                record[key] = value
        records.append(record)
    if problems:
        raise BatchError(problems)
    return records


def _pair(coords: Any) -> bool:
    return (
        isinstance(coords, list)
        and len(coords) in (2, 3)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def check_records(records: list[Any]) -> list[Problem]:
    """Every shape problem of the posted incidents: types, unknown fields, coordinates in range."""
    problems: list[Problem] = []
    if not records:
        return [Problem(None, "", "no incidents: the batch is empty")]
    if len(records) > MAX_ROWS:
        return [Problem(None, "", f"{len(records):,} incidents: at most {MAX_ROWS:,} per request")]
    for row, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(Problem(row, "", f"expected an object, got {_kind(record)}"))
            continue
        for key, value in record.items():
            problems += _check_value(row, key, value)
        for key in ("lat", "lon"):
            if record.get(key) in (None, ""):
                problems.append(Problem(row, key, "is required"))
    return problems


def _check_value(row: int, key: Any, value: Any) -> list[Problem]:  # noqa: PLR0911 - one answer per check
    shown = clip(printable(str(key)), 64)
    if key not in FIELDS:
        return [Problem(row, shown, "unknown field (expected one of: " + ", ".join(FIELDS) + ")")]
    if value is None:
        return []
    if key in NUMBER_FIELDS:
        number = _number(value)
        if number is None or (isinstance(value, str) and not value.strip()):
            if isinstance(value, str) and not value.strip():
                return []
            return [Problem(row, key, f"expected a number, got {_kind(value)}")]
        if not math.isfinite(number):
            return [Problem(row, key, "must be a finite number")]
        low, high = RANGES.get(key, (0.0, math.inf))
        if not low <= number <= high:
            bounds = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"{low:g} or more"
            return [Problem(row, key, f"{number:g} is out of range: {bounds}")]
        return []
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return [Problem(row, key, f"expected a string, got {_kind(value)}")]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return [Problem(row, key, f"longer than {MAX_TEXT:,} characters")]
    return []


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def template_csv(records: list[dict[str, Any]]) -> tuple[bytes, dict[int, int]]:
    """The records as a UTF-8 house-template CSV, and the row of the records each line starts."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    rows: dict[int, int] = {}
    line = 2
    for row, record in enumerate(records):
        start = out.tell()
        writer.writerow([_cell(record.get(key)) for key in FIELDS])
        rows[line] = row
        line += out.getvalue().count("\n", start)
    return out.getvalue().encode("utf-8"), rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    # NUL cannot be in a CSV cell: shown as an escape, the reader then judges the text
    return str(value).replace("\x00", "\\x00")


@dataclass(frozen=True)
class Batch:
    """A posted batch of the right shape, as a house-template file."""

    data: bytes
    """The UTF-8 template CSV."""
    rows: dict[int, int]
    """The line each record starts on -> its row in the posted batch."""


def checked_batch(payload: Any) -> Batch:
    """
    A posted body, its shape checked, as a template file (no store work: run it before queueing to write).

    Raises
    ------
    BatchError
        When the batch has the wrong shape.
    """
    records = records_of(payload)
    problems = check_records(records)
    if problems:
        raise BatchError(problems)
    data, rows = template_csv(records)
    return Batch(data, rows)


def post_incidents(
    store: Store,
    payload: Any,
    *,
    actor: Principal,
    name: str = "api.json",
    source_name: str | None = None,
    now: datetime | None = None,
) -> Intake:
    """
    Upload posted incidents as one batch (see the module's text).

    Parameters
    ----------
    store
        The store, on the scenario the batch belongs to.
    payload
        The decoded JSON body, or a :class:`Batch` made of it by :func:`checked_batch`.
    actor
        Who posts (needs ``upload``): the token's principal.
    name
        The file name the batch records.
    source_name
        The source of rows that name none (default: the template's, ``monitor``).
    now
        The present, for rejecting future dates.

    Raises
    ------
    BatchError
        When the batch has the wrong shape (nothing is stored).
    """
    batch = payload if isinstance(payload, Batch) else checked_batch(payload)
    if source_name is not None:
        check_name("source", source_name, limit=64)
    summary = ingest_file(
        store,
        batch.data,
        file_name=name,
        format="template",
        source_name=source_name,
        actor=actor,
        now=now,
        encoding="utf-8",
    )
    rejected = store.rejected_rows(summary.batch_id) if summary.rejected else None
    listed = (
        []
        if rejected is None
        else [
            {"row": batch.rows.get(int(r.line_no)), "line": int(r.line_no), "reason": str(r.reason)}
            for r in rejected.itertuples()
        ]
    )
    return Intake(summary, listed)
