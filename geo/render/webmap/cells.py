"""Incidents counted in hexagonal cells of the scenario's metric projection: the payload stays bounded.

Cells are regular hexagons in the scenario's local azimuthal equidistant projection
(:class:`geo.core._metric.LocalProjection`): incidents are binned by their projected x/y, and
each occupied cell is sent to the browser as its centre and its six corners, unprojected
to lon/lat on the server. The corners travel as integer offsets from the centre in units
of ``ringScale`` degrees, sent as their difference from a reference ring: nothing is
projected, or measured in degrees, in the browser. Cell longitudes are gathered around
the projection's centre, so cells on both sides of ±180° sit next to the scenario.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from geo.core._metric import LocalProjection
from geo.core.classify import prepare
from geo.core.model import VERDICTS, Scenario
from geo.i18n import _
from geo.render.around import near_lon, turns_to
from geo.render.webmap.columns import codes
from geo.render.webmap.escape import script_json
from geo.render.webmap.markers import style_payload
from geo.render.webmap.projected import KeyedMemo, approximate_forward

MAX_CELL_BYTES = 1_500_000
"""Cells grow until their payload fits: with the markers' bound, the map stays < 5 MB."""
_CORNERS = np.radians(30.0 + 60.0 * np.arange(6))
"""Pointy-top hexagon: corners at 30, 90, ... 330 degrees from the x axis."""
_cells = KeyedMemo(checked=2)


