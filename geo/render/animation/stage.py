"""The animation's stage: the map image drawn once, then only what changes drawn per frame.

The basemap, graticule, zones, lines, scale bar, north arrow and synthetic-data tag are
drawn once (projecting and clipping the countries is most of a snapshot's cost). Each
frame then shows the zones and lines in force during its window, draws its incidents,
the legend with its counts, the title block and the frame's date, renders the canvas,
and takes the incidents and texts away again for the next frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from matplotlib.artist import Artist

from geo import localize
from geo.core._metric import LocalProjection
from geo.core.filters import Filters
from geo.core.model import Line, Scenario, Zone
from geo.core.timeline import STEPS, Frame, Timeline, shows
from geo.i18n import _, is_rtl
from geo.render.figure import new_figure
from geo.render.fonts import font
from geo.render.image.basemap import draw_basemap, draw_graticule, setup_map
from geo.render.image.layout import Z_DECOR, Bbox, Rect, draw_frame, layout, synthetic_tag
from geo.render.image.legend import draw_legend
from geo.render.image.map_image import extent_lonlat, fit_extent
from geo.render.image.places import draw_credit, draw_places
from geo.render.image.scale_and_north import draw_north_arrow, draw_scale_bar
from geo.render.image.symbols import draw_incidents, draw_lines, draw_zones, in_force, metric_of_line
from geo.render.palette import provenance_banner

SIZES: dict[str, tuple[float, float]] = {"16:9": (13.333, 7.5), "a4": (11.69, 8.27)}
"""Frame sizes in inches, as for the PNG snapshot."""
MIN_DPI, MAX_DPI, DEFAULT_DPI = 72, 200, 120


@dataclass(frozen=True)
class _Layer:
    """Artists drawn once for one zone or line, shown only while it is in force."""

    item: Zone | Line
    artists: tuple[Artist, ...]


def frame_pixels(size: str, dpi: int) -> tuple[int, int]:
    """The frame's width and height in pixels, both even (video encoders need it)."""
    if size not in SIZES:
        msg = f"playback: size: must be one of {', '.join(SIZES)}, got {size!r}"
        raise ValueError(msg)
    if not MIN_DPI <= dpi <= MAX_DPI:
        msg = f"playback: dpi: must be between {MIN_DPI} and {MAX_DPI}, got {dpi}"
        raise ValueError(msg)
    width, height = SIZES[size]
    return 2 * round(width * dpi / 2), 2 * round(height * dpi / 2)


def _rect(values: Rect) -> tuple[float, float, float, float]:
    left, bottom, width, height = values
    return left, bottom, width, height


def _added(before: Sequence[Artist], after: Sequence[Artist]) -> tuple[Artist, ...]:
    known = {id(a) for a in before}
    return tuple(a for a in after if id(a) not in known)


