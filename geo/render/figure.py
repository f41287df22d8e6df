"""Matplotlib plumbing of the static outputs: figures without pyplot, PNG encoding, shapes as paths.

Figures are built with :class:`matplotlib.figure.Figure` and an Agg canvas, never with
pyplot, so concurrent renders in a threaded server cannot disturb each other.
"""

from __future__ import annotations

import io
from typing import cast

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from PIL import Image
from PIL.PngImagePlugin import PngInfo


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
    pixels = cast("FigureCanvasAgg", canvas).buffer_rgba()  # type: ignore[no-untyped-call]
    rgba = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
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
