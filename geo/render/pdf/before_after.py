"""The briefing's before/after page: incidents per week either side of the agreement, per zone × party."""

from __future__ import annotations

from collections.abc import Sequence

from geo.core.compare import Comparison
from geo.core.trends import NO_ZONE
from geo.i18n import _
from geo.render import palette as pal
from geo.render.compare_table import HEADERS, METHOD, display_rows, headers, heading
from geo.render.pdf.document import GREY, RED, BriefingDocument, Mark

_WIDTHS = (70, 40, 30, 30, 22, 30, 17, 34)


def _marks(doc: BriefingDocument, zones: Sequence[str]) -> list[Mark | None]:
    kinds = {z.id: z.kind for z in doc.scenario.zones}
    styles = [pal.zone_style(kinds[z]) if z in kinds and z != NO_ZONE else None for z in zones]
    return [(s.swatch_fill, s.colour) if s else None for s in styles]


def before_after_page(doc: BriefingDocument, comparison: Comparison | None, notes: Sequence[str]) -> None:
    """
    The before/after table of the scenario, on a page of its own.

    Parameters
    ----------
    doc
        The briefing.
    comparison
        The comparison around the agreement date, or ``None`` when there is none (the
        ``notes`` say why).
    notes
        Caveats (or the reason there is no comparison), one sentence each.
    """
    doc.add_page()
    doc.h1(_("Before and after the agreement"))
    if comparison is None:
        for note in notes:
            doc.para(note, colour=RED, bold=True)
        return
    doc.para(
        _("Incidents per week, {heading}, by zone and attributed party; every verdict counts.").format(
            heading=heading(comparison)
        )
    )
    for note in notes:
        doc.para(note, colour=RED)
    rows = display_rows(comparison, doc.scenario)
    if rows.empty:
        doc.para(_("No incident in these weeks."), bold=True)
    else:
        doc.grid(
            headers(),
            rows[list(HEADERS)].astype(str).to_numpy().tolist(),
            _WIDTHS,
            align=["LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT"],
            marks=_marks(doc, rows["zone"].tolist()),
        )
    empty = int(((comparison.table["before"] + comparison.table["after"]) == 0).sum())
    if empty:
        doc.para(
            _("{count} zone × party pairs with no incident on either side are not listed.").format(
                count=empty
            ),
            size=7,
            colour=GREY,
        )
    doc.para(_(METHOD), size=7, colour=GREY)
