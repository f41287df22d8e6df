"""Where things go on the image, and the frame around the map.

The layout gives the axes rectangles (map, legend panel, banner, title and footer bands)
in figure fractions; the frame draws the synthetic-data banner, the title block with
"data as of" and the counts, and the footer with the attribution. The z-order constants
stack the map's layers, bottom to top.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from geo.core._metric import LocalProjection
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.i18n import _, is_rtl, ngettext
from geo.localize import number
from geo.render import text as txt
from geo.render.fonts import font
from geo.render.palette import SYNTHETIC_BANNER, SYNTHETIC_COLOUR, provenance_banner, provenance_lines

Bbox = tuple[float, float, float, float]
"""A box: ``(west, south, east, north)`` degrees, ``(xmin, ymin, xmax, ymax)`` meters, or
``(left, top, right, bottom)`` pixels."""

Z_BASE, Z_ZONE, Z_MINOR, Z_LINE, Z_MAJOR, Z_OVER, Z_LABEL, Z_DECOR = 1, 2, 3, 4, 5, 5.5, 6, 7
"""Stacking of the map's layers: land, zones, minor incidents, lines, breaches, the lines'
hairline, labels, then the scale bar, north arrow and tags."""
PANEL_WIDTH_IN = 2.9


Rect = tuple[float, float, float, float]
"""left, bottom, width, height in figure fractions."""


def layout(
    width: float, height: float, *, frame: bool, synthetic: bool, rtl: bool = False
) -> dict[str, Rect]:
    """Axes rectangles in figure fractions: the map, the legend panel (left of it, ``rtl``), the bands."""
    pad = 0.28
    banner = 0.42 if frame and synthetic else 0.0
    title = 0.95 if frame else 0.0
    footer = 0.5 if frame else 0.0
    panel_w = PANEL_WIDTH_IN
    top = height - banner - title - (pad if not frame else 0.12)
    bottom = pad * 0.6 + footer
    map_w = width - 2 * pad - panel_w - 0.22
    map_x, panel_x = (pad + panel_w + 0.22, pad) if rtl else (pad, pad + map_w + 0.22)
    return {
        "map": (map_x / width, bottom / height, map_w / width, (top - bottom) / height),
        "panel": (panel_x / width, bottom / height, panel_w / width, (top - bottom) / height),
        "banner": (0.0, (height - banner) / height, 1.0, banner / height),
        "title": (pad / width, (height - banner - title) / height, 1 - 2 * pad / width, title / height),
        "footer": (pad / width, pad * 0.4 / height, 1 - 2 * pad / width, footer / height),
    }


def box(extent: object, height: int) -> Bbox:
    """A matplotlib window extent as a pixel box ``(left, top, right, bottom)``, origin top left."""
    x0, y0, x1, y1 = extent.x0, extent.y0, extent.x1, extent.y1  # type: ignore[attr-defined]
    return (float(x0), float(height - y1), float(x1), float(height - y0))


def union_box(artists: list[Any], height: int) -> Bbox:
    """The pixel box holding every artist."""
    boxes = [box(a.get_window_extent(), height) for a in artists]
    lefts, tops, rights, bottoms = zip(*boxes, strict=True)
    return (min(lefts), min(tops), max(rights), max(bottoms))


def point(ax: Axes, xy: tuple[float, float], height: int) -> tuple[float, float]:
    """The pixel position (origin top left) of a point in axes coordinates."""
    dx, dy = ax.transAxes.transform(xy)
    return float(dx), float(height - dy)


def synthetic_tag(ax: Axes, text: str = SYNTHETIC_BANNER) -> None:
    """The synthetic-data tag (or the mixed-data one) in the map's top left corner, in every language."""
    ax.text(
        0.012,
        0.985,
        text,
        transform=ax.transAxes,
        ha="left",
        va="top",
        color="white",
        fontproperties=font(9, weight="bold"),
        zorder=Z_DECOR + 1,
        bbox={"boxstyle": "square,pad=0.35", "facecolor": SYNTHETIC_COLOUR, "edgecolor": "none"},
        parse_math=False,
    )


def _sources_line(view: pd.DataFrame) -> str:
    if "source" not in view or not len(view):
        return _("Incidents: none in view")
    top = view["source"].astype(object).fillna("").value_counts()
    unknown = _("unknown")
    shown = _(", ").join(f"{name or unknown} ({number(n)})" for name, n in top.head(5).items())
    if len(top) > 5:
        more = len(top) - 5
        return ngettext(
            "Incidents: {sources} and {count} more", "Incidents: {sources} and {count} more", more
        ).format(sources=shown, count=number(more))
    return _("Incidents: {sources}").format(sources=shown)


