"""The pages of the briefing: the map, the key figures with spikes and trend, and the breaches."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from geo.core import trends
from geo.core.duplicates import distinct_events
from geo.core.grading import UNCONFIRMED
from geo.core.model import VERDICTS, Scenario
from geo.i18n import N_, _, ngettext
from geo.localize import day, number, percent
from geo.render import palette as pal
from geo.render.image import render_map_image
from geo.render.pdf.breaches import BREACH_COLUMNS, word
from geo.render.pdf.chart import CHART_IN, trend_png
from geo.render.pdf.document import BODY_W, GREY, MARGIN, PAGE_H, RED, BriefingDocument, Mark
from geo.render.pdf.kpi import duration, kpi_cells, kpi_table, total_row
from geo.render.pdf.period import SPIKE_LOOKBACK, Period
from geo.render.places import attribution
from geo.render.text import BASEMAP_ATTRIBUTION, describe_filters, fmt_time, party_names

_KPI_WIDTHS = (83, 28, 28, 35, 32, 28, 35)
_CAPTION = 6.5
"""Type size of the map's caption (pt)."""
_LEVELS = {"spike": N_("SPIKE"), "moderate": N_("MODERATE")}


def map_page(doc: BriefingDocument, view: pd.DataFrame, dpi: int) -> None:
    """Page 1: title, window, counts and the map."""
    doc.add_page()
    doc.h1(doc.doc_title)
    doc.para(_("Window and filters: {filters}").format(filters=describe_filters(doc.filters)), size=8.5)
    events = distinct_events(view)  # the map shows every report; the counts count linked ones once
    verdict = events["verdict"].astype(object).value_counts()
    counts = _(", ").join(
        _("{count} {label}").format(
            count=number(int(verdict.get(v, 0))), label=_(pal.VERDICT_PLURALS[v]).lower()
        )
        for v in VERDICTS
    )
    if "verdict_note" in events:
        weak = int((events["verdict_note"].astype(object) == UNCONFIRMED).sum())
        if weak:
            counts += " " + ngettext(
                "({count} of the breaches from unconfirmed sources only)",
                "({count} of the breaches from unconfirmed sources only)",
                weak,
            ).format(count=number(weak))
    total = ngettext("{count} incident", "{count} incidents", len(events)).format(count=number(len(events)))
    if len(events) != len(view):
        total += " " + _("({count} reports: linked reports of one event count once)").format(
            count=number(len(view))
        )
    doc.para(
        _("Data as of {time}. {incidents}: {counts}.").format(
            time=fmt_time(doc.as_of), incidents=total, counts=counts
        ),
        bold=True,
    )
    doc.key([(pal.VERDICT_COLOURS[v], _(pal.VERDICT_LABELS[v])) for v in VERDICTS])
    sources = view["source"].astype(object).fillna("").value_counts().head(5) if "source" in view else {}
    unknown = _("unknown")
    src = _(", ").join(f"{k or unknown} ({number(n)})" for k, n in sources.items())
    agreements = "; ".join(dict.fromkeys(ln.agreement for ln in doc.scenario.lines if ln.agreement))
    lines_zones = doc.scenario.name + (f" ({agreements})" if agreements else "")
    caption = _(
        "{basemap}. Lines and zones: {lines_zones}. Incidents: {sources}. Azimuthal equidistant "
        "projection centred on the map; scale bar true at its centre."
    ).format(basemap=_(BASEMAP_ATTRIBUTION), lines_zones=lines_zones, sources=src or _("none")) + "".join(
        f" {line}." for line in pal.provenance_lines(doc.scenario)
    )
    top = doc.get_y() + 1.5
    # The caption under the map (and a line for incidents outside it) stays on the page,
    # however long its translation.
    longest = (
        f"{attribution(places=True, rivers=True, osm=True)}. {caption}"  # the places' credit comes first
    )
    height = PAGE_H - 17.0 - max(12.0, doc.text_height(longest, size=_CAPTION) + 4.5) - top
    snap = render_map_image(
        view,
        doc.scenario,
        filters=doc.filters,
        as_of=doc.as_of,
        dpi=dpi,
        size=(BODY_W / 25.4, height / 25.4),
        frame=False,
    )
    doc.image(
        io.BytesIO(snap.png),
        x=MARGIN,
        y=top,
        w=BODY_W,
        h=height,
        alt_text=_("Map of the incidents in the window, by verdict and party"),
    )
    doc.set_y(top + height + 1.0)
    credit = f"{snap.places_credit}. " if snap.places_credit else ""
    doc.para(credit + caption, size=_CAPTION, colour=GREY)
    if snap.outside_extent:
        doc.para(
            ngettext(
                "{count} incident of the view lies outside the map extent.",
                "{count} incidents of the view lie outside the map extent.",
                snap.outside_extent,
            ).format(count=number(snap.outside_extent)),
            size=_CAPTION,
            colour=GREY,
        )