def hex_keys(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    """The lattice key of the pointy-top hexagon (circumradius ``radius``) holding each point."""
    qf = (math.sqrt(3) / 3 * x - y / 3) / radius
    rf = (2 / 3 * y) / radius
    sf = -qf - rf
    q, r, s = np.rint(qf), np.rint(rf), np.rint(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return (q.astype(np.int64) << 32) + (r.astype(np.int64) + (1 << 31))


def _edge_distance(x: np.ndarray, y: np.ndarray, keys: np.ndarray, radius: float) -> np.ndarray:
    """How far inside its hexagon each point is (meters from the nearest edge)."""
    cx, cy = cell_centres(keys, radius)
    dx, dy = x - cx, y - cy
    s = math.sqrt(3) / 2
    out = np.maximum(np.abs(dx), np.abs(0.5 * dx + s * dy))
    return np.asarray(radius * s - np.maximum(out, np.abs(-0.5 * dx + s * dy)))


class MetricPoints:
    """
    Incidents in the projection's plane, for binning: interpolated, and exact where it matters.

    Positions come from :func:`~geo.render.webmap.projected.approximate_forward`. When
    binning, a point nearer its cell's edge than its error bound is projected exactly (and
    stays so for later binnings), so every point lands in the cell its exact projection
    lands in.
    """

    def __init__(self, projection: LocalProjection, lon: np.ndarray, lat: np.ndarray) -> None:
        self.projection, self.lon, self.lat = projection, lon, lat
        x, y, error = approximate_forward(projection, lon, lat)
        self.x, self.y, self.error = x.copy(), y.copy(), error.copy()

    def bin(self, width_m: float, max_cells: int) -> tuple[np.ndarray, np.ndarray, float]:
        """
        Bin the points in hexagons, growing them until at most ``max_cells`` are occupied.

        Returns
        -------
        tuple
            Cell index per point, lattice key per cell, and the cell width used (meters
            between neighbouring centres).
        """
        x, y, error = self.x, self.y, self.error
        while True:
            radius = width_m / math.sqrt(3)
            keys = hex_keys(x, y, radius)
            cell, uniques = pd.factorize(keys)
            if len(uniques) <= max_cells:  # settle the width first, then the points in doubt
                doubt = (error > 0) & (_edge_distance(x, y, keys, radius) <= error)
                if doubt.any():
                    x[doubt], y[doubt] = self.projection.forward(self.lon[doubt], self.lat[doubt])
                    error[doubt] = 0.0
                    keys[doubt] = hex_keys(x[doubt], y[doubt], radius)
                    cell, uniques = pd.factorize(keys)
                if len(uniques) <= max_cells:
                    return cell, np.asarray(uniques, dtype=np.int64), width_m
            width_m *= math.sqrt(len(uniques) / max_cells) * 1.1


def bin_points(
    projection: LocalProjection, lon: np.ndarray, lat: np.ndarray, width_m: float, max_cells: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Bin lon/lat points in hexagons of the projection (see :class:`MetricPoints`)."""
    return MetricPoints(projection, lon, lat).bin(width_m, max_cells)


def cell_centres(keys: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The metric centre of each lattice cell."""
    uq = (keys >> 32).astype(np.float64)
    ur = ((keys & 0xFFFFFFFF) - (1 << 31)).astype(np.float64)
    return radius * math.sqrt(3) * (uq + ur / 2), radius * 1.5 * ur


def cell_rings(
    projection: LocalProjection, keys: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """
    Each cell's centre and six corners in lon/lat, unprojected with the scenario's projection.

    Returns
    -------
    tuple of numpy.ndarray
        Centre lon, centre lat (per cell), corner lon, corner lat (cells x 6). Centre
        longitudes lie within 180 degrees of the projection's centre, and corner longitudes
        within 180 degrees of their cell's centre (a cell across the antimeridian stays one
        hexagon). A corner past the projection's domain (the far side of the globe)
        collapses onto the centre.
    """

    def unproject(centre: np.ndarray) -> np.ndarray:
        cx, cy = centre[:, 0], centre[:, 1]
        xs = (cx[:, None] + radius * np.cos(_CORNERS)).ravel()
        ys = (cy[:, None] + radius * np.sin(_CORNERS)).ravel()
        lon, lat = projection.inverse(np.concatenate([cx, xs]), np.concatenate([cy, ys]))
        n = len(cx)
        clon, clat = lon[:n], lat[:n]
        vlon, vlat = lon[n:].reshape(n, 6), lat[n:].reshape(n, 6)
        bad = ~(np.isfinite(vlon) & np.isfinite(vlat))
        vlon = np.where(bad, clon[:, None], clon[:, None] + (vlon - clon[:, None] + 180.0) % 360.0 - 180.0)
        vlat = np.where(bad, clat[:, None], vlat)
        return np.column_stack([clon, clat, vlon, vlat])

    centres = np.column_stack(cell_centres(keys, radius))
    rows = _cells.get(("cells", projection.crs.srs, radius), keys, centres, unproject)
    shift = turns_to(rows[:, 2], projection.lon0)[:, None]
    return rows[:, 2] + shift[:, 0], rows[:, 3], rows[:, 4:10] + shift, rows[:, 10:16]


def _ring_offsets(
    clon: np.ndarray, clat: np.ndarray, vlon: np.ndarray, vlat: np.ndarray
) -> tuple[list[int], list[int], float]:
    """
    The corners as integers: a reference ring, and each cell's difference from it.

    Offsets from the (rounded) centre are counted in units of ``scale`` degrees, chosen so
    the largest has four digits (a ten-thousandth to a thousandth of the cell). Cells
    differ from one another only by the projection's distortion, so the differences from
    the median ring are small numbers: half the bytes of the offsets themselves.
    """
    offsets = np.empty((len(clon), 12))
    offsets[:, 0::2] = vlon - clon[:, None]
    offsets[:, 1::2] = vlat - clat[:, None]
    largest = float(np.abs(offsets).max(initial=0.0))
    scale = max(10.0 ** (math.floor(math.log10(largest)) - 3), 1e-6) if largest > 0 else 1e-6
    units = np.rint(offsets / scale).astype(np.int64)
    reference = np.median(units, axis=0).astype(np.int64) if len(units) else np.zeros(12, dtype=np.int64)
    return reference.tolist(), (units - reference).ravel().tolist(), scale


def cell_payload(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    width_m: float,
    max_cells: int,
) -> tuple[dict[str, Any], float]:
    """
    The JSON ``cells.js`` draws, and the cell width used.

    Cells grow until at most ``max_cells`` are occupied and their JSON takes at most
    :data:`MAX_CELL_BYTES`.
    """
    lon = view["lon"].to_numpy(dtype=np.float64)
    lat = view["lat"].to_numpy(dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat) & (verdict >= 0)
    projection = prepare(scenario).projection
    party_ids = [p.id for p in scenario.parties]
    party = (
        codes(view["attributed_party"], party_ids) if "attributed_party" in view else np.full(len(view), -1)
    )
    party = np.where(party < 0, len(party_ids), party)[ok]
    verdict, is_new, lat = verdict[ok], is_new[ok], lat[ok]
    # Around the centre, the interpolation grid spans the incidents, not the whole globe.
    points = MetricPoints(projection, near_lon(lon[ok], projection.lon0), lat)
    while True:
        cell, keys, width_m = points.bin(width_m, max_cells)
        k, nv, npart = len(keys), len(VERDICTS), len(party_ids) + 1
        clon, clat, vlon, vlat = cell_rings(projection, keys, width_m / math.sqrt(3))
        clon, clat = np.round(clon, 5), np.round(clat, 5)
        reference, ring, scale = _ring_offsets(clon, clat, vlon, vlat)
        payload = {
            **style_payload(scenario),
            "lat": clat.tolist(),
            "lon": clon.tolist(),
            "ringRef": reference,
            "ring": ring,
            "ringScale": scale,
            "counts": np.bincount(cell * nv + verdict, minlength=k * nv).tolist(),
            "parties": np.bincount(cell * npart + party, minlength=k * npart).tolist(),
            "partyNames": [p.short_name or p.name for p in scenario.parties] + [_("unattributed")],
            "fresh": np.bincount(cell, weights=is_new, minlength=k).astype(np.int64).tolist(),
            "maxCount": int(np.bincount(cell).max(initial=1)),
        }
        size = len(script_json(payload).encode())
        if size <= MAX_CELL_BYTES:
            return payload, width_m
        width_m *= math.sqrt(size / MAX_CELL_BYTES) * 1.05
