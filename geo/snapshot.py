"""Map snapshot of an incident view as a PNG, rendered offline.

The map is drawn with matplotlib (Agg) in an azimuthal equidistant projection centred
on the view, over the shipped Natural Earth countries, so the scale bar is true at
the map centre (within 0.01 % over 160 km and 0.1 % over 500 km). Web tiles are not
used: the snapshot never touches the network.

Layers, bottom to top: sea and land, graticule, zones in force during the window
(styled by kind), incidents with no breach or outside the monitored area, the lines,
possible breaches and breaches, then the lines again as a hairline with their party
side labels, so the agreed line stays visible however many incidents crowd it. Colour
encodes the verdict and marker shape the attributed party (edge in the party's colour);
markers shrink on crowded maps.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyogrio
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, PathPatch, Rectangle

from geo import _render as rnd
from geo._metric import LocalProjection, densify_lonlat
from geo.filters import Filters
from geo.model import VERDICTS, Line, Scenario, Zone
from geo.zones import validity_ns

BASEMAP = Path(__file__).resolve().parent.parent / "data" / "basemap" / "naturalearth_lowres.shp"
SIZES: dict[str, tuple[float, float]] = {"a4": (11.69, 8.27), "16:9": (13.333, 7.5)}
"""Named output sizes in inches: A4 landscape and 16:9 (a 13.33 x 7.5 in slide)."""
MIN_DPI, MAX_DPI = 150, 300
DEFAULT_MARGIN = 0.12
"""Margin around the scenario's lines and zones when no extent is given, as a share of its span."""

SEA, LAND, BORDER = "#d9e6ef", "#f4f1ea", "#a39e93"
BORDERS_MIN_WIDTH_M = 1_000_000.0
"""International boundaries of the 1:110m basemap are drawn only on maps at least this wide."""
PANEL_WIDTH_IN = 2.9
ZONE_STYLES: dict[str, dict[str, object]] = {
    "demilitarized_zone": {"face": "#ffd966", "alpha": 0.55, "edge": "#9c7a00", "ls": "-"},
    "buffer_zone": {"face": "#ffd966", "alpha": 0.55, "edge": "#9c7a00", "ls": "-"},
    "area_of_separation": {"face": "#ffd966", "alpha": 0.55, "edge": "#9c7a00", "ls": "-"},
    "joint_security_area": {"face": "#b388d9", "alpha": 0.8, "edge": "#5b2c6f", "ls": "-"},
    "restricted_area": {"face": "#9ec9e8", "alpha": 0.28, "edge": "#2874a6", "ls": "--"},
    "no_fly_zone": {"face": "none", "alpha": 0.0, "edge": "#7d3c98", "ls": ":"},
    "limitation_zone": {"face": "#a9dfbf", "alpha": 0.28, "edge": "#1e8449", "ls": "--"},
    "security_zone": {"face": "#a9dfbf", "alpha": 0.28, "edge": "#1e8449", "ls": "-."},
    "weapons_withdrawal_zone": {"face": "#a3e4d7", "alpha": 0.3, "edge": "#117a65", "ls": "-."},
}
DEFAULT_ZONE_STYLE: dict[str, object] = {"face": "#d5dbdb", "alpha": 0.3, "edge": "#566573", "ls": "-"}
PARTY_MARKERS = ("^", "s", "D", "p", "h", "v")
UNATTRIBUTED_MARKER = "o"
_SIZE = {"breach": 48.0, "possible_breach": 32.0, "no_breach": 14.0, "outside_monitored_area": 10.0}
_ALPHA = {"breach": 1.0, "possible_breach": 1.0, "no_breach": 0.55, "outside_monitored_area": 0.45}
_Z_BASE, _Z_ZONE, _Z_MINOR, _Z_LINE, _Z_MAJOR, _Z_OVER, _Z_LABEL, _Z_DECOR = 1, 2, 3, 4, 5, 5.5, 6, 7
CROWD = 3000
"""Above this many incidents on the map, markers shrink (with the square root of the count)."""

Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Snapshot:
    """
    A rendered map snapshot and where things are in it.

    Pixel boxes are ``(left, top, right, bottom)`` in image pixels, origin at the top
    left; :meth:`pixel` maps lon/lat to the same coordinates.
    """

    png: bytes
    width: int
    height: int
    dpi: int
    bbox: Bbox
    """The lon/lat extent asked for ``(west, south, east, north)``; the map shows at least this."""
    extent_m: Bbox
    """The extent shown, in projection meters ``(xmin, ymin, xmax, ymax)``."""
    map_box: Bbox
    legend_box: Bbox
    legend_swatches: dict[str, tuple[float, float]]
    """Pixel centre of each legend swatch, keyed ``verdict:<verdict>``, ``party:<id>`` (``party:`` for
    unattributed), ``line:<id>`` and ``zone:<id>``."""
    scale_bar_box: Bbox
    scale_bar_km: float
    north_arrow_box: Bbox
    counts: dict[str, int]
    """Incidents drawn per verdict (those inside the extent)."""
    outside_extent: int
    projection: LocalProjection = field(repr=False, compare=False)

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """
        Image position of a lon/lat point.

        Returns
        -------
        tuple of float
            ``(x, y)`` in pixels from the top-left corner; ``int(x), int(y)`` is the
            pixel that holds the point.
        """
        x, y = self.projection.forward(np.array([lon], dtype=float), np.array([lat], dtype=float))
        xmin, ymin, xmax, ymax = self.extent_m
        left, top, right, bottom = self.map_box
        px = left + (float(x[0]) - xmin) / (xmax - xmin) * (right - left)
        py = top + (ymax - float(y[0])) / (ymax - ymin) * (bottom - top)
        return px, py


