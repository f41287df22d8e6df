"""The legend panel beside the map: verdicts with their counts, parties, lines and zones."""

from __future__ import annotations

import textwrap

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from geo.model import VERDICTS, Line, Scenario, Zone
from geo.render.fonts import font
from geo.render.image.symbols import SIZE, UNATTRIBUTED_MARKER, party_markers, zone_patch_kwargs
from geo.render.palette import LINE_COLOUR, PRINT_UNATTRIBUTED_COLOUR, PRINT_VERDICT_COLOURS, VERDICT_LABELS


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
            fontproperties=font(8, weight="bold"),
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
            fontproperties=font(size),
            va="top",
            transform=self.ax.transAxes,
            linespacing=1.15,
        )
        self.y -= (0.05 + len(lines) * 0.15) * self.unit
        return 0.06, centre - 0.06 * self.unit


def draw_legend(
    panel: Axes, scenario: Scenario, counts: dict[str, int], lines: list[Line], zones: list[Zone]
) -> dict:
    """Draw the legend panel; return the centre of each swatch in axes coordinates, by key."""
    panel.set_axis_off()
    height_in = panel.get_position().height * panel.figure.get_figheight()
    cur = _Cursor(panel, height_in)
    swatches: dict[str, tuple[float, float]] = {}
    cur.header("Verdict")
    for v in VERDICTS:
        xy = cur.row(f"{VERDICT_LABELS[v]} ({counts[v]:,})")
        panel.scatter(
            [xy[0]],
            [xy[1]],
            s=SIZE[v] * 1.4,
            c=PRINT_VERDICT_COLOURS[v],
            marker="o",
            transform=panel.transAxes,
            clip_on=False,
        )
        swatches[f"verdict:{v}"] = xy
    cur.header("Attributed party (marker)")
    markers = party_markers(scenario)
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
        edgecolors=PRINT_UNATTRIBUTED_COLOUR,
        linewidths=1.5,
        transform=panel.transAxes,
        clip_on=False,
    )
    swatches["party:"] = xy
    cur.header("Lines and zones")
    for line in lines:
        xy = cur.row(line.name)
        panel.add_line(
            Line2D([0.0, 0.11], [xy[1], xy[1]], color=LINE_COLOUR, linewidth=2.0, transform=panel.transAxes)
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
                **zone_patch_kwargs(zone.kind),
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
        fontproperties=font(6.5),
        color="#444444",
        va="top",
        transform=panel.transAxes,
        linespacing=1.2,
    )
    return swatches
