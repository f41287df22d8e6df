"""The pages of the briefing: the map, the key figures with spikes and trend, and the breaches."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from geo.core import trends
from geo.core.duplicates import distinct_events
from geo.core.grading import UNCONFIRMED
from geo.core.model import VERDICTS, Scenario
from geo.render import palette as pal
from geo.render.image import render_map_image
from geo.render.pdf.breaches import BREACH_COLUMNS
from geo.render.pdf.chart import CHART_IN, trend_png
from geo.render.pdf.document import BODY_W, GREY, MARGIN, PAGE_H, RED, BriefingDocument, Mark
from geo.render.pdf.kpi import duration, kpi_cells, kpi_table, total_row
from geo.render.pdf.period import SPIKE_LOOKBACK, Period
from geo.render.text import BASEMAP_ATTRIBUTION, fmt_time, party_names

_KPI_WIDTHS = (83, 28, 28, 35, 32, 28, 35)


def map_page(doc: BriefingDocument, view: pd.DataFrame, dpi: int) -> None:
    """Page 1: title, window, counts and the map."""
    doc.add_page()
    doc.h1(doc.doc_title)
    doc.para("Window and filters: " + doc.filters.describe(), size=8.5)
    events = distinct_events(view)  # the map shows every report; the counts count linked ones once
    verdict = events["verdict"].astype(object).value_counts()
    counts = ", ".join(f"{int(verdict.get(v, 0)):,} {pal.VERDICT_PLURALS[v].lower()}" for v in VERDICTS)
    if "verdict_note" in events:
        weak = int((events["verdict_note"].astype(object) == UNCONFIRMED).sum())
        if weak:
            counts += f" ({weak:,} of the breaches from unconfirmed sources only)"
    reports = (
        ""
        if len(events) == len(view)
        else f" ({len(view):,} reports: linked reports of one event count once)"
    )
    doc.para(f"Data as of {fmt_time(doc.as_of)}. {len(events):,} incidents{reports}: {counts}.", bold=True)
    doc.key([(pal.VERDICT_COLOURS[v], pal.VERDICT_LABELS[v]) for v in VERDICTS])
    top = doc.get_y() + 1.5
    height = PAGE_H - 17.0 - 12.0 - top
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
        alt_text="Map of the incidents in the window, by verdict and party",
    )
    doc.set_y(top + height + 1.0)
    sources = view["source"].astype(object).fillna("").value_counts().head(5) if "source" in view else {}
    src = ", ".join(f"{k or 'unknown'} ({n:,})" for k, n in sources.items())
    agreements = "; ".join(dict.fromkeys(ln.agreement for ln in doc.scenario.lines if ln.agreement))
    doc.para(
        f"{BASEMAP_ATTRIBUTION}{f'. {snap.places_credit}' if snap.places_credit else ''}. "
        f"Lines and zones: {doc.scenario.name}"
        f"{f' ({agreements})' if agreements else ''}. Incidents: {src or 'none'}. "
        f"Azimuthal equidistant projection centred on the map; scale bar true at its centre."
        + "".join(f" {line}." for line in pal.provenance_lines(doc.scenario)),
        size=6.5,
        colour=GREY,
    )
    if snap.outside_extent:
        doc.para(
            f"{snap.outside_extent:,} incidents of the view lie outside the map extent.",
            size=6.5,
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
    doc.h1("Key figures")
    doc.para(
        f"Period: {fmt_time(period.start)} to {fmt_time(period.end)} "
        f"({duration(period.length)}), compared with the previous period of the same length, "
        f"{fmt_time(period.previous_start)} to {fmt_time(period.start)}. "
        "Change is the period minus the previous period."
    )
    if not covered:
        doc.para(
            "The previous period is not available: the data supplied covers only the window "
            "(pass the history to compare).",
            colour=RED,
            bold=True,
        )
    header = ["Breaches", "Previous", "Change", "Possible breaches", "Previous", "Change"]
    num = ["RIGHT"] * 6
    party = kpi_table(history, doc.scenario, period, by="party", covered=covered)
    doc.h2("By attributed party")
    rows = [kpi_cells(r) for _, r in party.iterrows()]
    rows.append(kpi_cells(total_row(party, covered), name="All parties"))
    marks = [*_marks(doc.scenario, party.index, by="party"), None]
    doc.grid(["Party", *header], rows, _KPI_WIDTHS, align=["LEFT", *num], bold_last=True, marks=marks)
    unconfirmed_footnote(doc, history, period)
    zone = kpi_table(history, doc.scenario, period, by="zone", covered=covered)
    doc.h2("By zone (an incident in nested zones counts in each)")
    doc.grid(
        ["Zone", *header],
        [kpi_cells(r) for _, r in zone.iterrows()],
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
        alt_text="Trend chart of breaches and possible breaches by party",
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
        f"Of the {len(breaches):,} breaches of the period, {weak:,} "
        f"{'is' if weak == 1 else 'are'} shown as \"breach ({UNCONFIRMED})\": every report of "
        f"{'it' if weak == 1 else 'them'} is graded E/F (source unreliable or not judged) or 5/6 "
        "(information improbable or not judged) on the Admiralty scale. They are counted above.",
        size=8.5,
        colour=RED,
    )


def spikes(doc: BriefingDocument, history: pd.DataFrame, period: Period, *, covered: bool) -> None:
    """The spike alerts table."""
    doc.h2("Spike alerts: last 7 days against the 4 weeks before them, by zone and party")
    if not covered:
        doc.para(
            "Not computed: the data supplied does not cover the 4 weeks before the last 7 days.",
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
            f"No spikes: no zone and party rose more than {trends.MODERATE_RATIO - 1:.0%} above "
            f"its 4-week weekly mean with at least {trends.DEFAULT_FLOOR} breaches and possible "
            f"breaches in the last 7 days to {fmt_time(period.end)}."
        )
        return
    zones = {z.id: z.name for z in doc.scenario.zones}
    parties = party_names(doc.scenario)
    rows = [
        [
            r.level.upper(),
            zones.get(r.zone, r.zone),
            parties.get(r.party, r.party),
            f"{r.last_7d:,}",
            f"{r.baseline:.1f}",
            "new" if np.isinf(r.change) else f"{r.change:+.0%}",
        ]
        for r in found.itertuples()
    ]
    doc.grid(
        ["Level", "Zone", "Party", "Last 7 days", "Weekly mean, 4 weeks before", "Change"],
        rows,
        [22, 80, 72, 28, 45, 26],
        align=["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"],
    )
    doc.para(
        f"Spike: more than {trends.SPIKE_RATIO - 1:.0%} above the mean; moderate: "
        f"{trends.MODERATE_RATIO - 1:.0%} to {trends.SPIKE_RATIO - 1:.0%}. Breaches and possible "
        "breaches count.",
        size=7,
        colour=GREY,
    )


def breaches_pages(doc: BriefingDocument, rows: pd.DataFrame, *, total: int) -> None:
    """Pages 3 and on: the breaches, most recent first."""
    doc.add_page()
    doc.h1("Breaches in the window")
    if total == 0:
        doc.para("No breaches in the window.")
        return
    shown = len(rows)
    note = (
        f"All {total:,} breaches, most recent first."
        if shown == total
        else f"The {shown:,} most recent of {total:,} breaches; the full list is in the CSV, GeoJSON "
        "and GeoPackage exports."
    )
    doc.para(
        note + " Party basis 'inferred from side' means the party was not reported but taken "
        "from the side of the line the incident lies on."
    )
    doc.ln(1.0)
    widths = [w for _, w in BREACH_COLUMNS]
    doc.grid(
        [c for c, _ in BREACH_COLUMNS],
        rows.to_numpy().tolist(),
        widths,
        align=["LEFT"] * len(widths),
        size=7.0,
    )