def render_snapshot(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    bbox: Bbox | None = None,
    size: Literal["a4", "16:9"] | tuple[float, float] = "a4",
    dpi: int = 200,
    title: str | None = None,
) -> bytes:
    """
    Render a map snapshot of an incident view as PNG bytes.

    Parameters are those of :func:`snapshot`.

    Returns
    -------
    bytes
        The PNG image.
    """
    return snapshot(
        view, scenario, filters=filters, as_of=as_of, bbox=bbox, size=size, dpi=dpi, title=title
    ).png


def snapshot(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    bbox: Bbox | None = None,
    size: Literal["a4", "16:9"] | tuple[float, float] = "a4",
    dpi: int = 200,
    title: str | None = None,
    frame: bool = True,
) -> Snapshot:
    """
    Render a map snapshot of an incident view, with its layout.

    Parameters
    ----------
    view
        The filtered incident view (``lon``, ``lat``, ``verdict``, ``attributed_party``
        and, for the attribution line, ``source``).
    scenario
        The scenario whose lines and zones are drawn (those in force during the window).
    filters
        The filters that produced ``view``; their summary and time window are printed.
    as_of
        When the data was current (UTC).
    bbox
        ``(west, south, east, north)`` in degrees. Default: ``filters.bbox``, else the
        scenario's lines and zones with a margin.
    size
        ``"a4"`` (landscape), ``"16:9"``, or ``(width, height)`` in inches.
    dpi
        150 to 300.
    title
        Default: the scenario name.
    frame
        Draw the banner, title block and footer. The PDF briefing sets this to False
        and prints those as selectable text instead.

    Returns
    -------
    Snapshot
    """
    width_in, height_in = _check(view, size, dpi)
    as_of_ts = rnd.utc(as_of)
    area = _extent_lonlat(view, scenario, bbox if bbox is not None else filters.bbox)
    projection = LocalProjection((area[0] + area[2]) / 2.0, (area[1] + area[3]) / 2.0)
    fig = rnd.new_figure(width_in, height_in, dpi)
    rects = _layout(width_in, height_in, frame=frame, synthetic=scenario.synthetic)
    ax = fig.add_axes(rects["map"])
    extent = _fit_extent(area, projection, rects["map"][2] * width_in / (rects["map"][3] * height_in))
    drawn = _draw_map(ax, view, scenario, projection, area, extent, _window(filters, as_of_ts))
    if not frame:  # the image may be copied out of the PDF: it keeps its date
        ax.text(
            0.99,
            0.012,
            f"Data as of {rnd.fmt_time(as_of_ts)}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontproperties=rnd.font(7.5, weight="bold"),
            zorder=_Z_DECOR,
            bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": "#999999", "alpha": 0.9},
        )
    panel = fig.add_axes(rects["panel"])
    swatches = _draw_legend(panel, scenario, drawn.counts, drawn.lines, drawn.zones)
    if frame:
        _draw_frame(fig, rects, view, scenario, filters, as_of_ts, title, drawn, projection)
    metadata = {
        "Title": title or scenario.name,
        "Description": filters.describe(),
        "Source": f"Data as of {rnd.fmt_time(as_of_ts)}",
        "Software": "Truceline",
    }
    if scenario.synthetic:
        metadata["Disclaimer"] = rnd.SYNTHETIC_BANNER
    png = rnd.png_bytes(fig, metadata=metadata)
    width_px, height_px = (int(v) for v in fig.canvas.get_width_height())
    return Snapshot(
        png=png,
        width=width_px,
        height=height_px,
        dpi=dpi,
        bbox=area,
        extent_m=extent,
        map_box=_box(ax.get_window_extent(), height_px),
        legend_box=_box(panel.get_window_extent(), height_px),
        legend_swatches={k: _point(panel, xy, height_px) for k, xy in swatches.items()},
        scale_bar_box=_union_box(drawn.scale_artists, height_px),
        scale_bar_km=drawn.scale_km,
        north_arrow_box=_box(drawn.arrow.get_window_extent(), height_px),
        counts=drawn.counts,
        outside_extent=drawn.outside,
        projection=projection,
    )


