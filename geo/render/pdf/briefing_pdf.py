"""PDF briefing of an incident view: map, key figures, trend, spikes and the breaches.

Page 1 is the map snapshot. Page 2 has the key figures for the period against the
period before it (per party and per zone, from :func:`geo.core.trends.kpis`), a trend chart
and the spike alerts (:func:`geo.core.trends.spikes`). With a before/after comparison
(:func:`geo.core.compare.compare_rates`), a page gives its table: incidents per week
either side of the agreement, per zone × party, with the rate ratio and the exact
test. The pages after it list the breaches, most recent first. All text is real PDF
text in the shipped Noto fonts, so Arabic, Korean and Cyrillic names render and can be
copied; Arabic is shaped with HarfBuzz
(``uharfbuzz``) when the document holds text that needs it.

Languages
---------
``lang`` chooses the language of every word the briefing prints (the gettext catalogues
of :mod:`geo.i18n`) and of the scenario's names and rule quotes (the manifest's
translations, :func:`geo.render.text.localized`); numbers and dates are written for it
(Babel, :mod:`geo.localize`), with Western or, in Arabic, Eastern Arabic ``digits``. An
Arabic briefing is laid out right to left: headings and paragraphs aligned right, tables
and the map's colour keys mirrored, every line shaped and ordered by the Unicode
bidirectional algorithm, so Latin names and numbers inside Arabic text read correctly.

The period and the history
--------------------------
The *period* is the filter window ``[since, until)``; ``until`` defaults to ``as_of``
(and is capped at it), and with no ``since`` the period is the 7 days before its end.
The *previous period* is the span of the same length just before it. Comparing the
two needs incidents from before the window, which the filtered ``view`` does not
hold: pass ``history``, the incident view for the same filters over at least
``[history_since(filters, as_of), end)``. Spike alerts need the 5 weeks before the end
too; :func:`history_since` covers both. Without ``history`` (and with a ``since``),
the previous-period columns read "n/a" and the spike alerts are left out, saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from geo.core.compare import Comparison
from geo.core.duplicates import distinct_events
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.i18n import _, is_rtl, language, use_language
from geo.localize import Digits, use_digits
from geo.render.fonts import needs_shaping
from geo.render.pdf.before_after import before_after_page
from geo.render.pdf.breaches import breach_rows
from geo.render.pdf.document import BriefingDocument
from geo.render.pdf.evidence import EvidenceImage, caption_lines, evidence_pages
from geo.render.pdf.pages import breaches_pages, figures_page, map_page, rules_section
from geo.render.pdf.period import key_period
from geo.render.text import localized, utc

MAX_ROWS = 200
"""Breaches listed by default; the rest are counted and left to the data exports."""


def render_briefing_pdf(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    history: pd.DataFrame | None = None,
    title: str | None = None,
    max_rows: int = MAX_ROWS,
    dpi: int = 200,
    before_after: Comparison | None = None,
    before_after_notes: Sequence[str] = (),
    evidence: Sequence[EvidenceImage] = (),
    lang: str | None = None,
    digits: Digits | None = None,
) -> bytes:
    """
    Render the PDF briefing of an incident view.

    Parameters
    ----------
    view
        The filtered incident view (normalised, classification and store columns).
    scenario
        The scenario the view was classified against.
    filters
        The filters that produced ``view``; printed on every page.
    as_of
        When the data was current (UTC); printed on every page.
    history
        The incident view for the same filters over at least
        ``[history_since(filters, as_of), end)``: the previous period and the spike
        baseline. Default: ``view``, which is enough only when the filters have no
        ``since``.
    title
        Default: "Briefing: " and the scenario name.
    max_rows
        How many breaches the table lists (most recent first); the rest are counted.
    dpi
        Resolution of the map and the chart.
    before_after
        The comparison around the scenario's agreement date; with ``before_after_notes``
        alone (no comparison), the page says why there is none; with neither, no page.
    before_after_notes
        Caveats of the comparison, or the reason there is none, one sentence each
        (already in the briefing's language).
    evidence
        Evidence images to print after the breaches, each with its SHA-256 (already
        without EXIF: :func:`geo.services.evidence.briefing_images`).
    lang
        The briefing's language (``en``, ``ar``, ``fr``, ...; default: the language of the
        run). ``ar`` lays the document out right to left.
    digits
        ``latn`` (0-9) or ``arab`` (Eastern Arabic digits, Arabic only); default: the
        run's choice (:func:`geo.localize.use_digits`), else ``latn``.

    Returns
    -------
    bytes
        The PDF document.
    """
    _check(view, max_rows)
    with use_language(lang or language()), use_digits(digits):
        return _render(
            view,
            localized(scenario),
            filters=filters,
            as_of=as_of,
            history=history,
            title=title,
            max_rows=max_rows,
            dpi=dpi,
            before_after=before_after,
            before_after_notes=before_after_notes,
            evidence=evidence,
        )


def _render(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    history: pd.DataFrame | None,
    title: str | None,
    max_rows: int,
    dpi: int,
    before_after: Comparison | None,
    before_after_notes: Sequence[str],
    evidence: Sequence[EvidenceImage],
) -> bytes:
    # The map shows every report; the counts, the trend and the breach table count linked
    # reports of one event once.
    events = distinct_events(view)
    as_of_ts = utc(as_of)
    period = key_period(filters, as_of_ts)
    covered = history is not None or filters.since is None
    hist = distinct_events(history if history is not None else view)
    heading = title or _("Briefing: {scenario}").format(scenario=scenario.name)
    doc = BriefingDocument(scenario, filters, as_of_ts, heading, rtl=is_rtl(), lang=language())
    breaches = breach_rows(events, scenario, max_rows)
    captions = [line for item in evidence for line in caption_lines(item)]
    if not doc.rtl and needs_shaping([*_all_text(view, scenario, filters, breaches), *captions]):
        doc.set_text_shaping(use_shaping_engine=True, direction="ltr")
    map_page(doc, view, dpi)
    figures_page(doc, hist, period, covered=covered, dpi=dpi)
    if before_after is not None or before_after_notes:
        before_after_page(doc, before_after, before_after_notes)
    breach_mask = (events["verdict"].astype(object) == "breach").to_numpy()
    breaches_pages(doc, breaches, total=int(breach_mask.sum()))
    evidence_pages(doc, evidence)
    rules_section(doc, events[breach_mask])
    return bytes(doc.output())


def _check(view: pd.DataFrame, max_rows: int) -> None:
    needed = ("occurred_at", "lon", "lat", "verdict", "attributed_party", "zones", "rules")
    missing = [c for c in needed if c not in view]
    if missing:
        msg = f"brief: view: missing column(s) {', '.join(missing)}"
        raise ValueError(msg)
    if max_rows < 0:
        msg = f"brief: max_rows: must be 0 or more, got {max_rows}"
        raise ValueError(msg)


def _all_text(view: pd.DataFrame, scenario: Scenario, filters: Filters, rows: pd.DataFrame) -> list[str]:
    names = [
        scenario.name,
        *(r.text for r in scenario.rules),
        filters.describe(),
        *(p.name for p in scenario.parties),
        *(z.name for z in scenario.zones),
        *(ln.name for ln in scenario.lines),
    ]
    cells = [str(v) for v in rows.to_numpy().ravel()] if len(rows) else []
    sources = [str(s) for s in view["source"].astype(object).dropna().unique()] if "source" in view else []
    return [*names, *cells, *sources]
