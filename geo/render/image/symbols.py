"""The symbols on the map image: zones styled by kind, incidents by verdict and party, lines.

Colour encodes the verdict and marker shape the attributed party (edge in the party's
colour); markers shrink on crowded maps. Lines are drawn under the breaches with a halo,
then again as a hairline over them, with their name and a "party side" label on each side.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.patches import PathPatch

from geo.core._metric import LocalProjection, densify_lonlat
from geo.core.filters import Filters
from geo.core.model import VERDICTS, Line, Scenario, Zone
from geo.core.zones import metric_line, validity_ns
from geo.i18n import _
from geo.render.around import gather
from geo.render.figure import line_paths, polygon_path
from geo.render.fonts import font
from geo.render.image.layout import Z_LABEL, Z_LINE, Z_MAJOR, Z_MINOR, Z_OVER, Z_ZONE, Bbox
from geo.render.palette import (
    LINE_COLOUR,
    UNATTRIBUTED_COLOUR,
    VERDICT_COLOURS,
    party_colours,
    zone_style,
)
from geo.render.text import text_column, utc

PARTY_MARKERS = ("^", "s", "D", "p", "h", "v")
UNATTRIBUTED_MARKER = "o"
SIZE = {"breach": 48.0, "possible_breach": 32.0, "no_breach": 14.0, "outside_monitored_area": 10.0}
"""Marker area (points squared) by verdict, before crowding shrinks it."""
ALPHA = {"breach": 1.0, "possible_breach": 1.0, "no_breach": 0.55, "outside_monitored_area": 0.45}
CROWD = 3000
"""Above this many incidents on the map, markers shrink (with the square root of the count)."""


def filter_window(filters: Filters, as_of: pd.Timestamp) -> tuple[int, int]:
    """The filters' time window in UTC nanoseconds ``[since, until)``; no ``until`` means ``as_of``."""
    lo = utc(filters.since).value if filters.since else np.iinfo(np.int64).min
    hi = utc(filters.until).value if filters.until else as_of.value + 1
    return lo, hi


def in_force(item: Zone | Line, window: tuple[int, int]) -> bool:
    """Whether a zone or line is in force at any time of the window."""
    lo, hi = validity_ns(item.valid_from, item.valid_to)
    return lo < window[1] and hi > window[0]


