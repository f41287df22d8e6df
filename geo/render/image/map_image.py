"""The map image of an incident view (the PNG "snapshot"), rendered offline.

The map is drawn with matplotlib (Agg) in an azimuthal equidistant projection centred
on the view, over the shipped Natural Earth countries, so the scale bar is true at
the map centre (within 0.01 % over 160 km and 0.1 % over 500 km). Web tiles are not
used: the image never needs the network. The extent is measured with everything
gathered around the scenario's centre longitude (:mod:`geo.render.around`), so a
scenario across ±180° is framed, and centred, on itself rather than on the antipode.

Layers, bottom to top: sea and land, graticule, zones in force during the window
(styled by kind), incidents with no breach or outside the monitored area, the lines,
possible breaches and breaches, then the lines again as a hairline with their party
side labels, so the agreed line stays visible however many incidents crowd it. Colour
encodes the verdict and marker shape the attributed party (edge in the party's colour);
markers shrink on crowded maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.text import Text

from geo.core._metric import LocalProjection
from geo.core.filters import Filters
from geo.core.model import Line, Scenario, Zone
from geo.i18n import _, is_rtl, language, use_language
from geo.localize import Digits, use_digits
from geo.render.around import centre_lon, gather, lon_window, near_lon, points_centre_lon
from geo.render.figure import new_figure, png_bytes
from geo.render.fonts import font
from geo.render.image.basemap import draw_basemap, draw_graticule, setup_map
from geo.render.image.layout import (
    Z_DECOR,
    Bbox,
    box,
    draw_frame,
    layout,
    point,
    synthetic_tag,
    union_box,
)
from geo.render.image.legend import draw_legend
from geo.render.image.places import PlaceLabel, draw_credit, draw_places
from geo.render.image.scale_and_north import draw_north_arrow, draw_scale_bar
from geo.render.image.symbols import (
    draw_incidents,
    draw_lines,
    draw_zones,
    filter_window,
    in_force,
    metric_of_line,
)
from geo.render.palette import provenance_banner, provenance_lines
from geo.render.text import fmt_time, localized, utc

SIZES: dict[str, tuple[float, float]] = {"a4": (11.69, 8.27), "16:9": (13.333, 7.5)}
"""Named output sizes in inches: A4 landscape and 16:9 (a 13.33 x 7.5 in slide)."""
MIN_DPI, MAX_DPI = 150, 300
DEFAULT_MARGIN = 0.12
"""Margin around the scenario's lines and zones when no extent is given, as a share of its span."""


@dataclass(frozen=True)
class MapImage:
    """
    A rendered map image (PNG) and where things are in it.

    Pixel boxes are ``(left, top, right, bottom)`` in image pixels, origin at the top
    left; :meth:`pixel` maps lon/lat to the same coordinates.
    """

    png: bytes
    width: int
    height: int
    dpi: int
    bbox: Bbox
    """The lon/lat extent asked for ``(west, south, east, north)``; the map shows at least this.
    Across the antimeridian, ``east`` runs past 180 (or ``west`` past -180)."""
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
    place_labels: tuple[PlaceLabel, ...] = ()
    """The place names drawn (:mod:`geo.render.image.places`), biggest place first."""
    places_credit: str = ""
    """The credit line of the places and rivers drawn (empty when none were)."""

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


def render_map_png(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    bbox: Bbox | None = None,
    size: Literal["a4", "16:9"] | tuple[float, float] = "a4",
    dpi: int = 200,
    title: str | None = None,
    lang: str | None = None,
    digits: Digits | None = None,
) -> bytes:
    """
    Render the map image of an incident view as PNG bytes.

    Parameters are those of :func:`render_map_image`.

    Returns
    -------
    bytes
        The PNG image.
    """
    return render_map_image(
        view,
        scenario,
        filters=filters,
        as_of=as_of,
        bbox=bbox,
        size=size,
        dpi=dpi,
        title=title,
        lang=lang,
        digits=digits,
    ).png


def render_map_image(
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
    places: bool = True,
    lang: str | None = None,
    digits: Digits | None = None,
) -> MapImage:
    """
    Render the map image of an incident view, with its layout.

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
    places
        Draw the region's place names and rivers, when the scenario's pack ships them
        (:mod:`geo.render.image.places`).
    lang
        The language of every text on the image, and of the scenario's names where the
        manifest translates them (default: the language of the run). Arabic is shaped and
        laid out right to left: the legend left of the map, text aligned right.
    digits
        ``latn`` or ``arab`` (Eastern Arabic digits, Arabic only); default: the run's.

    Returns
    -------
    MapImage
    """
    width_in, height_in = _check(view, size, dpi)
    with use_language(lang or language()), use_digits(digits):
        return _render(
            view,
            localized(scenario),
            filters,
            utc(as_of),
            bbox,
            width_in,
            height_in,
            dpi,
            title,
            frame,
            places,
        )


