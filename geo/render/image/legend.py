"""The legend panel beside the map: verdicts with their counts, parties, lines and zones."""

from __future__ import annotations

import textwrap
from typing import Any, cast

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from geo.core.model import VERDICTS, Line, Scenario, Zone
from geo.i18n import _, is_rtl
from geo.localize import number
from geo.render import palette as pal
from geo.render.fonts import font
from geo.render.image.symbols import SIZE, UNATTRIBUTED_MARKER, party_markers, zone_patch_kwargs

_HEADER_IN = 0.4
_NOTE_WIDTH = 56
_NOTE_LINE_IN = 6.5 * 1.2 * 1.4 / 72
"""A line of the note: 6.5 pt, spaced 1.2, in a font whose line is 1.4 em high (Noto Sans)."""


def _row_lines(label: str) -> int:
    return len(textwrap.wrap(label, 40)) or 1


def _needed_in(labels: list[str], headers: int, note: str) -> float:
    """The height the legend takes at full size, in inches."""
    rows = sum(0.05 + _row_lines(label) * 0.15 for label in labels)
    return headers * _HEADER_IN + rows + 0.12 + len(textwrap.wrap(note, _NOTE_WIDTH)) * _NOTE_LINE_IN + 0.1


class _Cursor:
    """Writes legend rows top-down in a panel whose height is known in inches.

    ``scale`` shrinks the spacing and the type together, so a long legend (many zones)
    fits a short panel instead of running off its bottom.
    """

    def __init__(self, ax: Axes, height_in: float, scale: float = 1.0) -> None:
        self.ax = ax
        self.y = 1.0
        self.scale = scale
        self.unit = scale / height_in  # axes units per inch of the full-size legend
        self.rtl = is_rtl()
        """Right to left: text aligned right, swatches at the right of their labels."""

    def x(self, at: float) -> float:
        """A position across the panel, mirrored right to left."""
        return 1.0 - at if self.rtl else at

    @property
    def ha(self) -> str:
        return "right" if self.rtl else "left"

    def gap(self, inches: float) -> None:
        self.y -= inches * self.unit

    def header(self, text: str) -> None:
        self.gap(_HEADER_IN / 2)
        self.ax.text(
            self.x(0.0),
            self.y,
            text.upper(),
            ha=self.ha,
            fontproperties=font(8 * self.scale, weight="bold"),
            color="#2c3e50",
            va="center",
            transform=self.ax.transAxes,
            parse_math=False,
        )
        self.gap(_HEADER_IN / 2)

    def row(self, label: str, *, size: float = 8.0) -> tuple[float, float]:
        lines = textwrap.wrap(label, 40) or [""]
        centre = self.y - (len(lines) - 1) * 0.075 * self.unit
        self.ax.text(
            self.x(0.14),
            self.y,
            "\n".join(lines),
            ha=self.ha,
            multialignment=self.ha,
            fontproperties=font(size * self.scale),
            va="top",
            transform=self.ax.transAxes,
            linespacing=1.15,
            parse_math=False,
        )
        self.y -= (0.05 + len(lines) * 0.15) * self.unit
        return self.x(0.06), centre - 0.06 * self.unit

    def note(self, text: str) -> None:
        self.gap(0.12)
        self.ax.text(
            self.x(0.0),
            self.y,
            textwrap.fill(text, _NOTE_WIDTH),
            ha=self.ha,
            multialignment=self.ha,
            fontproperties=font(6.5 * self.scale),
            color="#444444",
            va="top",
            transform=self.ax.transAxes,
            linespacing=1.2,
            parse_math=False,
        )


def draw_legend(
    panel: Axes, scenario: Scenario, counts: dict[str, int], lines: list[Line], zones: list[Zone]
) -> dict[str, Any]:
    """Draw the legend panel; return the centre of each swatch in axes coordinates, by key."""
    panel.set_axis_off()
    height_in = panel.get_position().height * cast("Figure", panel.figure).get_figheight()
    verdicts = {v: f"{_(pal.VERDICT_LABELS[v])} ({number(counts[v])})" for v in VERDICTS}
    labels = [
        *verdicts.values(),
        *(p.name for p in scenario.parties),
        _(pal.UNATTRIBUTED_LABEL),
        *(ln.name for ln in lines),
        *(z.name for z in zones),
    ]
    note = _(pal.LEGEND_NOTE_PRINT)
    cur = _Cursor(panel, height_in, min(1.0, height_in / _needed_in(labels, 3, note)))
    swatches: dict[str, tuple[float, float]] = {}
    cur.header(_(pal.LEGEND_VERDICT))
    for v in VERDICTS:
        xy = cur.row(verdicts[v])
        panel.scatter(
            [xy[0]],
            [xy[1]],
            s=SIZE[v] * 1.4,
            c=pal.VERDICT_COLOURS[v],
            marker="o",
            transform=panel.transAxes,
            clip_on=False,
        )
        swatches[f"verdict:{v}"] = xy
    cur.header(_(pal.LEGEND_PARTY_PRINT))
    markers = party_markers(scenario)
    colours = pal.party_colours(scenario)
    for party in scenario.parties:
        xy = cur.row(party.name)
        panel.scatter(
            [xy[0]],
            [xy[1]],
            s=60,
            c="#dddddd",
            marker=markers[party.id],
            edgecolors=colours[party.id],
            linewidths=1.5,
            transform=panel.transAxes,
            clip_on=False,
        )
        swatches[f"party:{party.id}"] = xy
    xy = cur.row(_(pal.UNATTRIBUTED_LABEL))
    panel.scatter(
        [xy[0]],
        [xy[1]],
        s=50,
        c="#dddddd",
        marker=UNATTRIBUTED_MARKER,
        edgecolors=pal.UNATTRIBUTED_COLOUR,
        linewidths=1.5,
        transform=panel.transAxes,
        clip_on=False,
    )
    swatches["party:"] = xy
    cur.header(_(pal.LEGEND_LINES_ZONES))
    for line in lines:
        xy = cur.row(line.name)
        panel.add_line(
            Line2D(
                [cur.x(0.0), cur.x(0.11)],
                [xy[1], xy[1]],
                color=pal.LINE_COLOUR,
                linewidth=2.0,
                transform=panel.transAxes,
            )
        )
        swatches[f"line:{line.id}"] = xy
    for zone in sorted(zones, key=lambda z: z.geometry.area):
        xy = cur.row(zone.name)
        panel.add_patch(
            Rectangle(
                (cur.x(0.11) if cur.rtl else 0.0, xy[1] - 0.06 * cur.unit),
                0.11,
                0.12 * cur.unit,
                transform=panel.transAxes,
                **zone_patch_kwargs(zone.kind, swatch=True),
            )
        )
        swatches[f"zone:{zone.id}"] = xy
    cur.note(note)
    return swatches
