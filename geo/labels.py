"""The labels of shared vocabularies, marked for translation (shown with :func:`label`).

The texts themselves live where every output reads them: the palette (:mod:`geo.render.palette`:
verdicts, legend, zone kinds), the incident categories (``data/categories.toml``), the
verification statuses and the roles. Listing them here puts them in the catalogues; a test
checks that none is missing when one of those changes.
"""

from __future__ import annotations

import math

from geo.i18n import N_, _

PALETTE: tuple[str, ...] = (
    N_("Breach"),
    N_("Possible breach"),
    N_("No breach"),
    N_("Outside monitored area"),
    N_("Breaches"),
    N_("Possible breaches"),
    N_("reported"),
    N_("inferred from side"),
    N_("unattributed"),
    N_("reported by the source"),
    N_("INFERRED from the side of the line, not reported"),
    N_("Unattributed"),
    N_("NEW"),
    N_("Legend"),
    N_("Verdict"),
    N_("Verdict (marker fill)"),
    N_("Party (marker ring)"),
    N_("reported / inferred from side"),
    N_("New since last refresh"),
    N_("Many incidents: hex cells, coloured by their most common verdict, darker when fuller"),
    N_("Breaches in a cell (size: how many)"),
    N_("Lines and zones"),
    N_("Demarcation line (labels: side each party holds)"),
    N_("SYNTHETIC DEMO DATA — NOT REAL EVENTS"),
    N_("generated for demonstration and training; do not cite"),
    N_("REAL AND SYNTHETIC DATA — SYNTHETIC RECORDS ARE MARKED [SYNTHETIC]"),
    N_("synthetic records are generated for demonstration; never cite them as events"),
    N_("Demilitarized zone"),
    N_("Buffer zone"),
    N_("Area of separation"),
    N_("Limitation zone"),
    N_("Security zone"),
    N_("Weapons withdrawal zone"),
    N_("Restricted area"),
    N_("No fly zone"),
    N_("Joint security area"),
)
"""Verdicts, attribution, legend texts, banners and zone kinds of the palette."""
CATEGORIES: tuple[str, ...] = (
    N_("Heavy weapons presence"),
    N_("Demonstration"),
    N_("Violence against civilians"),
    N_("Troop movement"),
    N_("Armed clash"),
    N_("Mine laying"),
    N_("Small arms fire"),
    N_("Air strike"),
    N_("Drone activity"),
    N_("Artillery fire"),
    N_("Other"),
    N_("Explosion"),
    N_("Airspace violation"),
    N_("Construction"),
    N_("Tanks, artillery, mortars, rocket launchers or air defence seen in place."),
    N_("Protests and riots."),
    N_("Attacks, abductions or one-sided violence against unarmed people."),
    N_("Movement, presence or build-up of military personnel, including patrols and exercises."),
    N_("An exchange of fire or fighting between armed groups, including taking or losing ground."),
    N_("Mines or explosive obstacles laid, or newly found."),
    N_("Rifle, machine-gun or other small-calibre fire, including sniping."),
    N_("Strikes by manned aircraft, or by drones when the source does not tell the two apart."),
    N_("Unmanned aerial vehicles seen or tracked, armed or not."),
    N_(
        "Artillery, mortar, tank-gun, rocket or missile fire, including shelling and drills with live rounds."
    ),
    N_("Anything else, and every source category Truceline does not know (with a warning)."),
    N_("An explosion of unknown or other cause: IED, landmine, grenade, demolition."),
    N_("Manned aircraft or balloons crossing into prohibited airspace."),
    N_("Fortifications, guard posts, trenches, roads or bases built or expanded."),
)
"""The labels and descriptions of ``data/categories.toml``."""
STATUSES: dict[str, str] = {
    "reported": N_("Reported"),
    "verified": N_("Verified"),
    "disputed": N_("Disputed"),
    "rejected": N_("Rejected"),
}
"""Verification statuses as shown."""
ROLES: dict[str, str] = {"viewer": N_("viewer"), "analyst": N_("analyst"), "admin": N_("admin")}
"""Roles as shown."""
BATCH_STATUSES: dict[str, str] = {"committed": N_("stored"), "deleted": N_("undone")}
"""Upload (batch) statuses as shown."""


def label(text: str) -> str:
    """A vocabulary label in the current language (itself when the catalogue lacks it)."""
    return _(text)


def status(value: str) -> str:
    """A verification status as shown, in the current language."""
    return _(STATUSES.get(value, value.capitalize()))


def batch_status(value: str) -> str:
    """An upload's status as shown, in the current language."""
    return _(BATCH_STATUSES.get(value, value))


def role(value: str) -> str:
    """A role as shown, in the current language."""
    return _(ROLES.get(value, value))


SEVERITIES: dict[str, str] = {
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}
"""Rule severities as shown."""
PRECISIONS: dict[str, str] = {
    "exact": N_("exact"),
    "near": N_("near"),
    "area": N_("area"),
    "region": N_("region"),
    "day": N_("day"),
    "week": N_("week"),
    "month": N_("month"),
    "year": N_("year"),
    "range": N_("range"),
}
"""Location and date precisions as shown."""
GROUPS: tuple[str, ...] = (N_("(no zone)"), N_("(unattributed)"))
"""The trend tables' rows for incidents in no zone and with no party (:mod:`geo.core.trends`)."""


def severity(value: str) -> str:
    """A rule severity as shown, in the current language."""
    return _(SEVERITIES.get(value, value))


def precision(value: object) -> str:
    """A location or date precision as shown, in the current language."""
    text = str(value)
    return _(PRECISIONS.get(text, text))


def zone_kind(kind: str) -> str:
    """A zone kind as shown (``no_fly_zone``: "No fly zone"), in the current language."""
    from geo.render.palette import zone_kind_label

    return _(zone_kind_label(kind))


def verdict(value: str) -> str:
    """A verdict as shown ("Possible breach"), in the current language."""
    from geo.render.palette import VERDICT_LABELS

    return _(VERDICT_LABELS.get(value, value))


def category(value: str) -> str:
    """An incident category's label, in the current language (the id when it has none)."""
    from geo.core.categories import vocabulary

    return _(vocabulary().labels.get(value, value))


GRADES: tuple[str, ...] = (
    N_("completely reliable"),
    N_("usually reliable"),
    N_("fairly reliable"),
    N_("not usually reliable"),
    N_("unreliable"),
    N_("reliability cannot be judged"),
    N_("confirmed by other sources"),
    N_("probably true"),
    N_("possibly true"),
    N_("doubtful"),
    N_("improbable"),
    N_("truth cannot be judged"),
    N_("unconfirmed source"),
)
"""The Admiralty grades' names (:mod:`geo.core.grading`) and the note of an unconfirmed breach."""


def verdict_noted(value: str, note: object) -> str:
    """A verdict with its note ("Breach (unconfirmed source)"), in the current language."""
    from geo.core.grading import verdict_text

    missing = note is None or (isinstance(note, float) and math.isnan(note))
    text = "" if missing else str(note)
    return verdict_text(verdict(value), _(text) if text else None)
