"""The scale bar (true at the map centre) and the north arrow (true north where it stands)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.text import Text

from geo.core._metric import LocalProjection
from geo.i18n import _
from geo.localize import number
from geo.render.fonts import font
from geo.render.image.layout import Z_DECOR, Bbox


def scale_length_km(width_m: float) -> float:
    """A round scale bar length near a fifth of the map width, in km."""
    target = width_m / 5.0 / 1000.0
    exponent = np.floor(np.log10(target))
    for mult in (5.0, 2.0, 1.0):
        if mult * 10**exponent <= target:
            return float(mult * 10**exponent)
    return float(10**exponent)


def draw_scale_bar(ax: Axes, extent: Bbox) -> tuple[float, list[Any]]:
    """Draw a scale bar of a round length; return the length in km and its bar segments."""
    xmin, ymin, xmax, ymax = extent
    km = scale_length_km(xmax - xmin)
    x0, y0 = xmin + 0.03 * (xmax - xmin), ymin + 0.06 * (ymax - ymin)
    bar_h = 0.011 * (ymax - ymin)
    parts = 4 if km * 4 % 4 == 0 or km >= 1 else 2
    step = km * 1000.0 / parts
    ax.add_patch(
        FancyBboxPatch(
            (x0 - 0.012 * (xmax - xmin), y0 - 0.035 * (ymax - ymin)),
            km * 1000.0 + 0.05 * (xmax - xmin),
            0.07 * (ymax - ymin),
            boxstyle="round,pad=0,rounding_size=0",
            facecolor="white",
            edgecolor="#999999",
            linewidth=0.6,
            alpha=0.85,
            zorder=Z_DECOR,
        )
    )
    bars = []
    for i in range(parts):
        bars.append(
            ax.add_patch(
                Rectangle(
                    (x0 + i * step, y0),
                    step,
                    bar_h,
                    facecolor="#111111" if i % 2 == 0 else "white",
                    edgecolor="#111111",
                    linewidth=0.8,
                    zorder=Z_DECOR + 0.1,
                )
            )
        )
    label_font = font(7.5)
    for value, x in ((0.0, x0), (km / 2.0, x0 + km * 500.0)):
        ax.text(
            x,
            y0 - 0.4 * bar_h,
            number(value),
            ha="center",
            va="top",
            fontproperties=label_font,
            zorder=Z_DECOR + 0.2,
            parse_math=False,
        )
    ax.text(
        x0 + km * 1000.0,
        y0 - 0.4 * bar_h,
        _("{km} km").format(km=number(km)),
        ha="center",
        va="top",
        fontproperties=label_font,
        zorder=Z_DECOR + 0.2,
        parse_math=False,
    )
    return km, bars


def draw_north_arrow(ax: Axes, projection: LocalProjection, extent: Bbox) -> Text:
    """Draw an arrow to true north in the top right corner; return its "N" label."""
    xmin, ymin, xmax, ymax = extent
    bx, by = xmax - 0.045 * (xmax - xmin), ymax - 0.17 * (ymax - ymin)
    lon, lat = projection.inverse(np.array([bx]), np.array([by]))
    nx, ny = projection.forward(lon, lat + 0.05)
    angle = np.arctan2(float(nx[0]) - bx, float(ny[0]) - by)
    length = 0.085 * (ymax - ymin)
    tip = (bx + np.sin(angle) * length, by + np.cos(angle) * length)
    ax.annotate(
        "",
        xy=tip,
        xytext=(bx, by),
        zorder=Z_DECOR,
        arrowprops={
            "arrowstyle": "-|>,head_length=0.9,head_width=0.45",
            "color": "#111111",
            "linewidth": 1.6,
            "shrinkA": 0,
            "shrinkB": 0,
        },
        parse_math=False,
    )
    gap = 0.02 * (ymax - ymin)
    return ax.text(
        tip[0] + np.sin(angle) * gap,
        tip[1] + np.cos(angle) * gap,
        _("N"),
        ha="center",
        va="bottom",
        fontproperties=font(11, weight="bold"),
        zorder=Z_DECOR,
        path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
        parse_math=False,
    )
