"""Projecting many incidents fast, and the corners of hex cells once.

The map bins incidents in the scenario's local azimuthal equidistant projection
(:class:`geo.core._metric.LocalProjection`: pyproj on the WGS84 ellipsoid), which costs about
a microsecond a point. :func:`approximate_forward` projects a grid of nodes spanning the
points exactly and interpolates between them, with a bound on the interpolation error of
each point; the binning then projects exactly only the points that bound leaves in doubt
(those closer to a cell's edge than their error). The cells come out the same as with
every point projected exactly, for a fraction of the cost.

:class:`KeyedMemo` keeps computed rows by integer key: the corners of hex cells, which
the live map asks for again on every refresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from geo.core._metric import LocalProjection

GRID = (64, 160)
"""Nodes per side of the interpolation grid, least and most: about one node per 40 points, so
the grid and its checks (four projections a node) cost a tenth of projecting every point."""
SAFETY = 3.0
"""The error bound is this many times the largest error measured at the checks of a grid cell."""
FAR = 0.9
"""Grid cells reaching past this share of the way to the antipode are projected exactly: the
antipode is the projection's singular point. (The bound holds closer in: measured errors
stay under 0.36 of it all the way to 0.999 of the way.)"""
MAX_ROWS = 500_000
MAX_SPACES = 4


def approximate_forward(
    projection: LocalProjection, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Project lon/lat by interpolating in a grid projected exactly, with an error bound.

    Parameters
    ----------
    projection
        The scenario's local projection.
    lon, lat
        Degrees, finite.

    Returns
    -------
    tuple of numpy.ndarray
        ``x, y`` (meters) and, per point, a bound on the distance to the exact ``x, y``
        (``inf`` where the point must be projected exactly).
    """
    n = len(lon)
    grid = int(np.clip(np.sqrt(n / 40.0), *GRID))
    if n < 40 * grid * grid:
        x, y = projection.forward(lon, lat)
        return x, y, np.zeros(n)
    west, east, south, north = lon.min(), lon.max(), lat.min(), lat.max()
    glon = np.linspace(west, east if east > west else west + 1e-9, grid)
    glat = np.linspace(south, north if north > south else south + 1e-9, grid)
    mlon, mlat = (glon[:-1] + glon[1:]) / 2, (glat[:-1] + glat[1:]) / 2
    parts = [np.meshgrid(a, b) for a, b in ((glon, glat), (mlon, mlat), (mlon, glat), (glon, mlat))]
    xs, ys = projection.forward(
        np.concatenate([p[0].ravel() for p in parts]), np.concatenate([p[1].ravel() for p in parts])
    )
    sizes = np.cumsum([0, *(p[0].size for p in parts)])
    shapes = [p[0].shape for p in parts]
    nodes, centres, across, along = (
        np.stack([xs[a:b].reshape(s), ys[a:b].reshape(s)], axis=-1)
        for a, b, s in zip(sizes[:-1], sizes[1:], shapes, strict=True)
    )
    # Measured interpolation error: at each cell's centre and at the middle of its four edges.
    e_centre = np.hypot(
        *np.moveaxis(centres - (nodes[:-1, :-1] + nodes[:-1, 1:] + nodes[1:, :-1] + nodes[1:, 1:]) / 4, -1, 0)
    )
    e_across = np.hypot(*np.moveaxis(across - (nodes[:, :-1] + nodes[:, 1:]) / 2, -1, 0))
    e_along = np.hypot(*np.moveaxis(along - (nodes[:-1, :] + nodes[1:, :]) / 2, -1, 0))
    error = np.maximum.reduce([e_centre, e_across[:-1], e_across[1:], e_along[:, :-1], e_along[:, 1:]])
    bound = SAFETY * error + 0.01
    # Far from the centre, towards the antipode, trust nothing.
    cx, cy = projection.forward(np.array([projection.lon0]), np.array([projection.lat0]))
    ax, ay = projection.forward(np.array([projection.lon0 + 180.0]), np.array([-projection.lat0]))
    reach = FAR * float(np.hypot(ax[0] - cx[0], ay[0] - cy[0]))
    if not np.isfinite(reach):
        reach = 0.0
    rho = np.hypot(nodes[..., 0] - cx[0], nodes[..., 1] - cy[0])
    far = np.maximum.reduce([rho[:-1, :-1], rho[:-1, 1:], rho[1:, :-1], rho[1:, 1:]]) > reach
    finite = np.asarray(np.isfinite(nodes).all(axis=-1))
    whole = finite[:-1, :-1] & finite[:-1, 1:] & finite[1:, :-1] & finite[1:, 1:]
    bound = np.where(far | ~whole | ~np.isfinite(bound), np.inf, bound)

    fu = (lon - glon[0]) / (glon[1] - glon[0])
    fv = (lat - glat[0]) / (glat[1] - glat[0])
    i = np.clip(fu.astype(np.int64), 0, grid - 2)
    j = np.clip(fv.astype(np.int64), 0, grid - 2)
    u, v = fu - i, fv - j
    corner = j * grid + i
    w00, w01, w10, w11 = (1 - u) * (1 - v), u * (1 - v), (1 - u) * v, u * v
    x, y = (
        flat[corner] * w00
        + flat[corner + 1] * w01
        + flat[corner + grid] * w10
        + flat[corner + grid + 1] * w11
        for flat in (nodes[..., 0].ravel(), nodes[..., 1].ravel())
    )
    return x, y, bound.ravel()[j * (grid - 1) + i]


