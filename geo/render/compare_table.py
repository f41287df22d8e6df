"""A before/after comparison as a reader sees it: names, rates per week, the ratio and what it says.

The command line, the Trends page and the PDF briefing all show a comparison through
:func:`display_rows`, so they word and round it alike.
"""

from __future__ import annotations

import math

import pandas as pd

from geo.core.compare import Comparison
from geo.core.model import Scenario
from geo.core.trends import NO_ZONE, UNATTRIBUTED
from geo.i18n import N_, _
from geo.localize import date_time, day, number

SIGNIFICANCE = 0.05
"""Below this p-value a change is called a fall or a rise; above, no clear change."""


def ratio_text(value: float) -> str:
    """A rate ratio: ``0.33``; ``none before`` when infinite; ``—`` when undefined."""
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return _("none before")
    return number(value, decimals=2)


def interval_text(low: float, high: float) -> str:
    """A confidence interval: ``0.21–0.52``, ``0.92 or more``, ``1.09 or less``, or ``—`` (no data)."""
    if math.isinf(high):
        return "—" if low <= 0 else _("{low} or more").format(low=number(low, decimals=2))
    if low <= 0:
        return _("{high} or less").format(high=number(high, decimals=2))
    return f"{number(low, decimals=2)}–{number(high, decimals=2)}"


def p_text(p: float) -> str:
    """A p-value: ``<0.001`` or three decimals."""
    return "<" + number(0.001, decimals=3) if p < 0.001 else number(p, decimals=3)


def reading(ratio: float, p: float) -> str:
    """What a row says, in words (translated)."""
    if math.isnan(ratio):
        return _("no incidents")
    if p >= SIGNIFICANCE:
        return _("no clear change")
    return _("fell") if ratio < 1 else _("rose")


HEADERS: dict[str, str] = {
    "zone_name": N_("Zone"),
    "party_name": N_("Party"),
    "before_text": N_("Before"),
    "after_text": N_("After"),
    "ratio_text": N_("Ratio"),
    "ci_text": N_("95% CI"),
    "p_text": "p",
    "reading": N_("Reading"),
}
"""The text columns of :func:`display_rows` and their headings (translate with ``_`` where shown)."""


def headers() -> list[str]:
    """The headings of :data:`HEADERS`, translated, in order."""
    return [_(h) if h != "p" else h for h in HEADERS.values()]


def display_rows(comparison: Comparison, scenario: Scenario, *, nonempty: bool = True) -> pd.DataFrame:
    """
    The rows of a comparison as text, one per zone × party.

    Parameters
    ----------
    comparison
        The comparison.
    scenario
        For the zone and party names.
    nonempty
        Leave out the rows with no incident on either side.

    Returns
    -------
    pandas.DataFrame
        The ids ``zone`` and ``party``, then the text columns of :data:`HEADERS`: names,
        incidents per week before and after (with the count), the ratio, its interval,
        the p-value and what it says.
    """
    zones = {z.id: z.name for z in scenario.zones} | {NO_ZONE: _("Outside every zone")}
    parties = {p.id: p.short_name or p.name for p in scenario.parties} | {UNATTRIBUTED: _("Unattributed")}
    table = comparison.table
    if nonempty:
        table = table[(table["before"] + table["after"]) > 0]
    per_week = _("{rate}/wk ({count})")
    rows = [
        {
            "zone": r.zone,
            "party": r.party,
            "zone_name": zones.get(r.zone, r.zone),
            "party_name": parties.get(r.party, r.party),
            "before_text": per_week.format(
                rate=number(r.before_per_week, decimals=1), count=number(r.before)
            ),
            "after_text": per_week.format(rate=number(r.after_per_week, decimals=1), count=number(r.after)),
            "ratio_text": ratio_text(r.rate_ratio),
            "ci_text": interval_text(r.ci_low, r.ci_high),
            "p_text": p_text(r.p_value),
            "reading": reading(r.rate_ratio, r.p_value),
        }
        for r in table.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=["zone", "party", *HEADERS])


def caveats(comparison: Comparison, *, data_since: pd.Timestamp | None, as_of: pd.Timestamp) -> list[str]:
    """
    What a reader should know about the data behind a comparison, one sentence each (translated).

    Parameters
    ----------
    comparison
        The comparison.
    data_since
        The first incident of the data compared (``None``: none at all).
    as_of
        The end of the data.
    """
    c = comparison
    out = []
    if c.weeks < c.asked_weeks:
        out.append(
            _(
                "Only {weeks} whole weeks follow {at} in the data (to {as_of}): "
                "both sides are cut to {weeks} weeks."
            ).format(weeks=number(c.weeks), at=day(c.at), as_of=date_time(as_of))
        )
    if data_since is None or data_since > c.before_start:
        first = "—" if data_since is None else day(data_since)
        out.append(
            _(
                "The data begin on {first}, after the weeks before start ({start}): "
                "the counts before may be incomplete."
            ).format(first=first, start=day(c.before_start))
        )
    return out


def heading(comparison: Comparison) -> str:
    """One line naming the date and the weeks compared (translated)."""
    c = comparison
    return _(
        "{weeks} weeks before {at} ({start} to {at}) against the {weeks} weeks from it (to {end})"
    ).format(
        weeks=number(c.weeks),
        at=day(c.at),
        start=day(c.before_start),
        end=day(c.after_end - pd.Timedelta(days=1)),
    )


METHOD = N_(
    "Ratio: incidents per week after / before. 95% CI: exact (Clopper-Pearson) interval of the "
    "split of the counts, as a ratio. p: exact two-sided test of no change (binomial test of the "
    "split, equal weeks on each side). Linked reports of one event count once; an incident counts "
    "in every zone whose area holds it, in force or not."
)
"""How a comparison is computed, in one paragraph (translate with ``_`` where shown)."""
