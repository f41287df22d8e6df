"""Incidents counted in hexagonal cells of a metric projection: the payload stays bounded."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from geo.classify import prepare
from geo.model import VERDICTS, Scenario
from geo.render.webmap.columns import codes
from geo.render.webmap.markers import style_payload

_EARTH_R = 6_371_008.8


def _aeqd(lon: np.ndarray, lat: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Spherical azimuthal equidistant projection centred on (lon0, lat0), in meters."""
    phi, lam = np.radians(lat), np.radians(lon - lon0)
    phi0 = math.radians(lat0)
    cos_phi = np.cos(phi)
    cos_c = np.clip(math.sin(phi0) * np.sin(phi) + math.cos(phi0) * cos_phi * np.cos(lam), -1.0, 1.0)
    c = np.arccos(cos_c)
    sin_c = np.sin(c)
    k = np.where(sin_c > 1e-12, c / np.where(sin_c > 1e-12, sin_c, 1.0), 1.0) * _EARTH_R
    x = k * cos_phi * np.sin(lam)
    y = k * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * cos_phi * np.cos(lam))
    return x, y


def _aeqd_inverse(x: np.ndarray, y: np.ndarray, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    phi0 = math.radians(lat0)
    rho = np.hypot(x, y)
    c = rho / _EARTH_R
    sin_c, cos_c = np.sin(c), np.cos(c)
    safe = np.where(rho > 0, rho, 1.0)
    phi = np.arcsin(np.clip(cos_c * math.sin(phi0) + y * sin_c * math.cos(phi0) / safe, -1.0, 1.0))
    lam = np.arctan2(x * sin_c, rho * math.cos(phi0) * cos_c - y * math.sin(phi0) * sin_c)
    return np.degrees(lam) + lon0, np.degrees(np.where(rho > 0, phi, phi0))


def hex_bin(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointy-top hexagon of each point: (cell code per point, centre x, centre y per cell)."""
    qf = (math.sqrt(3) / 3 * x - y / 3) / radius
    rf = (2 / 3 * y) / radius
    sf = -qf - rf
    q, r, s = np.rint(qf), np.rint(rf), np.rint(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    key = (q.astype(np.int64) << 32) + (r.astype(np.int64) + (1 << 31))
    found, uniques = pd.factorize(key)
    uq = (uniques >> 32).astype(np.float64)
    ur = ((uniques & 0xFFFFFFFF) - (1 << 31)).astype(np.float64)
    return found, radius * math.sqrt(3) * (uq + ur / 2), radius * 1.5 * ur


def cell_payload(
    view: pd.DataFrame,
    scenario: Scenario,
    verdict: np.ndarray,
    is_new: np.ndarray,
    width_m: float,
    max_cells: int,
) -> tuple[dict[str, Any], float]:
    """The JSON ``cells.js`` draws, and the cell width used (grown until at most ``max_cells``)."""
    lon = view["lon"].to_numpy(dtype=np.float64)
    lat = view["lat"].to_numpy(dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat) & (verdict >= 0)
    projection = prepare(scenario).projection
    lon0, lat0 = projection.lon0, projection.lat0
    x, y = _aeqd(lon[ok], lat[ok], lon0, lat0)
    verdict, is_new = verdict[ok], is_new[ok]
    party_ids = [p.id for p in scenario.parties]
    party = (
        codes(view["attributed_party"], party_ids)[ok] if "attributed_party" in view else np.full(len(x), -1)
    )
    party = np.where(party < 0, len(party_ids), party)
    while True:
        radius = width_m / math.sqrt(3)
        cell, cx, cy = hex_bin(x, y, radius)
        if len(cx) <= max_cells:
            break
        width_m *= math.sqrt(len(cx) / max_cells) * 1.1
    k, nv, npart = len(cx), len(VERDICTS), len(party_ids) + 1
    counts = np.bincount(cell * nv + verdict, minlength=k * nv)
    parties = np.bincount(cell * npart + party, minlength=k * npart)
    fresh = np.bincount(cell, weights=is_new, minlength=k).astype(np.int64)
    clon, clat = _aeqd_inverse(cx, cy, lon0, lat0)
    names = [p.short_name or p.name for p in scenario.parties] + ["unattributed"]
    payload = {
        **style_payload(scenario),
        "radius": round(radius, 1),
        "lat": np.round(clat, 5).tolist(),
        "lon": np.round(clon, 5).tolist(),
        "counts": counts.tolist(),
        "parties": parties.tolist(),
        "partyNames": names,
        "fresh": fresh.tolist(),
        "maxCount": int(np.bincount(cell).max(initial=1)),
    }
    return payload, width_m
