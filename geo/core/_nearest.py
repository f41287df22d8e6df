"""Exact nearest-segment search over polylines, compiled with numba.

Segments are grouped into chains of consecutive segments with bounding boxes. A query
visits the chain with the smallest box distance first, then only the chains whose box
could hold something nearer. The answer is exact (no sampling) and runs in parallel
over points.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
import shapely
from numpy.typing import NDArray

from geo.core.model import ON_LINE_TOLERANCE_M


def _cache_dir() -> bool:
    """
    Keep numba's compiled code in the user's cache directory, never in the source tree.

    ``NUMBA_CACHE_DIR`` wins when set; otherwise ``$XDG_CACHE_HOME/truceline/numba`` (or
    ``~/.cache/…``). When no such folder is writable (a read-only deployment), caching is
    off and the kernels compile once per process.
    """
    if nb.config.CACHE_DIR:  # type: ignore[attr-defined]
        return True
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "truceline" / "numba"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    nb.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]  # set at run time by numba
    return True


_CACHE = _cache_dir()

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class SegmentIndex:
    """Segments of one or more polylines in metric coordinates, ready for queries."""

    ax: FloatArray
    ay: FloatArray
    bx: FloatArray
    by: FloatArray
    prev: IntArray
    next: IntArray
    chain_start: IntArray
    chain_box: FloatArray  # (n_chains, 4): xmin, ymin, xmax, ymax

    @property
    def size(self) -> int:
        """Number of segments."""
        return int(self.ax.shape[0])


def build_index(geometry: shapely.Geometry) -> SegmentIndex:
    """
    Index the segments of a metric (Multi)LineString, or of a polygon's boundary.

    Parameters
    ----------
    geometry
        Lines, or polygons whose rings are indexed as closed polylines.

    Returns
    -------
    SegmentIndex
    """
    closed = shapely.get_type_id(geometry) in (3, 6)  # Polygon, MultiPolygon
    parts = shapely.get_parts(shapely.boundary(geometry) if closed else geometry)
    parts = shapely.get_parts(parts)  # a polygon boundary may itself be multi
    pieces: list[np.ndarray] = []
    prev: list[np.ndarray] = []
    nxt: list[np.ndarray] = []
    offset = 0
    for part in parts:
        coords = shapely.get_coordinates(part)
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)  # drop repeated vertices
        coords = coords[keep]
        n = len(coords) - 1
        if n < 1:
            continue
        pieces.append(np.hstack([coords[:-1], coords[1:]]))
        ids = np.arange(offset, offset + n)
        ring = closed and n > 1 and np.array_equal(coords[0], coords[-1])
        p, q = ids - 1, ids + 1
        p[0] = ids[-1] if ring else -1
        q[-1] = ids[0] if ring else -1
        prev.append(p)
        nxt.append(q)
        offset += n
    if not pieces:
        msg = "geometry has no segments"
        raise ValueError(msg)
    seg = np.vstack(pieces)
    size = len(seg)
    step = max(8, math.ceil(math.sqrt(size)))
    start = np.append(np.arange(0, size, step), size).astype(np.int64)
    xmin = np.minimum(seg[:, 0], seg[:, 2])
    xmax = np.maximum(seg[:, 0], seg[:, 2])
    ymin = np.minimum(seg[:, 1], seg[:, 3])
    ymax = np.maximum(seg[:, 1], seg[:, 3])
    heads = start[:-1]
    box = np.column_stack(
        [
            np.minimum.reduceat(xmin, heads),
            np.minimum.reduceat(ymin, heads),
            np.maximum.reduceat(xmax, heads),
            np.maximum.reduceat(ymax, heads),
        ]
    )
    return SegmentIndex(
        ax=np.ascontiguousarray(seg[:, 0]),
        ay=np.ascontiguousarray(seg[:, 1]),
        bx=np.ascontiguousarray(seg[:, 2]),
        by=np.ascontiguousarray(seg[:, 3]),
        prev=np.concatenate(prev).astype(np.int64),
        next=np.concatenate(nxt).astype(np.int64),
        chain_start=start,
        chain_box=np.ascontiguousarray(box),
    )


@nb.njit(cache=_CACHE, inline="always")
def _seg_d2(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
    dx = bx - ax
    dy = by - ay
    l2 = dx * dx + dy * dy
    t = 0.0
    if l2 > 0.0:
        t = ((px - ax) * dx + (py - ay) * dy) / l2
        t = min(max(t, 0.0), 1.0)
    qx = ax + t * dx - px
    qy = ay + t * dy - py
    return qx * qx + qy * qy, t


@nb.njit(cache=_CACHE, inline="always")
def _box_d2(px: float, py: float, box: np.ndarray, c: int) -> float:
    dx = max(box[c, 0] - px, 0.0, px - box[c, 2])
    dy = max(box[c, 1] - py, 0.0, py - box[c, 3])
    return float(dx * dx + dy * dy)


@nb.njit(cache=_CACHE, inline="always")
def _unit(ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
    dx = bx - ax
    dy = by - ay
    n = math.hypot(dx, dy)
    return dx / n, dy / n


@nb.njit(cache=_CACHE)
def _side(
    px: float,
    py: float,
    s: int,
    t: float,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    prev: np.ndarray,
    nxt: np.ndarray,
) -> float:
    """Sign of the side of P relative to segment s: > 0 left, < 0 right."""
    ux, uy = _unit(ax[s], ay[s], bx[s], by[s])
    if t <= 0.0 and prev[s] >= 0:
        o = prev[s]
        vx, vy = _unit(ax[o], ay[o], bx[o], by[o])
        nx, ny = -(uy + vy), ux + vx  # sum of the two left normals
        if nx != 0.0 or ny != 0.0:
            return float((px - ax[s]) * nx + (py - ay[s]) * ny)
    elif t >= 1.0 and nxt[s] >= 0:
        o = nxt[s]
        vx, vy = _unit(ax[o], ay[o], bx[o], by[o])
        nx, ny = -(uy + vy), ux + vx
        if nx != 0.0 or ny != 0.0:
            return float((px - bx[s]) * nx + (py - by[s]) * ny)
    return float(ux * (py - ay[s]) - uy * (px - ax[s]))


@nb.njit(cache=_CACHE)
def _point(
    i: int,
    px: np.ndarray,
    py: np.ndarray,
    ax: np.ndarray,
    ay: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    prev: np.ndarray,
    nxt: np.ndarray,
    start: np.ndarray,
    box: np.ndarray,
    tol: float,
    out_d: np.ndarray,
    out_seg: np.ndarray,
    out_t: np.ndarray,
) -> None:
    """Point ``i``'s signed distance, nearest segment and foot, into the outputs."""
    nc = start.shape[0] - 1
    x = px[i]
    y = py[i]
    first = 0
    lbmin = np.inf
    for c in range(nc):
        lb = _box_d2(x, y, box, c)
        if lb < lbmin:
            lbmin = lb
            first = c
    best = np.inf
    bseg = -1
    bt = 0.0
    for s in range(start[first], start[first + 1]):
        d2, t = _seg_d2(x, y, ax[s], ay[s], bx[s], by[s])
        if d2 < best:
            best, bseg, bt = d2, s, t
    for c in range(nc):
        if c == first or _box_d2(x, y, box, c) >= best:
            continue
        for s in range(start[c], start[c + 1]):
            d2, t = _seg_d2(x, y, ax[s], ay[s], bx[s], by[s])
            if d2 < best:
                best, bseg, bt = d2, s, t
    d = math.sqrt(best)
    if d >= tol:
        if _side(x, y, bseg, bt, ax, ay, bx, by, prev, nxt) < 0.0:
            d = -d
    else:
        d = 0.0
    out_d[i] = d
    out_seg[i] = bseg
    out_t[i] = bt