class Stage:
    """
    A map figure whose still parts are drawn once, for the frames of a timeline.

    Parameters
    ----------
    view
        Every incident of the animation (it frames the map, as for the snapshot).
    scenario
        The scenario.
    timeline
        The frames.
    filters
        The filters of the view (their time window is each frame's).
    as_of
        When the data were current.
    size, dpi
        The frame size (``16:9`` or ``a4``) and resolution.
    title
        Default: the scenario's name.
    bbox
        The map extent ``(west, south, east, north)``; default as for the snapshot.
    """

    def __init__(
        self,
        view: pd.DataFrame,
        scenario: Scenario,
        timeline: Timeline,
        *,
        filters: Filters,
        as_of: pd.Timestamp,
        size: str = "16:9",
        dpi: int = DEFAULT_DPI,
        title: str | None = None,
        bbox: Bbox | None = None,
    ) -> None:
        width_px, height_px = frame_pixels(size, dpi)
        width_in, height_in = width_px / dpi, height_px / dpi
        self.view, self.scenario, self.timeline = view, scenario, timeline
        self.filters, self.as_of, self.title = filters, as_of, title
        self.times = pd.to_datetime(view["occurred_at"], utc=True)
        area = extent_lonlat(view, scenario, bbox if bbox is not None else filters.bbox)
        self.projection = LocalProjection((area[0] + area[2]) / 2.0, (area[1] + area[3]) / 2.0)
        self.fig = new_figure(width_in, height_in, dpi)
        self.rects = layout(width_in, height_in, frame=True, synthetic=scenario.synthetic, rtl=is_rtl())
        self.ax = ax = self.fig.add_axes(_rect(self.rects["map"]))
        map_rect = self.rects["map"]
        self.extent = fit_extent(area, self.projection, map_rect[2] * width_in / (map_rect[3] * height_in))
        setup_map(ax, self.extent)
        avoid = [metric_of_line(self.projection, ln, self.extent) for ln in scenario.lines]
        self.borders = draw_basemap(ax, self.projection, area, self.extent, avoid=avoid)
        draw_graticule(ax, self.projection, area, self.extent)
        self.place_labels, credit = draw_places(ax, self.projection, self.extent)
        draw_credit(ax, credit)
        self.zones = [
            self._layer(z, partial(draw_zones, ax, self.projection, [z], self.extent)) for z in scenario.zones
        ]
        self.lines = [
            self._layer(ln, partial(draw_lines, ax, self.projection, [ln], scenario, self.extent))
            for ln in scenario.lines
        ]
        draw_scale_bar(ax, self.extent)
        draw_north_arrow(ax, self.projection, self.extent)
        if scenario.synthetic:
            synthetic_tag(ax, (provenance_banner(scenario) or ("",))[0])
        self.panel = self.fig.add_axes(_rect(self.rects["panel"]))

    def _layer(self, item: Zone | Line, draw: Callable[[], None]) -> _Layer:
        ax = self.ax
        before = [*ax.patches, *ax.lines, *ax.texts, *ax.collections]
        draw()
        after = [*ax.patches, *ax.lines, *ax.texts, *ax.collections]
        return _Layer(item, _added(before, after))

    def render(self, frame: Frame) -> np.ndarray:
        """
        Draw one frame.

        Returns
        -------
        numpy.ndarray
            The frame's pixels, height x width x 3 (RGB, uint8).
        """
        window = (frame.since.value, frame.until.value)
        zones = [z for z in self.scenario.zones if in_force(z, window)]
        lines = [ln for ln in self.scenario.lines if in_force(ln, window)]
        for layer in (*self.zones, *self.lines):
            shown = in_force(layer.item, window)
            for artist in layer.artists:
                artist.set_visible(shown)
        view = self.view[shows(frame, self.times)]
        ax, fig = self.ax, self.fig
        before = [*ax.collections, *ax.texts, *fig.texts]
        patches = len(fig.patches)
        counts, outside = draw_incidents(ax, view, self.scenario, self.projection, self.extent)
        self.panel.clear()
        draw_legend(self.panel, self.scenario, counts, lines, zones)
        frame_filters = self.filters.with_(
            since=frame.since.to_pydatetime(), until=frame.until.to_pydatetime()
        )
        draw_frame(
            fig,
            self.rects,
            view,
            self.scenario,
            frame_filters,
            self.as_of,
            self.title,
            counts=counts,
            outside=outside,
            borders=self.borders,
            projection=self.projection,
        )
        self._date(frame)
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()  # type: ignore[attr-defined]
        for artist in _added(before, [*ax.collections, *ax.texts, *fig.texts]):
            artist.remove()
        del fig.patches[patches:]  # the banner's band: added to the list, not through add_artist
        return pixels

    def _date(self, frame: Frame) -> None:
        """The frame's days, large, in the map's bottom right corner, and where it stands."""
        number, count = frame.index + 1, len(self.timeline.frames)
        days = round(self.timeline.window.total_seconds() / 86400)
        if self.timeline.cumulative:
            note = _("Frame {number} of {count} · everything since {start}").format(
                number=localize.number(number),
                count=localize.number(count),
                start=localize.day(self.timeline.start),
            )
        elif self.timeline.window > STEPS[self.timeline.step]:
            note = _("Frame {number} of {count} · the {days} days ending with it").format(
                number=localize.number(number), count=localize.number(count), days=localize.number(days)
            )
        else:
            note = _("Frame {number} of {count}").format(
                number=localize.number(number), count=localize.number(count)
            )
        box = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "#555555", "alpha": 0.92}
        for y, text, size, weight in ((0.085, frame.span, 16, "bold"), (0.03, note, 9, "normal")):
            self.ax.text(
                0.985,
                y,
                text,
                transform=self.ax.transAxes,
                ha="right",
                va="bottom",
                fontproperties=font(size, weight=weight),
                color="#1b2631",
                zorder=Z_DECOR + 1,
                parse_math=False,
                bbox=box,
            )
