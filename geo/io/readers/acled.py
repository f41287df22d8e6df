"""ACLED exports: the current layout (since March 2023) and the one before it.

ACLED's ``actor1`` and ``actor2`` carry no direction: neither is "the aggressor". The
party comes from the scenario's party mapping applied to both; it is kept only when
exactly one party is found.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.core.dates import window
from geo.io.readers._normalise import (
    Context,
    Values,
    attribute,
    coded,
    column,
    coordinates,
    counts,
    dated,
    joined,
    lookup,
    show,
)

NAME = "acled"
SOURCE = "acled"
COLUMNS_2023: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp",
)
"""The columns of an ACLED export since 20 March 2023, in order."""
COLUMNS_PRE_2023: tuple[str, ...] = (
    "data_id", "iso", "event_id_cnty", "event_id_no_cnty", "event_date", "year", "time_precision",
    "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
    "inter2", "interaction", "region", "country", "admin1", "admin2", "admin3", "location", "latitude",
    "longitude", "geo_precision", "source", "source_scale", "notes", "fatalities", "timestamp", "iso3",
)
"""The columns of an ACLED export before 20 March 2023, in order."""
REQUIRED: tuple[str, ...] = ("event_id_cnty", "event_date", "event_type", "latitude", "longitude")
USED: frozenset[str] | None = frozenset({
    "event_id_cnty", "event_date", "year", "time_precision", "event_type", "sub_event_type", "actor1",
    "assoc_actor_1", "actor2", "assoc_actor_2", "civilian_targeting", "location", "latitude", "longitude",
    "geo_precision", "source", "notes", "fatalities", "tags",
})
DATE_COLUMNS: tuple[str, ...] = ("event_date",)
YEAR_COLUMN: str | None = "year"


def layout(header: Sequence[str]) -> str | None:
    """``acled-2023``, ``acled-pre-2023`` or ``acled`` when the header is an ACLED export's."""
    names = set(header)
    if not {"event_id_cnty", "event_date", "latitude", "longitude"} <= names:
        return None
    if names & {"disorder_type", "civilian_targeting", "tags"}:
        return "acled-2023"
    if names & {"data_id", "event_id_no_cnty", "iso3"}:
        return "acled-pre-2023"
    return "acled"


def normalise(raw: pd.DataFrame, ctx: Context) -> Values:
    """
    Read ACLED columns into incident columns.

    Parameters
    ----------
    raw
        Text columns named by the lower-cased ACLED header.
    ctx
        The reading context.
    """
    rows = ctx.rows
    assert rows is not None  # noqa: S101 - set by the reader for every chunk
    vocab = ctx.vocab
    date_raw = column(raw, "event_date")
    readings = ctx.dates(date_raw, column(raw, "year"))
    widest = "month" if "month" in vocab.acled_time_precision.values() else "range"
    time_precision = coded(column(raw, "time_precision"), "time_precision", rows, vocab.acled_time_precision,
                           unknown=widest)
    at = dated(readings, date_raw, "event_date", ctx)
    precision = np.where(readings.timed & (time_precision == "day"), "exact", time_precision).astype(object)
    start, end = window(at, precision)
    lat, lon = coordinates(column(raw, "latitude"), column(raw, "longitude"), rows, lat_col="latitude",
                           lon_col="longitude", bbox=ctx.bbox)
    geo_precision = coded(column(raw, "geo_precision"), "geo_precision", rows, vocab.acled_geo_precision,
                          unknown="region")
    event_type, sub_event_type = column(raw, "event_type"), column(raw, "sub_event_type")
    actor1, actor2 = column(raw, "actor1"), column(raw, "actor2")
    party, basis = attribute([("actor1", actor1), ("actor2", actor2)], ctx, rows)
    notes = column(raw, "notes", strip=False)
    extra = joined([
        ("Associated with actor 1: ", column(raw, "assoc_actor_1")),
        ("Associated with actor 2: ", column(raw, "assoc_actor_2")),
        ("Tags: ", column(raw, "tags")),
        ("Sources: ", column(raw, "source")),
    ])
    both = (notes != "") & (extra != "")
    description = (notes + "\n\n" + extra).where(both, notes + extra)
    return {
        "source": SOURCE,
        "source_event_id": column(raw, "event_id_cnty"),
        "occurred_at": at,
        "occurred_from": start,
        "occurred_to": end,
        "date_precision": precision,
        "lon": lon,
        "lat": lat,
        "location_precision": geo_precision,
        "location_uncertainty_m": np.full(rows.n, np.nan),
        "location_name": column(raw, "location"),
        "category": _category(event_type, sub_event_type, ctx),
        "sub_category": sub_event_type,
        "weapon_class": "",
        "actor": joined([("", actor1), ("", actor2)], sep=" | "),
        "target": np.where(column(raw, "civilian_targeting") != "", "civilians", "").astype(object),
        "party": party,
        "party_basis": basis,
        "fatalities": counts(column(raw, "fatalities"), "fatalities", rows),
        "description": description,
        "verification": "reported",
        "source_reliability": "",
        "info_credibility": "",
    }


def _category(event_type: pd.Series, sub_event_type: pd.Series, ctx: Context) -> np.ndarray:
    rows = ctx.rows
    assert rows is not None  # noqa: S101
    pair = event_type + "\x1f" + sub_event_type
    out = lookup(pair, lambda key: ctx.vocab.acled_category(*key.split("\x1f", 1)))
    unknown = pd.isna(out)
    rows.warn(unknown, lambda idx: "event_type: unknown ACLED event type " + show(event_type, idx)
              + " (sub_event_type " + show(sub_event_type, idx) + "); stored as 'other'")
    out[unknown] = "other"
    return out