def _clip(projected: shapely.Geometry, extent: Bbox) -> shapely.Geometry:
    """Clip a metric geometry to the extent, padded by 5 % of its width."""
    xmin, ymin, xmax, ymax = extent
    pad = 0.05 * (xmax - xmin)
    return shapely.clip_by_rect(projected, xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def metric(projection: LocalProjection, geometry: shapely.Geometry, extent: Bbox) -> shapely.Geometry:
    """Project a lon/lat geometry, joined again across ±180°, and clip it to the (padded) extent."""
    return _clip(projection.to_metric(densify_lonlat(gather(geometry, projection.lon0))), extent)


def metric_of_line(projection: LocalProjection, line: Line, extent: Bbox) -> shapely.Geometry:
    """A line in the map's meters, its parts joined into one directed line, clipped to the (padded) extent."""
    return _clip(metric_line(line.geometry, projection, where=f"line[{line.id}]"), extent)


PRINT_WEIGHT = 0.55
"""Points of line per pixel of the palette's screen weights and dashes."""


def zone_patch_kwargs(kind: str, *, swatch: bool = False) -> dict[str, Any]:
    """Matplotlib patch options of a zone kind (``swatch``: with the legend's fill opacity)."""
    style = zone_style(kind)
    opacity = style.swatch_opacity if swatch else style.fill_opacity
    dashes = tuple(float(v) / style.weight for v in style.dash.split()) if style.dash else None
    return {
        "facecolor": to_rgba(style.colour, opacity),
        "edgecolor": style.colour,
        "linestyle": (0, dashes) if dashes else "-",
        "linewidth": PRINT_WEIGHT * style.weight,
    }


def draw_zones(ax: Axes, projection: LocalProjection, zones: list[Zone], extent: Bbox) -> None:
    """The zones, largest first, so nested ones stay visible."""
    for zone in sorted(zones, key=lambda z: -z.geometry.area):
        path = polygon_path(metric(projection, zone.geometry, extent))
        if path is not None:
            ax.add_patch(PathPatch(path, zorder=Z_ZONE, **zone_patch_kwargs(zone.kind)))


def draw_incidents(
    ax: Axes, view: pd.DataFrame, scenario: Scenario, projection: LocalProjection, extent: Bbox
) -> tuple[dict[str, int], int]:
    """One scatter per verdict and party; returns the counts drawn and how many fell outside."""
    counts = dict.fromkeys(VERDICTS, 0)
    if not len(view):
        return counts, 0
    lon = view["lon"].to_numpy(dtype=np.float64)
    lat = view["lat"].to_numpy(dtype=np.float64)
    x, y = projection.forward(lon, lat)
    xmin, ymin, xmax, ymax = extent
    inside = np.isfinite(x) & (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    verdict = text_column(view, "verdict")
    party = text_column(view, "attributed_party")
    markers = party_markers(scenario)
    colours = party_colours(scenario)
    scale = float(np.clip(np.sqrt(CROWD / max(int(inside.sum()), 1)), 0.3, 1.0))
    for v in reversed(VERDICTS):
        vmask = inside & (verdict == v)
        counts[v] = int(vmask.sum())
        major = v in ("breach", "possible_breach")
        for pid in np.unique(party[vmask]):
            m = vmask & (party == pid)
            ax.scatter(
                x[m],
                y[m],
                s=SIZE[v] * scale,
                c=VERDICT_COLOURS[v],
                marker=markers.get(pid, UNATTRIBUTED_MARKER),
                edgecolors=colours.get(pid, UNATTRIBUTED_COLOUR) if major else "none",
                linewidths=0.9 * max(scale, 0.5) if major else 0.0,
                alpha=ALPHA[v],
                rasterized=True,
                zorder=Z_MAJOR if major else Z_MINOR,
            )
    return counts, int((~inside).sum())


def party_markers(scenario: Scenario) -> dict[str, str]:
    """Party id to marker shape, with ``""`` for unattributed."""
    return {
        "": UNATTRIBUTED_MARKER,
        **{p.id: PARTY_MARKERS[i % len(PARTY_MARKERS)] for i, p in enumerate(scenario.parties)},
    }


def draw_lines(
    ax: Axes, projection: LocalProjection, lines: list[Line], scenario: Scenario, extent: Bbox
) -> None:
    """The lines: under the breaches with a halo, over them as a hairline, then their labels."""
    halo = [patheffects.withStroke(linewidth=5.0, foreground="white")]
    for line in lines:
        parts = line_paths(metric_of_line(projection, line, extent))
        for xy in parts:
            # Under the breaches with a halo, and again as a hairline over them: a crowd of
            # breaches cannot hide the line, and the line cannot hide a breach next to it.
            ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=LINE_COLOUR,
                linewidth=2.0,
                solid_capstyle="round",
                zorder=Z_LINE,
                path_effects=halo,
            )
            ax.plot(xy[:, 0], xy[:, 1], color=LINE_COLOUR, linewidth=0.8, zorder=Z_OVER)
        shown = shapely.clip_by_rect(shapely.MultiLineString(parts), *extent) if parts else None
        visible = [p for p in line_paths(shown) if len(p) >= 2] if shown is not None else []
        if visible:
            _label_line(ax, max(visible, key=_length), line, scenario, extent)


def _length(xy: np.ndarray) -> float:
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


def _along(xy: np.ndarray, share: float) -> tuple[np.ndarray, float]:
    """The point at ``share`` of a polyline's length, and the direction there (degrees)."""
    seg = np.hypot(*np.diff(xy, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    target = share * cum[-1]
    i = int(np.clip(np.searchsorted(cum, target) - 1, 0, len(seg) - 1))
    # Smooth the direction over a stretch of the line so a kink does not tilt the label.
    j0 = int(np.searchsorted(cum, max(target - 0.04 * cum[-1], 0.0)))
    j1 = int(np.searchsorted(cum, min(target + 0.04 * cum[-1], cum[-1])))
    d = xy[min(j1, len(xy) - 1)] - xy[max(min(j0, j1 - 1), 0)]
    t = (target - cum[i]) / seg[i] if seg[i] > 0 else 0.0
    return xy[i] + (xy[i + 1] - xy[i]) * t, float(np.degrees(np.arctan2(d[1], d[0])))


def _label_line(ax: Axes, xy: np.ndarray, line: Line, scenario: Scenario, extent: Bbox) -> None:
    names = {p.id: p.short_name or p.name for p in scenario.parties}
    colours = party_colours(scenario)
    offset = 0.045 * (extent[3] - extent[1])
    halo = [patheffects.withStroke(linewidth=3.0, foreground="white")]
    point, angle = _along(xy, 0.25)
    ax.text(
        *_offset(point, angle, -0.6 * offset),
        line.name,
        rotation=_upright(angle),
        rotation_mode="anchor",
        ha="center",
        va="center",
        color=LINE_COLOUR,
        fontproperties=font(8, style="italic"),
        zorder=Z_LABEL,
        path_effects=halo,
        parse_math=False,
    )
    point, angle = _along(xy, 0.6)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pid = line.party_on(side)
        if pid:
            ax.text(
                *_offset(point, angle, sign * offset),
                _("{party} side").format(party=names.get(pid, pid)),
                rotation=_upright(angle),
                rotation_mode="anchor",
                ha="center",
                va="center",
                color=colours.get(pid, UNATTRIBUTED_COLOUR),
                fontproperties=font(10, weight="bold"),
                zorder=Z_LABEL,
                path_effects=halo,
                parse_math=False,
            )


def _offset(point: np.ndarray, angle: float, distance: float) -> tuple[float, float]:
    """Move ``distance`` to the left of the direction ``angle`` (negative: to the right)."""
    a = np.radians(angle)
    return float(point[0] - np.sin(a) * distance), float(point[1] + np.cos(a) * distance)


def _upright(angle: float) -> float:
    return angle - 180.0 if angle > 90.0 else angle + 180.0 if angle < -90.0 else angle
