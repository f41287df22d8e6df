"""Rivers and place names on the map image (:mod:`geo.render.places`).

Places are labelled biggest first, as many as fit: a label that would overlap one
already drawn (or leave the map) is left out, and the number of labels grows with the
map's scale like the live map's (:func:`geo.render.places.min_zoom`). Local-script names
are added under the Latin one where the shipped fonts draw them without shaping
(Hangul); Arabic and Hebrew would need shaping, which matplotlib does not do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.transforms import Bbox as MplBbox

from geo.core._metric import LocalProjection
from geo.render.figure import line_paths
from geo.render.fonts import font, needs_shaping
from geo.render.image.layout import Z_BASE, Z_DECOR, Bbox
from geo.render.image.layout import box as pixel_box
from geo.render.places import Place, attribution, places_in, rivers_in

RIVER_COLOUR = "#6a9fd4"
PLACE_COLOUR = "#333333"
MAX_LABELS = 80
Z_RIVER, Z_PLACE = Z_BASE + 0.3, Z_BASE + 0.8


@dataclass(frozen=True)
class PlaceLabel:
    """A place name drawn on the image: its GeoNames id, the text, where the place is, and the text's box."""

    id: int
    text: str
    lon: float
    lat: float
    box: Bbox
    """The label's pixel box in the image ``(left, top, right, bottom)``, origin top left."""


def leaflet_zoom(extent: Bbox, width_px: float, lat: float) -> float:
    """The Leaflet zoom whose scale matches ``extent`` drawn ``width_px`` pixels wide at latitude ``lat``."""
    metres_per_px = (extent[2] - extent[0]) / max(width_px, 1.0)
    return math.log2(156_543.03 * math.cos(math.radians(lat)) / metres_per_px)


def draw_places(ax: Axes, projection: LocalProjection, extent: Bbox) -> tuple[list[PlaceLabel], str]:
    """
    Draw the rivers and the place names inside ``extent``.

    Returns
    -------
    tuple
        The labels drawn (biggest place first), and the credit line of what was drawn
        (empty when nothing was).
    """
    corners = shapely.box(*extent)
    ring = shapely.segmentize(corners.exterior, (extent[2] - extent[0]) / 32.0)
    lon, lat = shapely.get_coordinates(projection.to_lonlat(ring)).T
    west, east = float(lon.min()), float(lon.max())
    south, north = float(lat.min()), float(lat.max())
    rivers, osm = rivers_in((max(west, -180.0), south, min(east, 180.0), north))
    drawn_rivers = 0
    for geom in rivers:
        metric = shapely.clip_by_rect(projection.to_metric(shapely.segmentize(geom, 0.01)), *extent)
        for xy in line_paths(metric):
            ax.plot(
                xy[:, 0], xy[:, 1], color=RIVER_COLOUR, linewidth=0.8, zorder=Z_RIVER, solid_capstyle="round"
            )
            drawn_rivers += 1
    labels = _labels(ax, projection, extent, places_in((west, south, east, north)))
    return labels, attribution(places=bool(labels), rivers=bool(drawn_rivers), osm=osm and bool(drawn_rivers))


def _labels(ax: Axes, projection: LocalProjection, extent: Bbox, found: list[Place]) -> list[PlaceLabel]:
    if not found:
        return []
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)
    zoom = leaflet_zoom(extent, frame.width * 96.0 / fig.dpi, (found[0].lat + found[-1].lat) / 2.0)
    x, y = projection.forward(np.array([p.lon for p in found]), np.array([p.lat for p in found]))
    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    taken: list[MplBbox] = []
    out: list[PlaceLabel] = []
    for place, px, py in zip(found, x, y, strict=True):
        if len(out) >= MAX_LABELS or place.min_zoom > zoom + 1.0:
            continue
        if not (extent[0] <= px <= extent[2] and extent[1] <= py <= extent[3]):
            continue
        text = place.name
        if place.local and not needs_shaping([place.local]):
            text += "\n" + place.local
        big = place.rank >= 100_000
        artist = ax.annotate(
            text,
            (px, py),
            xytext=(3, 2),
            textcoords="offset points",
            fontproperties=font(7.5 if big else 6.5),
            color=PLACE_COLOUR,
            ha="left",
            va="bottom",
            zorder=Z_PLACE,
            path_effects=halo,
            annotation_clip=True,
            parse_math=False,
        )
        box = artist.get_window_extent(renderer)
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        if not inside or any(box.overlaps(t) for t in taken):
            artist.remove()
            continue
        taken.append(box)
        ax.plot([px], [py], marker="o", markersize=2.2, color=PLACE_COLOUR, zorder=Z_PLACE, linestyle="none")
        out.append(PlaceLabel(place.id, text, place.lon, place.lat, pixel_box(box, int(fig.bbox.height))))
    return out


def draw_credit(ax: Axes, credit: str) -> None:
    """The credit line of the places and rivers, small, at the bottom centre of the map."""
    if not credit:
        return
    ax.text(
        0.5,
        0.006,
        credit,
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontproperties=font(5.5),
        color="#555555",
        zorder=Z_DECOR,
        bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
        parse_math=False,
    )
