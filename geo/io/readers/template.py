"""The house incident template: one row per incident, in Truceline's own words.

Mapped CSVs are renamed to these columns and then read by the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from geo.core.dates import END_OF_DAY, window
from geo.core.grading import CREDIBILITY, CREDIBILITY_SYNONYMS, RELIABILITY, RELIABILITY_SYNONYMS
from geo.io.readers._dates import Readings
from geo.io.readers._normalise import (
    Context,
    Values,
    attribute,
    categories,
    checked_times,
    column,
    coordinates,
    counts,
    grade,
    location_precision,
    optional_float,
    show,
    verification,
)

NAME = "template"
COLUMNS: tuple[str, ...] = (
    "event_id", "occurred_at", "lat", "lon", "category", "actor", "party", "location_precision",
    "location_uncertainty_m", "fatalities", "verification", "source", "description",
)
"""The template's columns, in the order of the shipped blank template."""
EXTRA_COLUMNS: tuple[str, ...] = (
    "occurred_to", "sub_category", "weapon_class", "target", "location_name", "source_reliability",
    "info_credibility",
)  # fmt: skip
"""Optional columns the template also reads."""
REQUIRED: tuple[str, ...] = ("occurred_at", "lat", "lon", "category")
USED: frozenset[str] | None = frozenset(COLUMNS + EXTRA_COLUMNS)
DATE_COLUMNS: tuple[str, ...] = ("occurred_at", "occurred_to")
YEAR_COLUMN: str | None = None
DEFAULT_SOURCE = "monitor"


def layout(header: Sequence[str]) -> str | None:
    """``template`` when the header has ``occurred_at``, ``lat`` and ``lon``."""
    return NAME if {"occurred_at", "lat", "lon"} <= set(header) else None


def _times(values: pd.Series, col: str, ctx: Context, *, required: bool) -> tuple[np.ndarray, np.ndarray]:
    """
    A time column, checked: naive UTC nanoseconds, and whether each value has a time of day.

    A mapping's ``date_format`` reads every value with that one format; otherwise every
    accepted form is read, in the file's day/month order. Values without a UTC offset
    are local to the mapping's ``timezone`` (UTC by default).
    """
    rows = ctx.rows
    assert rows is not None  # noqa: S101 - set by the reader for every chunk
    options = ctx.options
    if options is not None and options.date_format:
        fmt = options.date_format
        parsed = pd.to_datetime(values, format=fmt, utc=True, errors="coerce")
        wall = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
        timed = np.full(len(values), bool(re.search(r"%[HIXTRc]", fmt)))
        explicit = np.full(len(values), "%z" in fmt)

        def why(idx: np.ndarray) -> list[str]:
            return [f"is not a date (expected {fmt})"] * len(idx)
    else:
        readings: Readings = ctx.dates(values, offsets=bool(options is not None and options.timezone))
        wall, timed, explicit = readings.pick(ctx.dayfirst), readings.timed, readings.explicit

        def why(idx: np.ndarray) -> list[str]:
            return readings.why(idx, ctx.dayfirst)
    if options is not None and options.timezone:
        local = (pd.Series(wall).dt.tz_localize(options.timezone, ambiguous="NaT", nonexistent="NaT")
                 .dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]"))
        wall = np.where(explicit, wall, local)
    return checked_times(wall, values, col, rows, ctx.now, ~timed, why=why, required=required), timed


