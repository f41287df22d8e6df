"""Shared helpers of the static renderers (PNG snapshot, PDF briefing).

Fonts, colours, time formatting and the figure plumbing both renderers need. Nothing
here touches matplotlib's global state (``rcParams`` or ``pyplot``): figures are
built with :class:`matplotlib.figure.Figure` and every text gets its font explicitly,
so concurrent renders in a threaded server cannot disturb each other.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path as MplPath
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from geo.model import Scenario

FONT_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONTS: dict[str, str] = {
    "regular": "NotoSans-Regular.ttf",
    "bold": "NotoSans-Bold.ttf",
    "korean": "NotoSansCJKkr-Hangul-Regular.otf",
    "arabic": "NotoSansArabic-Regular.ttf",
}
"""The shipped fonts (see ``data/fonts/PROVENANCE.md``): Latin, Greek and Cyrillic;
Hangul; Arabic."""

VERDICT_COLOURS: dict[str, str] = {
    "breach": "#d7191c",
    "possible_breach": "#f08c00",
    "no_breach": "#6f7b85",
    "outside_monitored_area": "#b9c0c6",
}
VERDICT_LABELS: dict[str, str] = {
    "breach": "Breach",
    "possible_breach": "Possible breach",
    "no_breach": "No breach",
    "outside_monitored_area": "Outside monitored area",
}
ATTRIBUTION_LABELS: dict[str, str] = {
    "reported": "reported",
    "inferred_from_side": "inferred from side",
    "unattributed": "unattributed",
}
LINE_COLOUR = "#111111"
UNATTRIBUTED_COLOUR = "#555555"
SYNTHETIC_COLOUR = "#b3001b"
SYNTHETIC_BANNER = "SYNTHETIC DEMO DATA \u2014 NOT REAL EVENTS"
SYNTHETIC_NOTE = "generated for demonstration and training; do not cite"
BASEMAP_ATTRIBUTION = "Basemap: Natural Earth 1:110m countries (public domain)"

_lock = threading.Lock()
_families: tuple[str, ...] | None = None

# Scripts the shipped fonts draw only after shaping (joining, reordering, bidi).
_NEEDS_SHAPING = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\u0300-\u036f]"
)


def font_path(key: str) -> Path:
    """Path of a shipped font: ``regular``, ``bold``, ``korean`` or ``arabic``."""
    return FONT_DIR / FONTS[key]


def font_families() -> tuple[str, ...]:
    """Register the shipped fonts with matplotlib (once) and return the family fallback list."""
    global _families  # noqa: PLW0603 - one registration per process
    with _lock:
        if _families is None:
            for name in FONTS.values():
                font_manager.fontManager.addfont(str(FONT_DIR / name))
            _families = tuple(
                dict.fromkeys(
                    FontProperties(fname=str(font_path(k))).get_name()
                    for k in ("regular", "korean", "arabic")
                )
            )
        return _families


def font(size: float, *, weight: str = "normal", style: str = "normal") -> FontProperties:
    """Font properties with the shipped fallback chain (Noto Sans, Hangul, Arabic)."""
    return FontProperties(family=list(font_families()), size=size, weight=weight, style=style)


def needs_shaping(texts: Iterable[str]) -> bool:
    """Whether any text is in a script that needs shaping (Arabic, Hebrew, Hangul jamo, marks)."""
    return any(_NEEDS_SHAPING.search(t) for t in texts if t)


def utc(ts: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """A timestamp in UTC (naive input is taken as UTC)."""
    t = pd.Timestamp(ts)
    return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")


def fmt_time(ts: datetime | pd.Timestamp | str | None) -> str:
    """``YYYY-MM-DD HH:MM UTC``, or an empty string."""
    if ts is None or pd.isna(ts):
        return ""
    return utc(ts).strftime("%Y-%m-%d %H:%M UTC")


def plural(n: int, noun: str) -> str:
    """``1 breach``, ``2 breaches``, ``1,234 incidents``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {noun}es" if noun.endswith(("ch", "sh", "s", "x")) else f"{n:,} {noun}s"


def party_names(scenario: Scenario) -> dict[str, str]:
    """Party id to display name, with ``""`` for unattributed."""
    return {"": "Unattributed", **{p.id: p.name for p in scenario.parties}}


def party_colours(scenario: Scenario) -> dict[str, str]:
    """Party id to colour, with ``""`` for unattributed."""
    return {"": UNATTRIBUTED_COLOUR, **{p.id: p.colour for p in scenario.parties}}


def text_column(view: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array of strings, missing values as ``""``."""
    if column not in view:
        return np.full(len(view), "", dtype=object)
    return view[column].astype(object).fillna("").astype(str).to_numpy(dtype=object)


def new_figure(width_in: float, height_in: float, dpi: int) -> Figure:
    """A figure with an Agg canvas attached and no pyplot state."""
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure, *, metadata: dict[str, str] | None = None) -> bytes:
    """
    Draw a figure once and encode it as PNG at its own size and dpi.

    No tight bounding box, so pixel positions computed from the figure stay true; after
    this, artists' window extents are those of the image.
    """
    canvas = fig.canvas
    canvas.draw()
    width, height = (int(v) for v in canvas.get_width_height(physical=True))
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = rgba.convert("RGB")
    info = PngInfo()
    for key, value in (metadata or {}).items():
        info.add_itxt(key, value)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info, dpi=(fig.dpi, fig.dpi), compress_level=4)
    return buf.getvalue()


def polygon_path(geometry: shapely.Geometry) -> MplPath | None:
    """A matplotlib path of a (multi)polygon, holes included; ``None`` when empty."""
    polys = [p for p in shapely.get_parts(geometry) if isinstance(p, shapely.Polygon) and not p.is_empty]
    if not polys:
        return None
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in polys:
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0], c[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def line_paths(geometry: shapely.Geometry) -> list[np.ndarray]:
    """The vertex arrays of every part of a (multi)linestring."""
    return [
        np.asarray(p.coords)[:, :2]
        for p in shapely.get_parts(geometry)
        if isinstance(p, shapely.LineString) and not p.is_empty
    ]