def _marks(scenario: Scenario, ids: pd.Index, *, by: str) -> list[Mark | None]:
    """The colour marks of key-figure rows: each party's colour, or each zone's as on the map."""
    if by == "party":
        colours = pal.party_colours(scenario)
        found = [colours.get("" if i == trends.UNATTRIBUTED else i) for i in ids]
        return [(c, c) if c else None for c in found]
    kinds = {z.id: z.kind for z in scenario.zones}
    styles = [pal.zone_style(kinds[i]) if i in kinds else None for i in ids]
    return [(s.swatch_fill, s.colour) if s else None for s in styles]


def figures_page(
    doc: BriefingDocument, history: pd.DataFrame, period: Period, *, covered: bool, dpi: int
) -> None:
    """Page 2: key figures per party and zone, spike alerts, trend chart."""
    doc.add_page()
    doc.h1(_("Key figures"))
    doc.para(
        _(
            "Period: {start} to {end} ({length}), compared with the previous period of the same "
            "length, {previous} to {start}. Change is the period minus the previous period."
        ).format(
            start=fmt_time(period.start),
            end=fmt_time(period.end),
            length=duration(period.length),
            previous=fmt_time(period.previous_start),
        )
    )
    if not covered:
        doc.para(
            _(
                "The previous period is not available: the data supplied covers only the window "
                "(pass the history to compare)."
            ),
            colour=RED,
            bold=True,
        )
    header = [_("Breaches"), _("Previous"), _("Change"), _("Possible breaches"), _("Previous"), _("Change")]
    num = ["RIGHT"] * 6
    party = kpi_table(history, doc.scenario, period, by="party", covered=covered)
    doc.h2(_("By attributed party"))
    rows = [kpi_cells(r) for _i, r in party.iterrows()]
    rows.append(kpi_cells(total_row(party, covered), name=_("All parties")))
    marks = [*_marks(doc.scenario, party.index, by="party"), None]
    doc.grid([_("Party"), *header], rows, _KPI_WIDTHS, align=["LEFT", *num], bold_last=True, marks=marks)
    unconfirmed_footnote(doc, history, period)
    zone = kpi_table(history, doc.scenario, period, by="zone", covered=covered)
    doc.h2(_("By zone (an incident in nested zones counts in each)"))
    doc.grid(
        [_("Zone"), *header],
        [kpi_cells(r) for _i, r in zone.iterrows()],
        _KPI_WIDTHS,
        align=["LEFT", *num],
        marks=_marks(doc.scenario, zone.index, by="zone"),
    )
    spikes(doc, history, period, covered=covered)
    if doc.get_y() + BODY_W * CHART_IN[1] / CHART_IN[0] + 2.0 > doc.page_break_trigger:
        doc.add_page()
    doc.ln(2.0)
    doc.image(
        io.BytesIO(trend_png(history, doc.scenario, period, dpi)),
        x=MARGIN,
        w=BODY_W,
        alt_text=_("Trend chart of breaches and possible breaches by party"),
    )


def unconfirmed_footnote(doc: BriefingDocument, history: pd.DataFrame, period: Period) -> None:
    """
    Under the key figures: how many of the period's breaches rest only on weak reports.

    A breach whose every report is graded E/F or 5/6 keeps its verdict and is counted, but
    is shown as "breach (unconfirmed source)" (:func:`geo.core.grading.confidence_notes`).
    """
    if "verdict_note" not in history or history.empty:
        return
    at = pd.to_datetime(history["occurred_at"], utc=True)
    inside = ((at >= pd.Timestamp(period.start)) & (at < pd.Timestamp(period.end))).to_numpy()
    breaches = history[inside & (history["verdict"].astype(object) == "breach").to_numpy()]
    weak = int((breaches["verdict_note"].astype(object) == UNCONFIRMED).sum())
    if not weak:
        return
    doc.para(
        ngettext(
            'Of the {total} breaches of the period, {count} is shown as "breach (unconfirmed '
            'source)": every report of it is graded E/F (source unreliable or not judged) or 5/6 '
            "(information improbable or not judged) on the Admiralty scale. It is counted above.",
            'Of the {total} breaches of the period, {count} are shown as "breach (unconfirmed '
            'source)": every report of them is graded E/F (source unreliable or not judged) or 5/6 '
            "(information improbable or not judged) on the Admiralty scale. They are counted above.",
            weak,
        ).format(total=number(len(breaches)), count=number(weak)),
        size=8.5,
        colour=RED,
    )