@dataclass(frozen=True)
class _Drawn:
    """What :func:`_draw_map` drew, for the legend, the frame and the layout."""

    lines: list[Line]
    zones: list[Zone]
    counts: dict[str, int]
    outside: int
    borders: bool
    scale_km: float
    scale_artists: list
    arrow: object


def _draw_map(
    ax: Axes,
    view: pd.DataFrame,
    scenario: Scenario,
    projection: LocalProjection,
    area: Bbox,
    extent: Bbox,
    window: tuple[int, int],
) -> _Drawn:
    _setup_map(ax, extent)
    zones = [z for z in scenario.zones if _in_force(z, window)]
    lines = [ln for ln in scenario.lines if _in_force(ln, window)]
    avoid = [_metric(projection, ln.geometry, extent) for ln in lines]
    borders = _draw_basemap(ax, projection, area, extent, avoid=avoid)
    _draw_graticule(ax, projection, area, extent)
    _draw_zones(ax, projection, zones, extent)
    counts, outside = _draw_incidents(ax, view, scenario, projection, extent)
    _draw_lines(ax, projection, lines, scenario, extent)
    scale_km, scale_artists = _draw_scale_bar(ax, extent)
    arrow = _draw_north_arrow(ax, projection, extent)
    if scenario.synthetic:
        _synthetic_tag(ax)
    return _Drawn(lines, zones, counts, outside, borders, scale_km, scale_artists, arrow)


# --- checks and geometry of the view -------------------------------------------------


def _check(view: pd.DataFrame, size: str | tuple[float, float], dpi: int) -> tuple[float, float]:
    missing = [c for c in ("lon", "lat", "verdict") if c not in view]
    if missing:
        msg = f"snapshot: view: missing column(s) {', '.join(missing)}"
        raise ValueError(msg)
    if not MIN_DPI <= dpi <= MAX_DPI:
        msg = f"snapshot: dpi: must be between {MIN_DPI} and {MAX_DPI}, got {dpi}"
        raise ValueError(msg)
    if isinstance(size, str):
        if size not in SIZES:
            msg = f"snapshot: size: must be one of {', '.join(SIZES)} or (width, height) inches, got {size!r}"
            raise ValueError(msg)
        return SIZES[size]
    width, height = (float(v) for v in size)
    if not (6.0 <= width <= 24.0 and 4.0 <= height <= 24.0):
        msg = f"snapshot: size: {width} x {height} in is outside 6-24 x 4-24 inches"
        raise ValueError(msg)
    return width, height


def _extent_lonlat(view: pd.DataFrame, scenario: Scenario, bbox: Bbox | None) -> Bbox:
    if bbox is not None:
        west, south, east, north = (float(v) for v in bbox)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            msg = f"snapshot: bbox: {bbox!r} is not (west, south, east, north) degrees, west < east"
            raise ValueError(msg)
        return west, south, east, north
    geoms = [g.geometry for g in (*scenario.lines, *scenario.zones)]
    if geoms:
        west, south, east, north = shapely.total_bounds(np.asarray(geoms, dtype=object))
    elif len(view):
        west, east = float(view["lon"].min()), float(view["lon"].max())
        south, north = float(view["lat"].min()), float(view["lat"].max())
    else:
        msg = "snapshot: bbox: nothing to frame (no lines, zones or incidents); pass bbox"
        raise ValueError(msg)
    dx = max((east - west) * DEFAULT_MARGIN, 0.05)
    dy = max((north - south) * DEFAULT_MARGIN, 0.05)
    return (max(west - dx, -180.0), max(south - dy, -89.0), min(east + dx, 180.0), min(north + dy, 89.0))


def _fit_extent(area: Bbox, projection: LocalProjection, aspect: float) -> Bbox:
    """The metric extent holding the lon/lat box, widened to the axes' aspect ratio."""
    ring = shapely.get_coordinates(shapely.segmentize(shapely.box(*area).exterior, 0.02))
    x, y = projection.forward(ring[:, 0], ring[:, 1])
    xmin, xmax, ymin, ymax = x.min(), x.max(), y.min(), y.max()
    cx, cy = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    w, h = xmax - xmin, ymax - ymin
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return (float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2))