def _chars_per_line(width_in: float, size: float) -> int:
    """About how many characters of ``size`` pt fit ``width_in`` (Noto Sans: about half an em each)."""
    return max(20, int(width_in * 72.0 / (size * 0.5)))


def _footer_size(text: str, width_in: float, *, lines: int = 3, size: float = 7.0) -> float:
    """The type size (pt) at which ``text`` fits ``lines`` lines of ``width_in``: 7, less when long."""
    needed = len(textwrap.wrap(text, _chars_per_line(width_in, size)))
    return max(5.0, size * min(1.0, lines / needed)) if needed else size


def draw_frame(
    fig: Figure,
    rects: dict[str, Rect],
    view: pd.DataFrame,
    scenario: Scenario,
    filters: Filters,
    as_of: pd.Timestamp,
    title: str | None,
    *,
    counts: dict[str, int],
    outside: int,
    borders: bool,
    projection: LocalProjection,
) -> None:
    """The banner (synthetic data), the title block with the counts, and the attribution footer."""
    if scenario.synthetic:
        x, y, w, h = rects["banner"]
        fig.patches.append(
            Rectangle(
                (x, y),
                w,
                h,
                transform=fig.transFigure,
                facecolor=SYNTHETIC_COLOUR,
                edgecolor="none",
                zorder=0,
            )
        )
        fig.text(
            0.5,
            y + h / 2,
            "  \u00b7  ".join(provenance_banner(scenario) or (_(SYNTHETIC_BANNER),)),
            ha="center",
            va="center",
            color="white",
            fontproperties=font(12, weight="bold"),
            parse_math=False,
        )
    x, y, w, h = rects["title"]
    ha = "right" if is_rtl() else "left"
    if is_rtl():  # every line of the frame starts at the right
        x += w
    fig.text(
        x,
        y + h * 0.93,
        title or scenario.name,
        ha=ha,
        va="top",
        fontproperties=font(16, weight="bold"),
        color="#1b2631",
        parse_math=False,
    )
    shown = sum(counts.values())
    summary = _("Data as of {time}   \u00b7   {incidents} shown: {breaches}, {possible}").format(
        time=txt.fmt_time(as_of),
        incidents=ngettext("{count} incident", "{count} incidents", shown).format(count=number(shown)),
        breaches=ngettext("{count} breach", "{count} breaches", counts["breach"]).format(
            count=number(counts["breach"])
        ),
        possible=ngettext(
            "{count} possible breach", "{count} possible breaches", counts["possible_breach"]
        ).format(count=number(counts["possible_breach"])),
    )
    if outside:
        summary += "   \u00b7   " + ngettext(
            "{count} more outside the map extent", "{count} more outside the map extent", outside
        ).format(count=number(outside))
    fig.text(
        x,
        y + h * 0.5,
        summary,
        ha=ha,
        va="center",
        fontproperties=font(9.5, weight="bold"),
        color="#1b2631",
        parse_math=False,
    )
    fig.text(
        x,
        y + h * 0.2,
        _("Window and filters: {filters}").format(filters=txt.describe_filters(filters)),
        ha=ha,
        va="center",
        fontproperties=font(9),
        color="#34495e",
        parse_math=False,
    )
    x, y, w, h = rects["footer"]
    if is_rtl():
        x += w
    agreements = "; ".join(dict.fromkeys(ln.agreement for ln in scenario.lines if ln.agreement))
    basemap = _(txt.BASEMAP_ATTRIBUTION)
    if not borders:
        basemap += _("; international boundaries not drawn at this scale")
    lines_zones = scenario.name + (f" ({agreements})" if agreements else "")
    first = _("{basemap}.  Lines and zones: {lines_zones}.").format(basemap=basemap, lines_zones=lines_zones)
    extra = ".  ".join(provenance_lines(scenario))
    second = (f"{extra}.  " if extra else "") + _(
        "{sources}.  Projection: azimuthal equidistant (WGS84) centred on {lat}, {lon}; the scale bar "
        "is true at the map centre.  Made with Truceline."
    ).format(
        sources=_sources_line(view), lat=txt.deg(projection.lat0, "N", "S"), lon=txt.lon_deg(projection.lon0)
    )
    # One block, wrapped to the page's width: a long attribution (or its translation) flows
    # onto the next line instead of running off the image or over the line below.
    footer = f"{first}  {second}"
    size = _footer_size(footer, w * fig.get_figwidth())
    fig.text(
        x,
        y + h,
        # Wrapped here: matplotlib's own wrapping measures text as mathtext whatever parse_math says.
        textwrap.fill(footer, _chars_per_line(w * fig.get_figwidth(), size)),
        ha=ha,
        va="top",
        multialignment=ha,
        fontproperties=font(size),
        color="#555555",
        parse_math=False,
        linespacing=1.3,
    )
