"""UCDP Georeferenced Event Dataset (GED) files, with or without their header row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.core.dates import END_OF_DAY
from geo.io.readers._dates import looks_like_date
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
    numbers,
    show,
)

NAME = "ucdp"
SOURCE = "ucdp"
COLUMNS: tuple[str, ...] = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id",
    "conflict_new_id", "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id",
    "side_a_new_id", "side_a", "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources",
    "source_article", "source_office", "source_date", "source_headline", "source_original", "where_prec",
    "where_coordinates", "where_description", "adm_1", "adm_2", "latitude", "longitude", "geom_wkt",
    "priogrid_gid", "country", "country_id", "region", "event_clarity", "date_prec", "date_start",
    "date_end", "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best", "high", "low",
    "gwnoa", "gwnob",
)
"""The 49 columns of UCDP GED, in file order (also the names given to a header-less file)."""
REQUIRED: tuple[str, ...] = ("id", "type_of_violence", "latitude", "longitude", "date_start")
USED: frozenset[str] | None = frozenset({
    "id", "year", "type_of_violence", "conflict_name", "dyad_name", "side_a", "side_b", "source_headline",
    "where_prec", "where_coordinates", "where_description", "latitude", "longitude", "date_prec",
    "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best", "high",
    "low",
})
DATE_COLUMNS: tuple[str, ...] = ("date_start", "date_end")
YEAR_COLUMN: str | None = "year"
VIOLENCE: dict[int, str] = {1: "state-based conflict", 2: "non-state conflict", 3: "one-sided violence"}


def layout(header: Sequence[str]) -> str | None:
    """``ucdp-ged`` when the header is a UCDP GED file's."""
    return "ucdp-ged" if {"where_prec", "date_start", "type_of_violence"} <= set(header) else None


def headerless(first: Sequence[str]) -> bool:
    """Whether a first record is a UCDP GED event rather than a header."""
    if len(first) != len(COLUMNS):
        return False
    value = dict(zip(COLUMNS, (f.strip() for f in first), strict=True))
    return (value["id"].isdigit() and value["type_of_violence"].isdigit() and value["date_prec"].isdigit()
            and looks_like_date(value["date_start"]) and looks_like_date(value["date_end"]))


def normalise(raw: pd.DataFrame, ctx: Context) -> Values:
    """
    Read UCDP GED columns into incident columns.

    ``date_start`` and ``date_end`` bound the window (whole days); ``best`` is the
    fatality count, and the deaths columns are kept in the description.

    Parameters
    ----------
    raw
        Text columns named by the UCDP GED header.
    ctx
        The reading context.
    """
    rows = ctx.rows
    assert rows is not None  # noqa: S101 - set by the reader for every chunk
    vocab = ctx.vocab
    start_raw, end_raw = column(raw, "date_start"), column(raw, "date_end")
    at = dated(ctx.dates(start_raw, column(raw, "year")), start_raw, "date_start", ctx, days=True)
    stop = dated(ctx.dates(end_raw), end_raw, "date_end", ctx, days=True, required=False)
    first_day = at.astype("datetime64[D]").astype("datetime64[ns]")
    last_day = np.where(np.isnat(stop), first_day, stop.astype("datetime64[D]").astype("datetime64[ns]"))
    rows.reject(last_day < first_day, lambda idx: "date_end: " + show(end_raw, idx) + " is before date_start "
                + show(start_raw, idx))
    precision = coded(column(raw, "date_prec"), "date_prec", rows, vocab.ucdp_date_prec, unknown="range")
    precision = np.where((precision == "day") & (last_day > first_day), "range", precision).astype(object)
    lat, lon = coordinates(column(raw, "latitude"), column(raw, "longitude"), rows, lat_col="latitude",
                           lon_col="longitude", bbox=ctx.bbox)
    violence_raw = column(raw, "type_of_violence")
    violence = numbers(violence_raw)
    one_sided = violence == 3
    side_a, side_b = column(raw, "side_a"), column(raw, "side_b")
    # In one-sided violence side A is the perpetrator and side B its victims.
    party, basis = attribute([("side_a", side_a), ("side_b", side_b.where(~one_sided, ""))], ctx, rows)
    return {
        "source": SOURCE,
        "source_event_id": column(raw, "id"),
        "occurred_at": first_day,
        "occurred_from": first_day,
        "occurred_to": last_day + END_OF_DAY.astype("timedelta64[ns]"),
        "date_precision": precision,
        "lon": lon,
        "lat": lat,
        "location_precision": coded(column(raw, "where_prec"), "where_prec", rows, vocab.ucdp_where_prec,
                                    unknown="region"),
        "location_uncertainty_m": np.full(rows.n, np.nan),
        "location_name": column(raw, "where_coordinates"),
        "category": coded(violence_raw, "type_of_violence", rows, vocab.ucdp, unknown="other"),
        "sub_category": pd.Series(violence).map(VIOLENCE).fillna("").astype("str"),
        "weapon_class": "",
        "actor": side_a.where(one_sided, joined([("", side_a), ("", side_b)], sep=" | ")),
        "target": side_b.where(one_sided, ""),
        "party": party,
        "party_basis": basis,
        "fatalities": counts(column(raw, "best"), "best", rows),
        "description": _description(raw),
        "verification": "reported",
        "source_reliability": "",
        "info_credibility": "",
    }


def _description(raw: pd.DataFrame) -> pd.Series:
    deaths = [column(raw, c) for c in ("deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best",
                                       "low", "high")]
    a, b, civ, unk, best, low, high = (d.where(d != "", "?") for d in deaths)
    any_deaths = np.logical_or.reduce([(d != "").to_numpy() for d in deaths])
    text = ("side A " + a + ", side B " + b + ", civilians " + civ + ", unknown " + unk + "; best " + best
            + " (low " + low + ", high " + high + ")")
    return joined([
        ("Conflict: ", column(raw, "conflict_name")),
        ("Dyad: ", column(raw, "dyad_name")),
        ("Deaths: ", text.where(any_deaths, "")),
        ("Where: ", column(raw, "where_description", strip=False)),
        ("Source: ", column(raw, "source_headline", strip=False)),
    ])