def _render(
    view: pd.DataFrame,
    scenario: Scenario,
    filters: Filters,
    as_of_ts: pd.Timestamp,
    bbox: Bbox | None,
    width_in: float,
    height_in: float,
    dpi: int,
    title: str | None,
    frame: bool,
    places: bool,
) -> MapImage:
    area = extent_lonlat(view, scenario, bbox if bbox is not None else filters.bbox)
    projection = LocalProjection((area[0] + area[2]) / 2.0, (area[1] + area[3]) / 2.0)
    fig = new_figure(width_in, height_in, dpi)
    rects = layout(width_in, height_in, frame=frame, synthetic=scenario.synthetic, rtl=is_rtl())
    ax = fig.add_axes(rects["map"])
    extent = fit_extent(area, projection, rects["map"][2] * width_in / (rects["map"][3] * height_in))
    drawn = _draw_map(
        ax, view, scenario, projection, area, extent, filter_window(filters, as_of_ts), places=places
    )
    if not frame:  # the image may be copied out of the PDF: it keeps its date
        ax.text(
            0.01 if is_rtl() else 0.99,
            0.012,
            _("Data as of {time}").format(time=fmt_time(as_of_ts)),
            transform=ax.transAxes,
            ha="left" if is_rtl() else "right",
            va="bottom",
            fontproperties=font(7.5, weight="bold"),
            zorder=Z_DECOR,
            bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": "#999999", "alpha": 0.9},
            parse_math=False,
        )
    panel = fig.add_axes(rects["panel"])
    swatches = draw_legend(panel, scenario, drawn.counts, drawn.lines, drawn.zones)
    if frame:
        draw_frame(
            fig,
            rects,
            view,
            scenario,
            filters,
            as_of_ts,
            title,
            counts=drawn.counts,
            outside=drawn.outside,
            borders=drawn.borders,
            projection=projection,
        )
    metadata = {
        "Title": title or scenario.name,
        "Description": filters.describe(),
        "Source": _("Data as of {time}").format(time=fmt_time(as_of_ts)),
        "Software": "Truceline",
    }
    banner = provenance_banner(scenario)
    if banner:
        metadata["Disclaimer"] = banner[0]
    if provenance_lines(scenario):
        metadata["Copyright"] = "; ".join(provenance_lines(scenario))
    png = png_bytes(fig, metadata=metadata)
    width_px, height_px = (int(v) for v in fig.canvas.get_width_height())
    return MapImage(
        png=png,
        width=width_px,
        height=height_px,
        dpi=dpi,
        bbox=area,
        extent_m=extent,
        map_box=box(ax.get_window_extent(), height_px),
        legend_box=box(panel.get_window_extent(), height_px),
        legend_swatches={k: point(panel, xy, height_px) for k, xy in swatches.items()},
        scale_bar_box=union_box(drawn.scale_artists, height_px),
        scale_bar_km=drawn.scale_km,
        north_arrow_box=box(drawn.arrow.get_window_extent(), height_px),
        counts=drawn.counts,
        outside_extent=drawn.outside,
        projection=projection,
        place_labels=tuple(drawn.places),
        places_credit=drawn.credit,
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
    scale_artists: list[Any]
    arrow: Text
    places: list[PlaceLabel]
    credit: str


def _draw_map(
    ax: Axes,
    view: pd.DataFrame,
    scenario: Scenario,
    projection: LocalProjection,
    area: Bbox,
    extent: Bbox,
    window: tuple[int, int],
    *,
    places: bool,
) -> _Drawn:
    setup_map(ax, extent)
    zones = [z for z in scenario.zones if in_force(z, window)]
    lines = [ln for ln in scenario.lines if in_force(ln, window)]
    avoid = [metric_of_line(projection, ln, extent) for ln in lines]
    borders = draw_basemap(ax, projection, area, extent, avoid=avoid)
    draw_graticule(ax, projection, area, extent)
    labels, credit = draw_places(ax, projection, extent) if places else ([], "")
    draw_credit(ax, credit)
    draw_zones(ax, projection, zones, extent)
    counts, outside = draw_incidents(ax, view, scenario, projection, extent)
    draw_lines(ax, projection, lines, scenario, extent)
    scale_km, scale_artists = draw_scale_bar(ax, extent)
    arrow = draw_north_arrow(ax, projection, extent)
    if scenario.synthetic:
        synthetic_tag(ax, (provenance_banner(scenario) or ("",))[0])
    return _Drawn(lines, zones, counts, outside, borders, scale_km, scale_artists, arrow, labels, credit)


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


def extent_lonlat(view: pd.DataFrame, scenario: Scenario, bbox: Bbox | None) -> Bbox:
    """The lon/lat box a map shows: ``bbox``, else the lines and zones (or the incidents) with a margin."""
    if bbox is not None:
        west, south, east, north = (float(v) for v in bbox)
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            msg = f"snapshot: bbox: {bbox!r} is not (west, south, east, north) degrees, west < east"
            raise ValueError(msg)
        return west, south, east, north
    geoms = [line.geometry for line in scenario.lines] + [zone.geometry for zone in scenario.zones]
    lon = view["lon"].to_numpy(dtype=np.float64)
    lat = view["lat"].to_numpy(dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if geoms:
        lon0 = centre_lon(scenario)
        gathered = np.asarray([gather(g, lon0) for g in geoms], dtype=object)
        west, south, east, north = (float(v) for v in shapely.total_bounds(gathered))
    elif ok.any():
        lon, lat = lon[ok], lat[ok]
        lon = near_lon(lon, points_centre_lon(lon, lat))
        west, south, east, north = float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
    else:
        msg = "snapshot: bbox: nothing to frame (no lines, zones or incidents); pass bbox"
        raise ValueError(msg)
    dx = max((east - west) * DEFAULT_MARGIN, 0.05)
    dy = max((north - south) * DEFAULT_MARGIN, 0.05)
    west, east = lon_window(west - dx, east + dx)
    return (west, max(south - dy, -89.0), east, min(north + dy, 89.0))


def fit_extent(area: Bbox, projection: LocalProjection, aspect: float) -> Bbox:
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