def normalise(raw: pd.DataFrame, ctx: Context) -> Values:
    """
    Read template columns (or mapped ones renamed to them) into incident columns.

    Parameters
    ----------
    raw
        Text columns named as in the template.
    ctx
        The reading context; ``ctx.options`` holds a mapped file's options.
    """
    rows = ctx.rows
    assert rows is not None  # noqa: S101 - set by the reader for every chunk
    options = ctx.options
    value_maps = options.values if options is not None else {}

    def label(col: str) -> str:
        return options.columns.get(col, col) if options is not None else col

    at_raw = column(raw, "occurred_at")
    at, has_time = _times(at_raw, label("occurred_at"), ctx, required=True)
    precision = np.where(has_time, "exact", "day").astype(object)
    start, end = window(at, precision)
    to_raw = column(raw, "occurred_to")
    if (to_raw != "").any():
        stop, to_time = _times(to_raw, label("occurred_to"), ctx, required=False)
        stop = np.where(to_time, stop, stop + END_OF_DAY.astype("timedelta64[ns]"))
        given = ~np.isnat(stop)
        rows.reject(given & ~np.isnat(at) & (stop < at), lambda idx: f"{label('occurred_to')}: "
                    + show(to_raw, idx) + f" is before {label('occurred_at')} " + show(at_raw, idx))
        longer = given & (stop > end)
        end = np.where(longer, stop, end)
        precision = np.where(longer, "range", precision).astype(object)

    lat, lon = coordinates(column(raw, "lat"), column(raw, "lon"), rows, lat_col=label("lat"),
                           lon_col=label("lon"), bbox=ctx.bbox)
    if "category" in ctx.absent:
        category: np.ndarray | str = "other"
    else:
        category = categories(column(raw, "category"), rows, ctx.vocab, col=label("category"),
                              value_map=value_maps.get("category"))
    actor = column(raw, "actor")
    party, basis = _party(raw, actor, ctx, label)
    source = column(raw, "source")
    default_source = ctx.source_name or (options.source if options is not None else None) or DEFAULT_SOURCE
    return {
        "source": source.where(source != "", default_source),
        "source_event_id": column(raw, "event_id"),
        "occurred_at": at,
        "occurred_from": start,
        "occurred_to": end,
        "date_precision": precision,
        "lon": lon,
        "lat": lat,
        "location_precision": location_precision(column(raw, "location_precision"), rows,
                                                 col=label("location_precision"),
                                                 value_map=value_maps.get("location_precision")),
        "location_uncertainty_m": optional_float(column(raw, "location_uncertainty_m"),
                                                 label("location_uncertainty_m"), rows),
        "location_name": column(raw, "location_name"),
        "category": category,
        "sub_category": column(raw, "sub_category"),
        "weapon_class": column(raw, "weapon_class"),
        "actor": actor,
        "target": column(raw, "target"),
        "party": party,
        "party_basis": basis,
        "fatalities": counts(column(raw, "fatalities"), label("fatalities"), rows),
        "description": column(raw, "description", strip=False),
        "verification": verification(column(raw, "verification"), rows,
                                     value_map=value_maps.get("verification")),
        "source_reliability": grade(column(raw, "source_reliability"), label("source_reliability"), rows,
                                    allowed=RELIABILITY, synonyms=RELIABILITY_SYNONYMS,
                                    value_map=value_maps.get("source_reliability")),
        "info_credibility": grade(column(raw, "info_credibility"), label("info_credibility"), rows,
                                  allowed=CREDIBILITY, synonyms=CREDIBILITY_SYNONYMS,
                                  value_map=value_maps.get("info_credibility")),
    }


def _party(raw: pd.DataFrame, actor: pd.Series, ctx: Context, label: Callable[[str], str],
           ) -> tuple[np.ndarray, np.ndarray]:
    rows = ctx.rows
    assert rows is not None  # noqa: S101
    stated = column(raw, "party")
    given = (stated != "").to_numpy()
    if ctx.parties is not None:
        unknown = given & ~stated.isin(ctx.parties).to_numpy()
        known = ", ".join(sorted(ctx.parties))
        rows.warn(unknown, lambda idx: f"{label('party')}: unknown party " + show(stated, idx)
                  + f" (the scenario's parties are {known}); ignored")
        given = given & ~unknown
    mapped, basis = attribute([(label("actor"), actor)], ctx, rows)
    party = np.where(given, stated.to_numpy(dtype=object), mapped).astype(object)
    return party, np.where(given, "source", basis).astype(object)
