"""Text the static outputs print: times in UTC, counts with their noun, party names, columns."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from geo.core.model import Scenario
from geo.render.around import near_lon
from geo.render.palette import UNATTRIBUTED_LABEL


def utc(ts: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """A timestamp in UTC (naive input is taken as UTC)."""
    t = pd.Timestamp(ts)
    return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")


def fmt_time(ts: datetime | pd.Timestamp | str | None) -> str:
    """``YYYY-MM-DD HH:MM UTC``, or an empty string."""
    if ts is None or pd.isna(ts):
        return ""
    return str(utc(ts).strftime("%Y-%m-%d %H:%M UTC"))


def plural(n: int, noun: str) -> str:
    """``1 breach``, ``2 breaches``, ``1,234 incidents``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {noun}es" if noun.endswith(("ch", "sh", "s", "x")) else f"{n:,} {noun}s"


def party_names(scenario: Scenario) -> dict[str, str]:
    """Party id to display name, with ``""`` for unattributed."""
    return {"": UNATTRIBUTED_LABEL, **{p.id: p.name for p in scenario.parties}}


def text_column(view: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array of strings, missing values as ``""``."""
    if column not in view:
        return np.full(len(view), "", dtype=object)
    return np.asarray(view[column].astype(object).fillna("").astype(str).to_numpy(dtype=object))


def deg(value: float, pos: str, neg: str) -> str:
    """A coordinate with its hemisphere, to 0.01 degree: ``37.5°N``, ``126.95°E``."""
    hemi = pos if value >= 0 else neg
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return f"{text}\u00b0{hemi}"


def lon_deg(value: float) -> str:
    """
    A longitude with its hemisphere, to 0.01 degree, read within ±180: ``181`` is ``179°W``.

    The prime meridian and the antimeridian take no hemisphere: ``0°``, ``180°``.
    """
    lon = round(float(near_lon(value, 0.0)), 2)
    if abs(lon) in (0.0, 180.0):
        return f"{abs(lon):.0f}\u00b0"
    return deg(lon, "E", "W")


BASEMAP_ATTRIBUTION = "Basemap: Natural Earth 1:110m countries (public domain)"
