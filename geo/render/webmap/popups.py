"""Popup content: escaped HTML for zones and lines, plain-text fields for incidents.

Zone and line popups are fixed HTML, built here with every data text escaped. Incident
popups are built in the browser from plain text (``markers.js`` sets ``textContent``):
:func:`incident_fields` computes that text, column by column, with no per-row loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from geo.core.categories import vocabulary
from geo.core.grading import CREDIBILITY_NAMES, RELIABILITY_NAMES, grade_text
from geo.core.model import Line, Scenario, Zone
from geo.i18n import N_, _, number
from geo.render.palette import ATTRIBUTION_NOTES, UNATTRIBUTED_LABEL, VERDICT_LABELS, zone_kind_label
from geo.render.webmap.columns import floats, map_values, series, text_col
from geo.render.webmap.escape import html_text

FREE_TEXT = (
    "description",
    "actor",
    "target",
    "location_name",
    "sub_category",
    "weapon_class",
    "source",
    "source_event_id",
)
"""Incident columns of free text: cut when the marker payload is too large."""
FIELDS = (
    ("time", N_("Time")),
    ("new", N_("New")),
    ("category", N_("Category")),
    ("party", N_("Party")),
    ("actor", N_("Actor")),
    ("verdict", N_("Verdict")),
    ("rules", N_("Rules")),
    ("zones", N_("Zones")),
    ("distance", N_("Distance to line")),
    ("location", N_("Location")),
    ("verification", N_("Verification")),
    ("grade", N_("Source grade")),
    ("source", N_("Source")),
    ("fatalities", N_("Fatalities")),
    ("description", N_("Description")),
    ("id", N_("Incident id")),
)
"""The rows of an incident popup: key in :func:`incident_fields`, and label."""


def party_name(scenario: Scenario, party_id: str | None) -> str:
    """The name of a party of the scenario (its id if unknown)."""
    parties = {p.id: p for p in scenario.parties}
    return parties[party_id].name if party_id in parties else (party_id or "")


def rows_html(rows: Sequence[tuple[str, str]]) -> str:
    """A table of (label, value) rows, labels translated here; values are already escaped HTML."""
    body = "".join(f"<tr><th>{html_text(_(k))}</th><td>{v}</td></tr>" for k, v in rows if v)
    return f"<table>{body}</table>"


def _period(valid_from: date | None, valid_to: date | None) -> str:
    if valid_from is None and valid_to is None:
        return _("always")
    start = valid_from.isoformat() if valid_from else "…"
    if valid_to:
        return _("{start} to {end}").format(start=start, end=valid_to.isoformat())
    return _("since {start}").format(start=start)


def zone_popup(scenario: Scenario, zone: Zone) -> str:
    """The popup of a zone: kind, validity, derivation, source and the rules quoted."""
    vocab = vocabulary().labels
    rules = []
    for rule in scenario.rules:
        if rule.zone != zone.id:
            continue
        binds = (
            _("all parties") if rule.binds_all else ", ".join(party_name(scenario, p) for p in rule.parties)
        )
        cats = ", ".join(_(vocab.get(c, c)) for c in rule.prohibits)
        says = _("[{severity}] prohibits {categories} for {parties}.").format(
            severity=_(rule.severity), categories=cats, parties=binds
        )
        rules.append(f"<p><b>{html_text(rule.id)}</b> {html_text(says)}<br>{html_text(rule.text)}</p>")
    derived = ""
    if zone.derived:
        line = {ln.id: ln for ln in scenario.lines}.get(zone.line or "")
        side = {"both": _("both sides"), "left": _("the left side"), "right": _("the right side")}.get(
            zone.side or "", ""
        )
        holder = ""
        if line is not None and zone.side in ("left", "right"):
            holder = f" ({party_name(scenario, line.party_on(zone.side))})"
        derived = html_text(
            _("{width} m on {side}{holder} of {line}").format(
                width=number(zone.width_m or 0, decimals=0),
                side=side,
                holder=holder,
                line=line.name if line else zone.line,
            )
        )
    rows = [
        (N_("Kind"), html_text(_(zone_kind_label(zone.kind)))),
        (N_("In force"), html_text(_period(zone.valid_from, zone.valid_to))),
        (N_("Derived"), derived),
        (N_("Source"), html_text(zone.source)),
        (N_("Rules"), "".join(rules)),
    ]
    return (
        f'<div class="tl-popup"><div class="tl-popup-head"><strong>{html_text(zone.name)}</strong></div>'
        f"{rows_html(rows)}</div>"
    )


def line_popup(scenario: Scenario, line: Line) -> str:
    """The popup of a demarcation line: agreement, validity, the party on each side, source."""
    rows = [
        (N_("Agreement"), html_text(line.agreement)),
        (N_("In force"), html_text(_period(line.valid_from, line.valid_to))),
        (N_("Left side"), html_text(party_name(scenario, line.left_party))),
        (N_("Right side"), html_text(party_name(scenario, line.right_party))),
        (N_("Direction"), html_text(_("sides are left and right of the line's direction"))),
        (N_("Source"), html_text(line.source)),
    ]
    return (
        f'<div class="tl-popup"><div class="tl-popup-head"><strong>{html_text(line.name)}</strong></div>'
        f"{rows_html(rows)}</div>"
    )


# --------------------------------------------------------------------------- incidents


def _times(view: pd.DataFrame) -> pd.Series:
    if "occurred_at" not in view:
        return pd.Series("", index=view.index, dtype="str")
    at = pd.to_datetime(view["occurred_at"], utc=True)
    text = at.dt.strftime("%Y-%m-%d %H:%M UTC").fillna(_("unknown"))
    precision = text_col(view, "date_precision")
    worded = map_values(precision, lambda p: " " + _("({precision} precision)").format(precision=_(p)))
    text = text.where(precision.isin(["", "exact"]), text + worded)
    if "occurred_from" in view and "occurred_to" in view:
        lo = pd.to_datetime(view["occurred_from"], utc=True)
        hi = pd.to_datetime(view["occurred_to"], utc=True)
        window = lo.notna() & hi.notna() & (lo != hi)
        span = (
            "\n"
            + _("window")
            + " "
            + lo.dt.strftime("%Y-%m-%d %H:%M")
            + " "
            + _("to")
            + " "
            + hi.dt.strftime("%Y-%m-%d %H:%M UTC")
        )
        text = text.where(~window, text + span)
    return text.astype("str")


def _party_text(view: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """The party and the basis of attribution; an inferred party always says so."""
    parties = {p.id: p.name for p in scenario.parties}
    party_id = text_col(view, "attributed_party")
    basis = text_col(view, "attribution")
    name = map_values(party_id, lambda p: parties.get(p, p))
    basis_text = map_values(
        basis, lambda b: f" ({_(ATTRIBUTION_NOTES[b])})" if b in ATTRIBUTION_NOTES else ""
    )
    unattributed = (party_id == "") | (basis == "unattributed")
    return series(np.where(unattributed, _(UNATTRIBUTED_LABEL), name + basis_text), view)


def _distance_text(view: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """Unsigned distance with the side and its holder, then the signed value."""
    parties = {p.id: p.short_name or p.name for p in scenario.parties}
    lines = {ln.id: ln.name for ln in scenario.lines}

    def side_text(key: str) -> str:
        line_id, side, holder = key.split("\x1f")
        line_name = lines.get(line_id, line_id)
        if side == "on_line":
            return _("on {line}").format(line=line_name)
        who = parties.get(holder, "")
        worded = {"left": _("left"), "right": _("right")}.get(side, side)
        if who:
            return _("{side} of {line} ({party} side)").format(side=worded, line=line_name, party=who)
        return _("{side} of {line}").format(side=worded, line=line_name)

    dist = floats(view, "distance_m")
    key = (
        text_col(view, "nearest_line")
        + "\x1f"
        + text_col(view, "side")
        + "\x1f"
        + text_col(view, "side_party")
    )
    side = map_values(key, side_text).to_numpy(dtype=object)
    finite = np.isfinite(dist)
    km = np.char.mod("%.2f km ", np.abs(np.where(finite, dist, 0.0)) / 1000.0).astype(object)
    signed_format = " " + _("(signed {distance} m)").replace("%", "%%").format(distance="%+.0f")
    signed = np.char.mod(signed_format, np.where(finite, dist, 0.0)).astype(object)
    return series(np.where(finite, km + side + signed, ""), view)


def _location_text(view: pd.DataFrame) -> pd.Series:
    unc = floats(view, "location_uncertainty_m")
    unc_text = np.where(np.isfinite(unc), np.char.mod(" ±%.0f m", np.nan_to_num(unc)).astype(object), "")
    lat = view["lat"].to_numpy(dtype=np.float64)
    lon = view["lon"].to_numpy(dtype=np.float64)
    coords = np.char.mod("%.5f, ", lat).astype(object) + np.char.mod("%.5f", lon).astype(object)
    place = text_col(view, "location_name")
    precision = map_values(text_col(view, "location_precision").replace("", "unknown"), _)
    return series(
        place
        + np.where(place != "", "\n", "")
        + coords
        + "\n"
        + _("precision:")
        + " "
        + precision
        + unc_text,
        view,
    )


def _grade_text(key: str) -> str:
    r"""``B2 (usually reliable; probably true)`` from reliability and credibility joined by ``\x1f``."""
    reliability, credibility = key.split("\x1f")
    names = [_(n) for n in (RELIABILITY_NAMES.get(reliability), CREDIBILITY_NAMES.get(credibility)) if n]
    text = grade_text(reliability, credibility)
    return f"{text} ({'; '.join(names)})" if text else ""  # ungraded: no row


def _truncate(values: pd.Series, cap: int) -> pd.Series:
    long = values.str.len() > cap
    if not long.any():
        return values
    return values.where(~long, values.str.slice(0, cap) + " … " + _("[truncated: see the incident record]"))


def incident_fields(
    view: pd.DataFrame,
    scenario: Scenario,
    is_new: np.ndarray,
    new_since: datetime | pd.Timestamp | str | None,
    cap: int,
) -> dict[str, pd.Series]:
    """The popup text of each incident, column by column (plain text, escaped by the browser).

    Free text from the incident (description, actor, target, place, source, …) is cut
    at ``cap`` characters; texts from the scenario, the party and its basis never are.
    """
    view = view.assign(**{c: _truncate(text_col(view, c), cap) for c in FREE_TEXT if c in view})
    labels = vocabulary().labels
    zones = {z.id: z.name for z in scenario.zones}
    rules = {r.id: r for r in scenario.rules}

    def rule_text(ids: str) -> str:
        found = [(rid, rules.get(rid)) for rid in filter(None, ids.split(";"))]
        return "\n".join(f"{rid} [{_(rule.severity)}]: {rule.text}" if rule else rid for rid, rule in found)

    category = map_values(text_col(view, "category"), lambda c: _(labels.get(c, c)) or _("Unknown category"))
    sub = text_col(view, "sub_category")
    weapon = text_col(view, "weapon_class")
    target = text_col(view, "target")
    reason = text_col(view, "verdict_reason")
    note = text_col(view, "verdict_note")
    event = text_col(view, "source_event_id")
    fatal = floats(view, "fatalities")
    since = pd.Timestamp(new_since).isoformat() if new_since is not None else ""
    return {
        "title": category,
        "time": _times(view),
        "new": series(np.where(is_new, _("yes (since {time})").format(time=since), ""), view),
        "category": series(
            category
            + np.where(sub != "", " / " + sub, "")
            + np.where(weapon != "", "\n" + _("weapon:") + " " + weapon, ""),
            view,
        ),
        "party": _party_text(view, scenario),
        "actor": series(
            text_col(view, "actor") + np.where(target != "", " → " + _("target:") + " " + target, ""), view
        ),
        "verdict": series(
            map_values(text_col(view, "verdict"), lambda v: _(VERDICT_LABELS.get(v, v)))
            + np.where(note != "", " (" + map_values(note, lambda n: _(n) if n else "") + ")", "")
            + np.where(reason != "", "\n" + _("why possible:") + " " + reason, ""),
            view,
        ),
        "rules": map_values(text_col(view, "rules"), rule_text),
        "zones": map_values(
            text_col(view, "zones"),
            lambda ids: "; ".join(zones.get(z, z) for z in filter(None, ids.split(";"))),
        ),
        "distance": _distance_text(view, scenario),
        "location": _location_text(view),
        "verification": map_values(text_col(view, "verification"), lambda v: _(v.capitalize()) if v else ""),
        "grade": map_values(
            text_col(view, "source_reliability") + "\x1f" + text_col(view, "info_credibility"), _grade_text
        ),
        "source": series(text_col(view, "source") + np.where(event != "", ": " + event, ""), view),
        "fatalities": series(
            np.where(np.isfinite(fatal), np.char.mod("%.0f", np.nan_to_num(fatal)), ""), view
        ),
        "description": text_col(view, "description"),
        "id": text_col(view, "incident_id"),
    }