def _window(filters: Filters, as_of: pd.Timestamp) -> tuple[int, int]:
    lo = rnd.utc(filters.since).value if filters.since else np.iinfo(np.int64).min
    hi = rnd.utc(filters.until).value if filters.until else as_of.value + 1
    return lo, hi


def _in_force(item: Zone | Line, window: tuple[int, int]) -> bool:
    lo, hi = validity_ns(item.valid_from, item.valid_to)
    return lo < window[1] and hi > window[0]


def _metric(projection: LocalProjection, geometry: shapely.Geometry, extent: Bbox) -> shapely.Geometry:
    """Project a lon/lat geometry and clip it to the (padded) extent."""
    xmin, ymin, xmax, ymax = extent
    pad = 0.05 * (xmax - xmin)
    metric = projection.to_metric(densify_lonlat(geometry))
    return shapely.clip_by_rect(metric, xmin - pad, ymin - pad, xmax + pad, ymax + pad)


# --- layout ---------------------------------------------------------------------------


def _layout(width: float, height: float, *, frame: bool, synthetic: bool) -> dict[str, list[float]]:
    """Axes rectangles in figure fractions: the map, the legend panel, and the frame bands."""
    pad = 0.28
    banner = 0.42 if frame and synthetic else 0.0
    title = 0.95 if frame else 0.0
    footer = 0.5 if frame else 0.0
    panel_w = PANEL_WIDTH_IN
    top = height - banner - title - (pad if not frame else 0.12)
    bottom = pad * 0.6 + footer
    map_w = width - 2 * pad - panel_w - 0.22
    return {
        "map": [pad / width, bottom / height, map_w / width, (top - bottom) / height],
        "panel": [(pad + map_w + 0.22) / width, bottom / height, panel_w / width, (top - bottom) / height],
        "banner": [0.0, (height - banner) / height, 1.0, banner / height],
        "title": [pad / width, (height - banner - title) / height, 1 - 2 * pad / width, title / height],
        "footer": [pad / width, pad * 0.4 / height, 1 - 2 * pad / width, footer / height],
    }


def _box(extent: object, height: int) -> Bbox:
    x0, y0, x1, y1 = extent.x0, extent.y0, extent.x1, extent.y1  # type: ignore[attr-defined]
    return (float(x0), float(height - y1), float(x1), float(height - y0))


def _union_box(artists: list, height: int) -> Bbox:
    boxes = [_box(a.get_window_extent(), height) for a in artists]
    lefts, tops, rights, bottoms = zip(*boxes, strict=True)
    return (min(lefts), min(tops), max(rights), max(bottoms))


def _point(ax: Axes, xy: tuple[float, float], height: int) -> tuple[float, float]:
    dx, dy = ax.transAxes.transform(xy)
    return float(dx), float(height - dy)


# --- map layers -----------------------------------------------------------------------


def _setup_map(ax: Axes, extent: Bbox) -> None:
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor(SEA)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#333333")
        spine.set_linewidth(0.9)


@cache
def _countries() -> tuple[np.ndarray, np.ndarray]:
    frame = pyogrio.read_dataframe(BASEMAP, columns=["name"])
    return np.asarray(frame.geometry.values, dtype=object), frame["name"].astype(str).to_numpy(dtype=object)


def _draw_basemap(
    ax: Axes, projection: LocalProjection, area: Bbox, extent: Bbox, *, avoid: list[shapely.Geometry]
) -> bool:
    """
    Draw land over sea, and the country names away from the lines.

    International boundaries are drawn only on wide maps: at 1:110m they are kilometres
    off, and on a close-up they could be mistaken for an agreed line.
    """
    geoms, names = _countries()
    west, south, east, north = area
    dx, dy = east - west, north - south
    box = (max(west - dx, -180.0), max(south - dy, -89.5), min(east + dx, 180.0), min(north + dy, 89.5))
    clipped = shapely.clip_by_rect(geoms, *box)
    keep = ~shapely.is_empty(clipped)
    metric = [
        shapely.clip_by_rect(projection.to_metric(shapely.segmentize(g, 0.05)), *_padded(extent, 0.2))
        for g in clipped[keep]
    ]
    borders = extent[2] - extent[0] >= BORDERS_MIN_WIDTH_M
    for geom in metric if borders else [shapely.union_all(metric)] if metric else []:
        path = rnd.polygon_path(geom)
        if path is not None:
            ax.add_patch(PathPatch(path, facecolor=LAND, edgecolor=BORDER, linewidth=0.8, zorder=_Z_BASE))
    view_box = shapely.box(*extent)
    for geom, name in zip(metric, names[keep], strict=True):
        shown = shapely.intersection(geom, view_box)
        if shown.area > 0.04 * view_box.area:
            x, y = _label_spot(shown, extent, avoid)
            ax.text(
                x,
                y,
                str(name).upper(),
                fontproperties=rnd.font(9, style="italic"),
                color="#9a948a",
                ha="center",
                va="center",
                zorder=_Z_BASE,
                alpha=0.9,
            )
    return borders


