"""The map legend: verdicts, parties and attribution basis, new incidents, hex cells, lines and zones."""

from __future__ import annotations

from geo.model import VERDICTS, Scenario
from geo.render.palette import (
    ATTRIBUTION_DASHES,
    LINE_COLOUR,
    NEW_COLOUR,
    OTHER_ZONE_STYLE,
    UNATTRIBUTED_COLOUR,
    VERDICT_COLOURS,
    VERDICT_LABELS,
    ZONE_STYLES,
    ZoneStyle,
)
from geo.render.webmap.escape import css_colour, html_text
from geo.render.webmap.popups import label

_SVG18 = '<svg class="tl-swatch" width="18" height="18" viewBox="0 0 18 18">'
_SVG26 = '<svg class="tl-swatch" width="26" height="16" viewBox="0 0 26 16">'


def zone_style(kind: str) -> ZoneStyle:
    """The style of a zone kind (a neutral one for kinds the palette does not know)."""
    return ZONE_STYLES.get(kind, OTHER_ZONE_STYLE)


def _swatch_circle(fill: str, stroke: str, dash: str = "", radius: int = 6) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'{_SVG18}<circle cx="9" cy="9" r="{radius}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2.5"{dash_attr}/></svg>'
    )


def _swatch_zone(style: ZoneStyle) -> str:
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return (
        f'{_SVG26}<rect x="2" y="2" width="22" height="12" '
        f'fill="{style.colour}" fill-opacity="{max(style.fill_opacity, 0.15)}" stroke="{style.colour}" '
        f'stroke-width="2"{dash}/></svg>'
    )


def legend_html(scenario: Scenario) -> str:
    """The legend's HTML (every data text escaped)."""
    row = '<div class="row">{}<span>{}</span></div>'
    parts = ["<details open><summary>Legend</summary>", "<h4>Verdict (marker fill)</h4>"]
    parts += [
        row.format(_swatch_circle(VERDICT_COLOURS[v], "#666"), html_text(VERDICT_LABELS[v])) for v in VERDICTS
    ]
    parts.append("<h4>Party (marker ring)</h4>")
    for p in scenario.parties:
        colour = css_colour(p.colour)
        parts.append(
            row.format(
                _swatch_circle("#fff", colour)
                + _swatch_circle("#fff", colour, ATTRIBUTION_DASHES["inferred_from_side"]),
                html_text(f"{p.short_name or p.name}: reported / inferred from side"),
            )
        )
    parts.append(
        row.format(
            _swatch_circle("#fff", UNATTRIBUTED_COLOUR, ATTRIBUTION_DASHES["unattributed"]), "Unattributed"
        )
    )
    parts.append(
        row.format(
            f'{_SVG18}<circle cx="9" cy="9" r="7" fill="none" stroke="{NEW_COLOUR}" stroke-width="3"/></svg>',
            "New since last refresh",
        )
    )
    parts.append(
        row.format(
            f'{_SVG18}<polygon points="9,1 16,5 16,13 9,17 2,13 2,5" '
            f'fill="{VERDICT_COLOURS["breach"]}" fill-opacity=".6"/></svg>',
            "Many incidents: hex cells, coloured by their most common verdict, darker when fuller",
        )
    )
    parts.append(
        row.format(
            f'{_SVG18}<circle cx="9" cy="9" r="5" fill="{VERDICT_COLOURS["breach"]}" stroke="#fff"/></svg>',
            "Breaches in a cell (size: how many)",
        )
    )
    parts.append("<h4>Lines and zones</h4>")
    parts.append(
        row.format(
            f'{_SVG26}<line x1="1" y1="8" x2="25" y2="8" stroke="{LINE_COLOUR}" stroke-width="3.5"/></svg>',
            "Demarcation line (labels: side each party holds)",
        )
    )
    kinds = list(dict.fromkeys(z.kind for z in scenario.zones))
    parts += [row.format(_swatch_zone(zone_style(k)), html_text(label(k))) for k in kinds]
    parts.append("</details>")
    return "".join(parts)