@nb.njit(parallel=True, cache=_CACHE)
def _query(*args: Any) -> None:  # the arguments of _point but i
    for i in nb.prange(args[0].shape[0]):
        _point(i, *args)


@nb.njit(cache=_CACHE)
def _query_serial(*args: Any) -> None:  # the arguments of _point but i
    for i in range(args[0].shape[0]):
        _point(i, *args)


PARALLEL_FROM = 10_000
"""Points from which :func:`nearest` runs on every core: for fewer, starting the threads costs
more than the work (1–5 ms against 10 µs for 20 points, 1 ms for 2,000)."""


def nearest(index: SegmentIndex, x: FloatArray, y: FloatArray) -> tuple[FloatArray, IntArray, FloatArray]:
    """
    Signed distance from each point to the nearest segment.

    Parameters
    ----------
    index
        Segments from :func:`build_index`.
    x, y
        Metric coordinates of the points.

    Returns
    -------
    distance, segment, t
        Signed distance in meters (positive on the left of the line's direction, 0 on
        the line), the index of the nearest segment, and the position of the foot on
        it (0 at its start, 1 at its end).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = x.shape[0]
    out_d = np.empty(n, dtype=np.float64)
    out_seg = np.empty(n, dtype=np.int64)
    out_t = np.empty(n, dtype=np.float64)
    if n:
        (_query if n >= PARALLEL_FROM else _query_serial)(
            x,
            y,
            index.ax,
            index.ay,
            index.bx,
            index.by,
            index.prev,
            index.next,
            index.chain_start,
            index.chain_box,
            ON_LINE_TOLERANCE_M,
            out_d,
            out_seg,
            out_t,
        )
    return out_d, out_seg, out_t


def foot_points(index: SegmentIndex, segment: IntArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Metric coordinates of the nearest point on the line found by :func:`nearest`."""
    ax, ay = index.ax[segment], index.ay[segment]
    return ax + t * (index.bx[segment] - ax), ay + t * (index.by[segment] - ay)