def _label_spot(area: shapely.Geometry, extent: Bbox, avoid: list[shapely.Geometry]) -> tuple[float, float]:
    """A point well inside ``area`` and as far as possible from the lines (where data clusters)."""
    xmin, ymin, xmax, ymax = extent
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, 13)[1:-1], np.linspace(ymin, ymax, 11)[1:-1])
    pts = shapely.points(gx.ravel(), gy.ravel())
    inner = shapely.buffer(area, -0.06 * (xmax - xmin))
    ok = shapely.contains(inner, pts)
    if not ok.any():
        spot = shapely.point_on_surface(area)
        return spot.x, spot.y
    pts = pts[ok]
    targets = [g for g in avoid if not g.is_empty]
    if not targets:
        spot = shapely.point_on_surface(area)
        return spot.x, spot.y
    far = shapely.distance(pts, shapely.union_all(targets))
    best = pts[int(np.argmax(far))]
    return best.x, best.y


def _padded(extent: Bbox, share: float) -> Bbox:
    pad = share * (extent[2] - extent[0])
    return (extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad)


def _nice_step(span: float, target: int = 4) -> float:
    raw = span / target
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0):
        if step >= raw:
            return step
    return 45.0


def _deg(value: float, pos: str, neg: str) -> str:
    hemi = pos if value >= 0 else neg
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return f"{text}\u00b0{hemi}"


def _draw_graticule(ax: Axes, projection: LocalProjection, area: Bbox, extent: Bbox) -> None:
    west, south, east, north = area
    step = _nice_step(max(east - west, north - south))
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    style = {"color": "#7f8c8d", "linewidth": 0.4, "linestyle": (0, (4, 3)), "zorder": _Z_BASE + 0.5}
    lo_lon, hi_lon = west - (east - west), east + (east - west)
    lo_lat, hi_lat = max(south - (north - south), -89.0), min(north + (north - south), 89.0)
    for lon in np.arange(np.ceil(lo_lon / step) * step, hi_lon, step):
        line = shapely.LineString([(lon, lo_lat), (lon, hi_lat)])
        _graticule_line(ax, projection, line, extent, _deg(lon, "E", "W"), "bottom", style, halo)
    for lat in np.arange(np.ceil(lo_lat / step) * step, hi_lat, step):
        line = shapely.LineString([(lo_lon, lat), (hi_lon, lat)])
        _graticule_line(ax, projection, line, extent, _deg(lat, "N", "S"), "left", style, halo)


def _graticule_line(
    ax: Axes,
    projection: LocalProjection,
    line: shapely.LineString,
    extent: Bbox,
    label: str,
    edge: str,
    style: dict,
    halo: list,
) -> None:
    metric = shapely.clip_by_rect(projection.to_metric(shapely.segmentize(line, 0.02)), *extent)
    parts = rnd.line_paths(metric)
    for xy in parts:
        ax.plot(xy[:, 0], xy[:, 1], **style)
    if not parts:
        return
    xy = np.concatenate(parts)
    xmin, ymin, xmax, ymax = extent
    if edge == "bottom":  # a meridian: label where it meets the bottom edge
        along, lo, hi = xy[np.argmin(xy[:, 1]), 0], xmin, xmax
        where, align = (along, ymin + 0.008 * (ymax - ymin)), {"ha": "center", "va": "bottom"}
    else:  # a parallel: label where it meets the left edge
        along, lo, hi = xy[np.argmin(xy[:, 0]), 1], ymin, ymax
        where, align = (xmin + 0.006 * (xmax - xmin), along), {"ha": "left", "va": "center"}
    if lo + 0.03 * (hi - lo) < along < hi - 0.03 * (hi - lo):
        ax.text(
            *where,
            label,
            **align,
            color="#566573",
            fontproperties=rnd.font(6.5),
            zorder=_Z_DECOR,
            path_effects=halo,
        )


def zone_style(kind: str) -> dict[str, object]:
    """The drawing style of a zone kind: ``face``, ``alpha``, ``edge`` and ``ls``."""
    return ZONE_STYLES.get(kind, DEFAULT_ZONE_STYLE)


