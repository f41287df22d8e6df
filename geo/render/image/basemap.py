"""The background of the map image: sea and land, country names, and the graticule.

The area may run past ±180 (a map across the antimeridian): countries are then taken
from both sides and joined where Natural Earth cuts them, and meridians are labelled
within ±180 (``179°W``, not ``181°E``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pyogrio
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.patches import PathPatch

from geo._paths import DATA
from geo.core._metric import LocalProjection
from geo.i18n import language
from geo.render.around import clip_around, lon_window, near_lon
from geo.render.figure import line_paths, polygon_path
from geo.render.fonts import font
from geo.render.image.layout import Z_BASE, Z_DECOR, Bbox
from geo.render.palette import COUNTRY_BORDER, LAND, SEA
from geo.render.text import deg, lon_deg

BASEMAP = DATA / "basemap" / "naturalearth_lowres.shp"
BORDERS_MIN_WIDTH_M = 1_000_000.0
"""International boundaries of the 1:110m basemap are drawn only on maps at least this wide."""


def setup_map(ax: Axes, extent: Bbox) -> None:
    """The map axes: the extent in projection meters, equal aspect, sea colour, no ticks."""
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
def _countries() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pyogrio.read_dataframe(BASEMAP, columns=["name", "iso_a3"])
    return (
        np.asarray(frame.geometry.values, dtype=object),
        frame["name"].astype(str).to_numpy(dtype=object),
        frame["iso_a3"].astype(str).to_numpy(dtype=object),
    )


def country_name(name: str, iso_a3: str) -> str:
    """
    A basemap country's name in the language of the run: the CLDR name (Babel) of its ISO code.

    English, and a country without an ISO code in the basemap, keep Natural Earth's name.
    """
    if language() == "en":
        return name
    from babel import Locale
    from babel.core import get_global

    alpha2 = (get_global("territory_aliases").get(iso_a3) or [""])[0]
    return str(Locale.parse(language()).territories.get(alpha2, name))


def draw_basemap(
    ax: Axes, projection: LocalProjection, area: Bbox, extent: Bbox, *, avoid: list[shapely.Geometry]
) -> bool:
    """
    Draw land over sea, and the country names away from the lines.

    International boundaries are drawn only on wide maps: at 1:110m they are kilometres
    off, and on a close-up they could be mistaken for an agreed line.
    """
    geoms, names, codes = _countries()
    index, clipped = clip_around(geoms, reach(projection, area, extent, max_lat=89.5))
    metric = [
        shapely.clip_by_rect(projection.to_metric(shapely.segmentize(g, 0.05)), *_padded(extent, 0.2))
        for g in clipped
    ]
    borders = extent[2] - extent[0] >= BORDERS_MIN_WIDTH_M
    for geom in metric if borders else [shapely.union_all(metric)] if metric else []:
        path = polygon_path(geom)
        if path is not None:
            ax.add_patch(
                PathPatch(path, facecolor=LAND, edgecolor=COUNTRY_BORDER, linewidth=0.8, zorder=Z_BASE)
            )
    view_box = shapely.box(*extent)
    for geom, name, code in zip(metric, names[index], codes[index], strict=True):
        shown = shapely.intersection(geom, view_box)
        if shown.area > 0.04 * view_box.area:
            x, y = _label_spot(shown, extent, avoid)
            ax.text(
                x,
                y,
                country_name(str(name), str(code)).upper(),
                fontproperties=font(9, style="italic"),
                color="#9a948a",
                ha="center",
                va="center",
                zorder=Z_BASE,
                alpha=0.9,
                parse_math=False,
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


def reach(projection: LocalProjection, area: Bbox, extent: Bbox, *, max_lat: float) -> Bbox:
    """
    The lon/lat box the background is drawn in.

    The area widened by its own span each way, and at least the padded extent (which the
    axes' aspect ratio may make taller or wider than the area). Longitudes are those of
    ``area`` (possibly past ±180), at most one turn wide; latitudes within ``max_lat``.
    """
    west, south, east, north = area
    dx, dy = east - west, north - south
    padded = _padded(extent, 0.2)
    ring = shapely.segmentize(shapely.box(*padded).exterior, (padded[2] - padded[0]) / 64.0)
    lon, lat = shapely.get_coordinates(projection.to_lonlat(ring)).T
    lon = near_lon(lon, (west + east) / 2.0)
    lo, hi = min(west - dx, float(lon.min())), max(east + dx, float(lon.max()))
    bottom, top = min(south - dy, float(lat.min())), max(north + dy, float(lat.max()))
    for pole in (-90.0, 90.0):  # a pole on the map: every longitude reaches it
        (x,), (y,) = projection.forward(np.array([projection.lon0]), np.array([pole]))
        if padded[0] <= x <= padded[2] and padded[1] <= y <= padded[3]:
            lo, hi = lo - 360.0, hi + 360.0
            bottom, top = min(bottom, pole), max(top, pole)
    lo, hi = lon_window(lo, hi)
    return lo, max(bottom, -max_lat), hi, min(top, max_lat)


def _padded(extent: Bbox, share: float) -> Bbox:
    pad = share * (extent[2] - extent[0])
    return (extent[0] - pad, extent[1] - pad, extent[2] + pad, extent[3] + pad)


def _nice_step(span: float, target: int = 4) -> float:
    raw = span / target
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0):
        if step >= raw:
            return step
    return 45.0


def draw_graticule(ax: Axes, projection: LocalProjection, area: Bbox, extent: Bbox) -> None:
    """Meridians and parallels at a round step, labelled where they meet the bottom and left edges."""
    west, south, east, north = area
    step = _nice_step(max(east - west, north - south))
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    style = {"color": "#7f8c8d", "linewidth": 0.4, "linestyle": (0, (4, 3)), "zorder": Z_BASE + 0.5}
    lo_lon, lo_lat, hi_lon, hi_lat = reach(projection, area, extent, max_lat=89.0)
    for lon in np.arange(np.ceil(lo_lon / step) * step, hi_lon, step):
        line = shapely.LineString([(lon, lo_lat), (lon, hi_lat)])
        _graticule_line(ax, projection, line, extent, lon_deg(lon), "bottom", style, halo)
    for lat in np.arange(np.ceil(lo_lat / step) * step, hi_lat, step):
        line = shapely.LineString([(lo_lon, lat), (hi_lon, lat)])
        _graticule_line(ax, projection, line, extent, deg(lat, "N", "S"), "left", style, halo)


def _graticule_line(
    ax: Axes,
    projection: LocalProjection,
    line: shapely.LineString,
    extent: Bbox,
    label: str,
    edge: str,
    style: dict[str, Any],
    halo: list[Any],
) -> None:
    metric = shapely.clip_by_rect(projection.to_metric(shapely.segmentize(line, 0.02)), *extent)
    parts = line_paths(metric)
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
            ha=align["ha"],
            va=align["va"],
            color="#566573",
            fontproperties=font(6.5),
            zorder=Z_DECOR,
            path_effects=halo,
            parse_math=False,
        )