def spikes(doc: BriefingDocument, history: pd.DataFrame, period: Period, *, covered: bool) -> None:
    """The spike alerts table."""
    doc.h2(_("Spike alerts: last 7 days against the 4 weeks before them, by zone and party"))
    if not covered:
        doc.para(
            _("Not computed: the data supplied does not cover the 4 weeks before the last 7 days."),
            colour=RED,
        )
        return
    occurred = pd.to_datetime(history["occurred_at"], utc=True)
    recent = history[
        (occurred >= period.end - SPIKE_LOOKBACK)
        & (occurred < period.end)
        & history["verdict"].astype(object).isin(["breach", "possible_breach"])
    ]
    # geo.core.trends.explode_zones fails on an empty frame; with nothing to count there is no spike.
    found = trends.spikes(recent, as_of=period.end, by=("zone", "party")) if len(recent) else pd.DataFrame()
    if not len(found):
        doc.para(
            _(
                "No spikes: no zone and party rose more than {ratio} above its 4-week weekly mean "
                "with at least {floor} breaches and possible breaches in the last 7 days to {end}."
            ).format(
                ratio=percent(trends.MODERATE_RATIO - 1),
                floor=number(trends.DEFAULT_FLOOR),
                end=fmt_time(period.end),
            )
        )
        return
    zones = {z.id: z.name for z in doc.scenario.zones}
    parties = party_names(doc.scenario)
    rows = [
        [
            _(_LEVELS.get(r.level, r.level)),
            zones.get(r.zone, r.zone),
            parties.get(r.party, r.party),
            number(r.last_7d),
            number(r.baseline, decimals=1),
            _("new") if np.isinf(r.change) else percent(r.change, signed_=True),
        ]
        for r in found.itertuples()
    ]
    doc.grid(
        [_("Level"), _("Zone"), _("Party"), _("Last 7 days"), _("Weekly mean, 4 weeks before"), _("Change")],
        rows,
        [22, 80, 72, 28, 45, 26],
        align=["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"],
    )
    doc.para(
        _(
            "Spike: more than {spike} above the mean; moderate: {moderate} to {spike}. Breaches and "
            "possible breaches count."
        ).format(spike=percent(trends.SPIKE_RATIO - 1), moderate=percent(trends.MODERATE_RATIO - 1)),
        size=7,
        colour=GREY,
    )


def breaches_pages(doc: BriefingDocument, rows: pd.DataFrame, *, total: int) -> None:
    """Pages 3 and on: the breaches, most recent first."""
    doc.add_page()
    doc.h1(_("Breaches in the window"))
    if total == 0:
        doc.para(_("No breaches in the window."))
        return
    shown = len(rows)
    note = (
        ngettext(
            "All {total} breaches, most recent first.", "All {total} breaches, most recent first.", total
        ).format(total=number(total))
        if shown == total
        else ngettext(
            "The {shown} most recent of {total} breaches; the full list is in the CSV, GeoJSON and "
            "GeoPackage exports.",
            "The {shown} most recent of {total} breaches; the full list is in the CSV, GeoJSON and "
            "GeoPackage exports.",
            total,
        ).format(shown=number(shown), total=number(total))
    )
    doc.para(
        note
        + " "
        + _(
            "Party basis 'inferred from side' means the party was not reported but taken from the "
            "side of the line the incident lies on."
        )
    )
    doc.ln(1.0)
    widths = [w for _c, w in BREACH_COLUMNS]
    doc.grid(
        [_(c) for c, _w in BREACH_COLUMNS],
        rows.to_numpy().tolist(),
        widths,
        align=["LEFT"] * len(widths),
        size=7.0,
    )


def rules_section(doc: BriefingDocument, breaches: pd.DataFrame) -> None:
    """
    The scenario's rules, each quoting the agreement, with the breaches of the view under it.

    The quotes are the manifest's, in the briefing's language where the manifest gives a
    translation (marked unofficial in the manifest itself), else in the original.
    """
    rules = doc.scenario.rules
    if not rules:
        return
    fired: dict[str, int] = {}
    for cell in breaches["rules"].astype(object).fillna("").astype(str) if len(breaches) else []:
        for rule_id in filter(None, cell.split(";")):
            fired[rule_id] = fired.get(rule_id, 0) + 1
    zones = {z.id: z.name for z in doc.scenario.zones}
    parties = {p.id: p.short_name or p.name for p in doc.scenario.parties}
    doc.h2(_("The rules, as the agreement words them"), keep=40.0)
    rows = []
    for r in rules:
        deadline = "\n" + _("after {day}").format(day=day(r.deadline)) if r.deadline is not None else ""
        rows.append(
            [
                f"{r.id}\n({word(r.severity)}){deadline}",
                zones.get(r.zone, r.zone),
                _(", ").join(parties.get(p, p) for p in r.parties)
                if "*" not in r.parties
                else _("all parties"),
                number(fired.get(r.id, 0)),
                r.text,
            ]
        )
    doc.grid(
        [_("Rule"), _("Zone"), _("Binds"), _("Breaches"), _("Text")],
        rows,
        [42, 40, 34, 18, BODY_W - 134],
        align=["LEFT", "LEFT", "LEFT", "RIGHT", "LEFT"],
        size=7.0,
    )