def _zone_patch_kwargs(kind: str) -> dict[str, object]:
    style = zone_style(kind)
    face = "none" if style["face"] == "none" else to_rgba(str(style["face"]), float(style["alpha"]))
    return {"facecolor": face, "edgecolor": style["edge"], "linestyle": style["ls"], "linewidth": 1.1}


def _draw_zones(ax: Axes, projection: LocalProjection, zones: list[Zone], extent: Bbox) -> None:
    for zone in sorted(zones, key=lambda z: -z.geometry.area):
        path = rnd.polygon_path(_metric(projection, zone.geometry, extent))
        if path is not None:
            ax.add_patch(PathPatch(path, zorder=_Z_ZONE, **_zone_patch_kwargs(zone.kind)))


def _draw_incidents(
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
    verdict = rnd.text_column(view, "verdict")
    party = rnd.text_column(view, "attributed_party")
    markers = _party_markers(scenario)
    colours = rnd.party_colours(scenario)
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
                s=_SIZE[v] * scale,
                c=rnd.VERDICT_COLOURS[v],
                marker=markers.get(pid, UNATTRIBUTED_MARKER),
                edgecolors=colours.get(pid, rnd.UNATTRIBUTED_COLOUR) if major else "none",
                linewidths=0.9 * max(scale, 0.5) if major else 0.0,
                alpha=_ALPHA[v],
                rasterized=True,
                zorder=_Z_MAJOR if major else _Z_MINOR,
            )
    return counts, int((~inside).sum())


def _party_markers(scenario: Scenario) -> dict[str, str]:
    return {
        "": UNATTRIBUTED_MARKER,
        **{p.id: PARTY_MARKERS[i % len(PARTY_MARKERS)] for i, p in enumerate(scenario.parties)},
    }


def _draw_lines(
    ax: Axes, projection: LocalProjection, lines: list[Line], scenario: Scenario, extent: Bbox
) -> None:
    halo = [patheffects.withStroke(linewidth=5.0, foreground="white")]
    for line in lines:
        parts = rnd.line_paths(_metric(projection, line.geometry, extent))
        for xy in parts:
            # Under the breaches with a halo, and again as a hairline over them: a crowd of
            # breaches cannot hide the line, and the line cannot hide a breach next to it.
            ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=rnd.LINE_COLOUR,
                linewidth=2.0,
                solid_capstyle="round",
                zorder=_Z_LINE,
                path_effects=halo,
            )
            ax.plot(xy[:, 0], xy[:, 1], color=rnd.LINE_COLOUR, linewidth=0.8, zorder=_Z_OVER)
        shown = shapely.clip_by_rect(shapely.MultiLineString(parts), *extent) if parts else None
        visible = [p for p in rnd.line_paths(shown) if len(p) >= 2] if shown is not None else []
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
    colours = rnd.party_colours(scenario)
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
        color=rnd.LINE_COLOUR,
        fontproperties=rnd.font(8, style="italic"),
        zorder=_Z_LABEL,
        path_effects=halo,
    )
    point, angle = _along(xy, 0.6)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pid = line.party_on(side)
        if pid:
            ax.text(
                *_offset(point, angle, sign * offset),
                f"{names.get(pid, pid)} side",
                rotation=_upright(angle),
                rotation_mode="anchor",
                ha="center",
                va="center",
                color=colours.get(pid, rnd.UNATTRIBUTED_COLOUR),
                fontproperties=rnd.font(10, weight="bold"),
                zorder=_Z_LABEL,
                path_effects=halo,
            )


def _offset(point: np.ndarray, angle: float, distance: float) -> tuple[float, float]:
    """Move ``distance`` to the left of the direction ``angle`` (negative: to the right)."""
    a = np.radians(angle)
    return float(point[0] - np.sin(a) * distance), float(point[1] + np.cos(a) * distance)


def _upright(angle: float) -> float:
    return angle - 180.0 if angle > 90.0 else angle + 180.0 if angle < -90.0 else angle


def scale_length_km(width_m: float) -> float:
    """A round scale bar length near a fifth of the map width, in km."""
    target = width_m / 5.0 / 1000.0
    exponent = np.floor(np.log10(target))
    for mult in (5.0, 2.0, 1.0):
        if mult * 10**exponent <= target:
            return float(mult * 10**exponent)
    return float(10**exponent)