@dataclass(frozen=True)
class _Table:
    keys: np.ndarray  # sorted, unique int64
    values: np.ndarray  # (n, m) float64, the first columns are the inputs checked on lookup


class KeyedMemo:
    """
    Rows of floats kept by int64 key, in a few independent spaces, least recently used first out.

    Parameters
    ----------
    checked
        How many leading value columns are the inputs: a key whose stored inputs differ
        from the ones given is computed again.
    """

    def __init__(self, checked: int = 0) -> None:
        self.checked = checked
        self._lock = threading.Lock()
        self._spaces: OrderedDict[Hashable, _Table] = OrderedDict()

    def get(
        self,
        space: Hashable,
        keys: np.ndarray,
        inputs: np.ndarray,
        compute: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """
        The rows of ``keys``: from the memo where their inputs match, else ``compute(inputs[missing])``.

        Parameters
        ----------
        space
            The memo space (what the keys mean: the projection and cell size, say).
        keys
            int64 keys, one per row.
        inputs
            ``(n, checked)`` inputs of each row, stored and compared.
        compute
            Computes the ``(k, m - checked)`` outputs of ``k`` rows of inputs.

        Returns
        -------
        numpy.ndarray
            ``(n, m)``: the inputs, then the outputs.
        """
        keys = np.asarray(keys, dtype=np.int64)
        with self._lock:
            table = self._spaces.get(space)
            if table is not None:
                self._spaces.move_to_end(space)
        out: np.ndarray | None = None
        hit = np.zeros(len(keys), dtype=bool)
        if table is not None and len(table.keys):
            pos = np.minimum(np.searchsorted(table.keys, keys), len(table.keys) - 1)
            hit = table.keys[pos] == keys
            hit &= np.all(table.values[pos, : self.checked] == inputs, axis=1)
            out = table.values[pos]
        missing = ~hit
        if out is not None and not missing.any():
            return out
        fresh = np.column_stack([inputs[missing], compute(inputs[missing])])
        if out is None:
            out = np.empty((len(keys), fresh.shape[1]), dtype=np.float64)
        out[missing] = fresh
        self._store(space, table, keys[missing], fresh)
        return out

    def _store(self, space: Hashable, table: _Table | None, keys: np.ndarray, values: np.ndarray) -> None:
        if table is not None and len(table.keys) + len(keys) <= MAX_ROWS:
            keys = np.concatenate([keys, table.keys])  # new rows first: they win on a duplicate key
            values = np.concatenate([values, table.values])
        keys, first = np.unique(keys, return_index=True)
        merged = _Table(keys, values[first])
        with self._lock:
            self._spaces[space] = merged
            self._spaces.move_to_end(space)
            while len(self._spaces) > MAX_SPACES:
                self._spaces.popitem(last=False)
