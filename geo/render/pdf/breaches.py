"""The table of breaches: one row per breach, most recent first, every cell as text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.core.categories import vocabulary
from geo.core.model import Scenario
from geo.i18n import N_, _
from geo.localize import number, short_time
from geo.render.palette import ATTRIBUTION_LABELS, UNATTRIBUTED_LABEL
from geo.render.text import text_column


def _hemi(value: float, pos: str, neg: str) -> str:
    return f"{number(abs(value), decimals=4)}\u00b0{_(pos) if value >= 0 else _(neg)}"


BREACH_COLUMNS: tuple[tuple[str, float], ...] = (
    (N_("Time (UTC)"), 23.0),
    (N_("Place"), 38.0),
    (N_("Zone"), 36.0),
    (N_("Rule"), 33.0),
    (N_("Category"), 28.0),
    (N_("Party (basis)"), 30.0),
    (N_("Precision"), 20.0),
    (N_("Verification"), 20.0),
    (N_("Source"), 45.0),
)
"""The columns of the table of breaches (headings translated with ``_`` where shown) and widths (mm)."""

WORDS: dict[str, str] = {
    # date and location precision
    "day": N_("day"),
    "week": N_("week"),
    "month": N_("month"),
    "year": N_("year"),
    "range": N_("range"),
    "exact": N_("exact"),
    "near": N_("near"),
    "area": N_("area"),
    "region": N_("region"),
    # verification
    "reported": N_("reported"),
    "verified": N_("verified"),
    "disputed": N_("disputed"),
    "rejected": N_("rejected"),
    "unconfirmed source": N_("unconfirmed source"),
    # severity
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}
"""Vocabulary words the briefing prints, translated where shown; unknown words print as they are."""


def word(value: str) -> str:
    """A vocabulary word in the language of the run (itself when not in :data:`WORDS`)."""
    return _(WORDS[value]) if value in WORDS else value


def _verification(frame: pd.DataFrame) -> np.ndarray:
    """The verification status, and the verdict's note when there is one ("unconfirmed source")."""
    status = [word(s) for s in text_column(frame, "verification")]
    note = [word(n) for n in text_column(frame, "verdict_note")]
    cells = [f"{s}\n({n.replace(' ', chr(10))})" if n else s for s, n in zip(status, note, strict=True)]
    return np.array(cells, dtype=object)  # the note a word a line: the column is narrow


def breach_rows(view: pd.DataFrame, scenario: Scenario, max_rows: int) -> pd.DataFrame:
    """The table cells of the most recent breaches, one string per cell."""
    frame = view[view["verdict"].astype(object) == "breach"]
    frame = frame.sort_values("occurred_at", ascending=False, kind="stable").head(max_rows)
    if not len(frame):
        return pd.DataFrame(columns=[c for c, _w in BREACH_COLUMNS])
    t = np.array([short_time(v) for v in pd.to_datetime(frame["occurred_at"], utc=True)], dtype=object)
    dprec = text_column(frame, "date_precision")
    shown_prec = np.array([word(d) for d in dprec], dtype=object)
    t = np.where(np.isin(dprec, ["", "exact"]), t, t + "\n(" + shown_prec + ")")
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    coords = np.array(
        [f"{_hemi(b, 'N', 'S')}, {_hemi(a, 'E', 'W')}" for a, b in zip(lon, lat, strict=True)], dtype=object
    )
    place = text_column(frame, "location_name")
    place = np.where(place == "", coords, place + "\n" + coords)
    rules = {r.id: r for r in scenario.rules}
    zones = {z.id: z.name for z in scenario.zones}
    fired = [[rules[r] for r in str(s).split(";") if r in rules] for s in text_column(frame, "rules")]
    zone_txt = ["\n".join(dict.fromkeys(zones.get(r.zone, r.zone) for r in rs)) for rs in fired]
    rule_txt = ["\n".join(f"{r.id} ({word(r.severity)})" for r in rs) for rs in fired]
    labels = vocabulary().labels
    category = np.array([_(labels.get(c, c)) for c in text_column(frame, "category")], dtype=object)
    weapon = text_column(frame, "weapon_class")
    category = np.where(weapon == "", category, category + "\n" + weapon)
    parties = {"": _(UNATTRIBUTED_LABEL), **{p.id: p.short_name or p.name for p in scenario.parties}}
    party = [parties.get(p, p) for p in text_column(frame, "attributed_party")]
    basis = [
        _(ATTRIBUTION_LABELS[b]) if b in ATTRIBUTION_LABELS else b for b in text_column(frame, "attribution")
    ]
    precision = np.array([word(p) for p in text_column(frame, "location_precision")], dtype=object)
    if "location_uncertainty_m" in frame:
        radius = frame["location_uncertainty_m"].to_numpy(dtype=float, na_value=np.nan)
        metres = _("{metres} m")
        shown = np.array(
            [metres.format(metres=number(r, decimals=0)) if np.isfinite(r) else "" for r in radius],
            dtype=object,
        )
        precision = np.where(np.isfinite(radius), precision + "\n\u00b1" + shown, precision)
    source = text_column(frame, "source") + "\n" + text_column(frame, "source_event_id")
    return pd.DataFrame(
        {
            "Time (UTC)": t,
            "Place": place,
            "Zone": zone_txt,
            "Rule": rule_txt,
            "Category": category,
            "Party (basis)": [f"{p}\n({b})" for p, b in zip(party, basis, strict=True)],
            "Precision": precision,
            "Verification": _verification(frame),
            "Source": source,
        }
    )