def _draw_scale_bar(ax: Axes, extent: Bbox) -> tuple[float, list]:
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
            zorder=_Z_DECOR,
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
                    zorder=_Z_DECOR + 0.1,
                )
            )
        )
    font = rnd.font(7.5)
    for value, x in ((0.0, x0), (km / 2.0, x0 + km * 500.0)):
        ax.text(
            x,
            y0 - 0.4 * bar_h,
            f"{value:g}",
            ha="center",
            va="top",
            fontproperties=font,
            zorder=_Z_DECOR + 0.2,
        )
    ax.text(
        x0 + km * 1000.0,
        y0 - 0.4 * bar_h,
        f"{km:g} km",
        ha="center",
        va="top",
        fontproperties=font,
        zorder=_Z_DECOR + 0.2,
    )
    return km, bars


def _draw_north_arrow(ax: Axes, projection: LocalProjection, extent: Bbox) -> object:
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
        zorder=_Z_DECOR,
        arrowprops={
            "arrowstyle": "-|>,head_length=0.9,head_width=0.45",
            "color": "#111111",
            "linewidth": 1.6,
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )
    gap = 0.02 * (ymax - ymin)
    return ax.text(
        tip[0] + np.sin(angle) * gap,
        tip[1] + np.cos(angle) * gap,
        "N",
        ha="center",
        va="bottom",
        fontproperties=rnd.font(11, weight="bold"),
        zorder=_Z_DECOR,
        path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
    )


def _synthetic_tag(ax: Axes) -> None:
    ax.text(
        0.012,
        0.985,
        rnd.SYNTHETIC_BANNER,
        transform=ax.transAxes,
        ha="left",
        va="top",
        color="white",
        fontproperties=rnd.font(9, weight="bold"),
        zorder=_Z_DECOR + 1,
        bbox={"boxstyle": "square,pad=0.35", "facecolor": rnd.SYNTHETIC_COLOUR, "edgecolor": "none"},
    )


# --- legend panel and frame -----------------------------------------------------------


class _Cursor:
    """Writes legend rows top-down in a panel whose height is known in inches."""

    def __init__(self, ax: Axes, height_in: float) -> None:
        self.ax = ax
        self.y = 1.0
        self.unit = 1.0 / height_in  # axes units per inch

    def gap(self, inches: float) -> None:
        self.y -= inches * self.unit

    def header(self, text: str) -> None:
        self.gap(0.2)
        self.ax.text(
            0.0,
            self.y,
            text.upper(),
            fontproperties=rnd.font(8, weight="bold"),
            color="#2c3e50",
            va="center",
            transform=self.ax.transAxes,
        )
        self.gap(0.2)

    def row(self, label: str, *, width: int = 40, size: float = 8.0) -> tuple[float, float]:
        lines = textwrap.wrap(label, width) or [""]
        centre = self.y - (len(lines) - 1) * 0.075 * self.unit
        self.ax.text(
            0.14,
            self.y,
            "\n".join(lines),
            fontproperties=rnd.font(size),
            va="top",
            transform=self.ax.transAxes,
            linespacing=1.15,
        )
        self.y -= (0.05 + len(lines) * 0.15) * self.unit
        return 0.06, centre - 0.06 * self.unit


def _draw_legend(
    panel: Axes, scenario: Scenario, counts: dict[str, int], lines: list[Line], zones: list[Zone]
) -> dict:
    panel.set_axis_off()
    height_in = panel.get_position().height * panel.figure.get_figheight()
    cur = _Cursor(panel, height_in)
    swatches: dict[str, tuple[float, float]] = {}
    cur.header("Verdict")
    for v in VERDICTS:
        xy = cur.row(f"{rnd.VERDICT_LABELS[v]} ({counts[v]:,})")
        panel.scatter(
            [xy[0]],
            [xy[1]],
            s=_SIZE[v] * 1.4,
            c=rnd.VERDICT_COLOURS[v],
            marker="o",
            transform=panel.transAxes,
            clip_on=False,
        )
        swatches[f"verdict:{v}"] = xy
    cur.header("Attributed party (marker)")
    markers = _party_markers(scenario)
    for party in scenario.parties:
        xy = cur.row(party.name)
        panel.scatter(
            [xy[0]],
            [xy[1]],
            s=60,
            c="#dddddd",
            marker=markers[party.id],
            edgecolors=party.colour,
            linewidths=1.5,
            transform=panel.transAxes,
            clip_on=False,
        )
        swatches[f"party:{party.id}"] = xy
    xy = cur.row("Unattributed")
    panel.scatter(
        [xy[0]],
        [xy[1]],
        s=50,
        c="#dddddd",
        marker=UNATTRIBUTED_MARKER,
        edgecolors=rnd.UNATTRIBUTED_COLOUR,
        linewidths=1.5,
        transform=panel.transAxes,
        clip_on=False,
    )
    swatches["party:"] = xy
    cur.header("Lines and zones")
    for line in lines:
        xy = cur.row(line.name)
        panel.add_line(
            Line2D(
                [0.0, 0.11], [xy[1], xy[1]], color=rnd.LINE_COLOUR, linewidth=2.0, transform=panel.transAxes
            )
        )
        swatches[f"line:{line.id}"] = xy
    for zone in sorted(zones, key=lambda z: z.geometry.area):
        xy = cur.row(zone.name)
        panel.add_patch(
            Rectangle(
                (0.0, xy[1] - 0.06 * cur.unit),
                0.11,
                0.12 * cur.unit,
                transform=panel.transAxes,
                **_zone_patch_kwargs(zone.kind),
            )
        )
        swatches[f"zone:{zone.id}"] = xy
    cur.gap(0.12)
    note = (
        "Colour: verdict. Shape and edge: attributed party, as reported or inferred from the side "
        "of the line. Possible breach: the evidence (location precision, party, date) cannot carry "
        "a breach."
    )
    panel.text(
        0.0,
        cur.y,
        textwrap.fill(note, 56),
        fontproperties=rnd.font(6.5),
        color="#444444",
        va="top",
        transform=panel.transAxes,
        linespacing=1.2,
    )
    return swatches


