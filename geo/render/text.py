"""Text the static outputs print: times in UTC, counts with their noun, party names, columns.

Everything here reads the language of the run (:mod:`geo.i18n`) and formats numbers and
dates for it (:mod:`geo.localize`); :func:`localized` gives a scenario its names and rule
quotes in that language, from the manifest's translations.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from geo import localize
from geo.core.filters import Filters
from geo.core.localized import localized as localized_in
from geo.core.model import Scenario
from geo.i18n import N_, _, language
from geo.render.around import near_lon
from geo.render.palette import UNATTRIBUTED_LABEL


def utc(ts: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """A timestamp in UTC (naive input is taken as UTC)."""
    t = pd.Timestamp(ts)
    return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")


def fmt_time(ts: datetime | pd.Timestamp | str | None) -> str:
    """A time in UTC as the language writes it (``YYYY-MM-DD HH:MM UTC`` in English), or ``""``."""
    return localize.date_time(ts)


def party_names(scenario: Scenario) -> dict[str, str]:
    """Party id to display name, with ``""`` for unattributed."""
    return {"": _(UNATTRIBUTED_LABEL), **{p.id: p.name for p in scenario.parties}}


def localized(scenario: Scenario, lang: str | None = None) -> Scenario:
    """
    The scenario with its name, party, line and zone names and rule quotes in ``lang``.

    Texts the manifest does not translate keep their plain form. ``lang`` defaults to the
    language of the run (:func:`geo.core.localized.localized` does the work).
    """
    return localized_in(scenario, lang or language())


_FILTER_NAMES = {
    "parties": N_("party"),
    "zones": N_("zone"),
    "verdicts": N_("verdict"),
    "categories": N_("category"),
    "verifications": N_("verification"),
    "sources": N_("source"),
}


def describe_filters(filters: Filters) -> str:
    """
    The window and every active filter, in the language of the run, for a reader.

    :meth:`Filters.describe` stays English (the audit log records it); this is its
    translation: ``26 janv. 2025, 00:00 UTC au 2 févr. 2025, 00:00 UTC ; party : hezbollah``.
    """
    if language() == "en":
        return filters.describe()
    since, until = fmt_time(filters.since), fmt_time(filters.until)
    if since and until:
        window = _("{since} to {until}").format(since=since, until=until)
    elif since:
        window = _("{since} to now").format(since=since)
    elif until:
        window = _("start to {until}").format(until=until)
    else:
        window = _("start to now")
    parts = [window]
    for name, label in _FILTER_NAMES.items():
        values = getattr(filters, name)
        if values:
            shown = ", ".join(v or _("(unattributed)") for v in values)
            parts.append(_("{name}: {values}").format(name=_(label), values=shown))
    if filters.bbox:
        west, south, east, north = (localize.number(v, decimals=3) for v in filters.bbox)
        parts.append(
            _("area: {west}, {south} to {east}, {north}").format(
                west=west, south=south, east=east, north=north
            )
        )
    if filters.text:
        parts.append(_("text: {text}").format(text=repr(filters.text)))
    if filters.grade:
        parts.append(_("graded at least {grade}").format(grade=filters.grade))
    return _("; ").join(parts)


def text_column(view: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array of strings, missing values as ``""``."""
    if column not in view:
        return np.full(len(view), "", dtype=object)
    return np.asarray(view[column].astype(object).fillna("").astype(str).to_numpy(dtype=object))


def deg(value: float, pos: str, neg: str) -> str:
    """A coordinate with its hemisphere, to 0.01 degree: ``37.5°N``, ``126.95°E``."""
    hemi = _(pos if value >= 0 else neg)
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return f"{localize.number(float(text))}\u00b0{hemi}"


HEMISPHERES = (N_("N"), N_("S"), N_("E"), N_("W"))
"""The hemisphere letters of coordinates, marked for translation (``ش``, ``ج``, ``ق``, ``غ`` in Arabic)."""


def lon_deg(value: float) -> str:
    """
    A longitude with its hemisphere, to 0.01 degree, read within ±180: ``181`` is ``179°W``.

    The prime meridian and the antimeridian take no hemisphere: ``0°``, ``180°``.
    """
    lon = round(float(near_lon(value, 0.0)), 2)
    if abs(lon) in (0.0, 180.0):
        return f"{abs(lon):.0f}\u00b0"
    return deg(lon, "E", "W")


BASEMAP_ATTRIBUTION = N_("Basemap: Natural Earth 1:110m countries (public domain)")
"""Translate with ``_`` where shown."""
