"""The map legend: verdicts, parties and attribution basis, new incidents, hex cells, lines and zones.

Colours and wording come from :mod:`geo.render.palette`, as in the printed legend.
"""

from __future__ import annotations

from geo.core.model import VERDICTS, Scenario
from geo.i18n import _
from geo.render import palette as pal
from geo.render.webmap.escape import html_text

_SVG18 = '<svg class="tl-swatch" width="18" height="18" viewBox="0 0 18 18">'
_SVG26 = '<svg class="tl-swatch" width="26" height="16" viewBox="0 0 26 16">'
_ROW = '<div class="row">{}<span>{}</span></div>'


def _swatch_circle(fill: str, stroke: str, dash: str = "", radius: int = 6) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'{_SVG18}<circle cx="9" cy="9" r="{radius}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2.5"{dash_attr}/></svg>'
    )


def _swatch_zone(style: pal.ZoneStyle) -> str:
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return (
        f'{_SVG26}<rect x="2" y="2" width="22" height="12" '
        f'fill="{style.colour}" fill-opacity="{style.swatch_opacity:g}" stroke="{style.colour}" '
        f'stroke-width="2"{dash}/></svg>'
    )


def _symbols() -> list[str]:
    """The rows for new incidents and hex cells."""
    breach, new = pal.VERDICT_COLOURS["breach"], pal.NEW_COLOUR
    hexagon = '<polygon points="9,1 16,5 16,13 9,17 2,13 2,5"'
    return [
        _ROW.format(
            f'{_SVG18}<circle cx="9" cy="9" r="7" fill="none" stroke="{new}" stroke-width="3"/></svg>',
            html_text(_(pal.LEGEND_NEW)),
        ),
        _ROW.format(
            f'{_SVG18}{hexagon} fill="{breach}" fill-opacity=".6"/></svg>', html_text(_(pal.LEGEND_CELLS))
        ),
        _ROW.format(
            f'{_SVG18}<circle cx="9" cy="9" r="5" fill="{breach}" stroke="#fff"/></svg>',
            html_text(_(pal.LEGEND_CELL_BREACHES)),
        ),
    ]


def legend_html(scenario: Scenario) -> str:
    """The legend's HTML (every data text escaped), folded: the map opens it when there is room."""
    parts = [
        f"<details><summary>{html_text(_(pal.LEGEND_TITLE))}</summary>",
        f"<h4>{html_text(_(pal.LEGEND_VERDICT_WEB))}</h4>",
    ]
    parts += [
        _ROW.format(_swatch_circle(pal.VERDICT_COLOURS[v], "#666"), html_text(_(pal.VERDICT_LABELS[v])))
        for v in VERDICTS
    ]
    parts.append(f"<h4>{html_text(_(pal.LEGEND_PARTY_WEB))}</h4>")
    inferred = pal.ATTRIBUTION_DASHES["inferred_from_side"]
    for i, p in enumerate(scenario.parties):
        colour = pal.party_colour(p.colour, i)
        parts.append(
            _ROW.format(
                _swatch_circle("#fff", colour) + _swatch_circle("#fff", colour, inferred),
                html_text(f"{p.short_name or p.name}: {_(pal.LEGEND_PARTY_BASIS)}"),
            )
        )
    unattributed = _swatch_circle("#fff", pal.UNATTRIBUTED_COLOUR, pal.ATTRIBUTION_DASHES["unattributed"])
    parts.append(_ROW.format(unattributed, html_text(_(pal.UNATTRIBUTED_LABEL))))
    parts += _symbols()
    parts.append(f"<h4>{html_text(_(pal.LEGEND_LINES_ZONES))}</h4>")
    line = f'{_SVG26}<line x1="1" y1="8" x2="25" y2="8" stroke="{pal.LINE_COLOUR}" stroke-width="3.5"/></svg>'
    parts.append(_ROW.format(line, html_text(_(pal.LEGEND_LINE))))
    kinds = list(dict.fromkeys(z.kind for z in scenario.zones))
    parts += [
        _ROW.format(_swatch_zone(pal.zone_style(k)), html_text(_(pal.zone_kind_label(k)))) for k in kinds
    ]
    parts.append("</details>")
    return "".join(parts)


def place_legend_html(verdict: str, kinds: list[str], *, radius_text: str, uncertainty_text: str) -> str:
    """The legend of an incident's small map: the incident, its disk, the search radius, line and zones."""
    colour = pal.VERDICT_COLOURS.get(verdict, pal.UNATTRIBUTED_COLOUR)
    disk = (
        f'{_SVG18}<circle cx="9" cy="9" r="7" fill="{colour}" fill-opacity=".25" stroke="{colour}" '
        'stroke-width="1.5" stroke-dasharray="3 2"/></svg>'
    )
    search = f'{_SVG18}<circle cx="9" cy="9" r="7" fill="none" stroke="#444" stroke-dasharray="4 3"/></svg>'
    line = f'{_SVG26}<line x1="1" y1="8" x2="25" y2="8" stroke="{pal.LINE_COLOUR}" stroke-width="3.5"/></svg>'
    title = _("Legend")
    parts = [
        f"<details><summary>{html_text(title)}</summary>",
        _ROW.format(
            f'{_SVG18}<circle cx="9" cy="9" r="6" fill="{colour}" stroke="#000" stroke-width="3"/></svg>',
            html_text(_("This incident")),
        ),
        _ROW.format(disk, html_text(uncertainty_text)),
        _ROW.format(search, html_text(radius_text)),
        _ROW.format(line, html_text(_("Nearest demarcation line; dashes: the distance to it"))),
    ]
    parts += [
        _ROW.format(_swatch_zone(pal.zone_style(k)), html_text(_(pal.zone_kind_label(k)))) for k in kinds
    ]
    parts.append("</details>")
    return "".join(parts)