def _sources_line(view: pd.DataFrame) -> str:
    if "source" not in view or not len(view):
        return "Incidents: none in view"
    top = view["source"].astype(object).fillna("").value_counts()
    shown = [f"{name or 'unknown'} ({n:,})" for name, n in top.head(5).items()]
    more = f" and {len(top) - 5} more" if len(top) > 5 else ""
    return "Incidents: " + ", ".join(shown) + more


def _draw_frame(
    fig: Figure,
    rects: dict[str, list[float]],
    view: pd.DataFrame,
    scenario: Scenario,
    filters: Filters,
    as_of: pd.Timestamp,
    title: str | None,
    drawn: _Drawn,
    projection: LocalProjection,
) -> None:
    counts, outside = drawn.counts, drawn.outside
    if scenario.synthetic:
        x, y, w, h = rects["banner"]
        fig.patches.append(
            Rectangle(
                (x, y),
                w,
                h,
                transform=fig.transFigure,
                facecolor=rnd.SYNTHETIC_COLOUR,
                edgecolor="none",
                zorder=0,
            )
        )
        fig.text(
            0.5,
            y + h / 2,
            f"{rnd.SYNTHETIC_BANNER}  \u00b7  {rnd.SYNTHETIC_NOTE}",
            ha="center",
            va="center",
            color="white",
            fontproperties=rnd.font(12, weight="bold"),
        )
    x, y, w, h = rects["title"]
    fig.text(
        x,
        y + h * 0.93,
        title or scenario.name,
        ha="left",
        va="top",
        fontproperties=rnd.font(16, weight="bold"),
        color="#1b2631",
    )
    shown = sum(counts.values())
    summary = (
        f"Data as of {rnd.fmt_time(as_of)}   \u00b7   {rnd.plural(shown, 'incident')} shown: "
        f"{rnd.plural(counts['breach'], 'breach')}, "
        f"{rnd.plural(counts['possible_breach'], 'possible breach')}"
    )
    if outside:
        summary += f"   \u00b7   {outside:,} more outside the map extent"
    fig.text(
        x,
        y + h * 0.5,
        summary,
        ha="left",
        va="center",
        fontproperties=rnd.font(9.5, weight="bold"),
        color="#1b2631",
    )
    fig.text(
        x,
        y + h * 0.2,
        "Window and filters: " + filters.describe(),
        ha="left",
        va="center",
        fontproperties=rnd.font(9),
        color="#34495e",
    )
    x, y, w, h = rects["footer"]
    agreements = "; ".join(dict.fromkeys(ln.agreement for ln in scenario.lines if ln.agreement))
    basemap = rnd.BASEMAP_ATTRIBUTION
    if not drawn.borders:
        basemap += "; international boundaries not drawn at this scale"
    first = f"{basemap}.  Lines and zones: {scenario.name}" + (f" ({agreements})." if agreements else ".")
    second = (
        f"{_sources_line(view)}.  Projection: azimuthal equidistant (WGS84) centred on "
        f"{_deg(projection.lat0, 'N', 'S')}, {_deg(projection.lon0, 'E', 'W')}; the scale bar is true "
        f"at the map centre.  Made with Truceline."
    )
    fig.text(x, y + h * 0.7, first, ha="left", va="center", fontproperties=rnd.font(7), color="#555555")
    fig.text(x, y + h * 0.25, second, ha="left", va="center", fontproperties=rnd.font(7), color="#555555")
