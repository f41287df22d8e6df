"""The demo scenario and its seeded synthetic incidents.

Incidents are labelled synthetic three times over: their source is
``synthetic-demo``, their description starts with ``[SYNTHETIC]``, and the demo
scenario has ``synthetic = true``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import shapely

from geo import clock
from geo._paths import DATA
from geo.core._metric import LocalProjection, densify_lonlat
from geo.core.categories import vocabulary
from geo.core.classify import prepare
from geo.core.model import INCIDENT_COLUMNS, Scenario

DEMO_MANIFEST = DATA / "scenarios" / "korea" / "korea.toml"
SOURCE = "synthetic-demo"

# Crossing points and flashpoints along the MDL, as fractions of its length (west to east).
HOTSPOTS: tuple[tuple[str, float, float], ...] = (
    ("Panmunjom", 0.035, 0.22),
    ("Kaesong corridor", 0.06, 0.12),
    ("Yeoncheon", 0.25, 0.14),
    ("Cheorwon", 0.40, 0.18),
    ("Gimhwa", 0.50, 0.08),
    ("Hwacheon", 0.63, 0.08),
    ("Yanggu (Punchbowl)", 0.77, 0.10),
    ("Goseong", 0.97, 0.08),
)
CATEGORY_WEIGHTS: dict[str, float] = {
    "small_arms_fire": 0.13,
    "artillery_fire": 0.12,
    "air_strike": 0.02,
    "drone_activity": 0.10,
    "armed_clash": 0.04,
    "troop_movement": 0.17,
    "heavy_weapons_presence": 0.09,
    "construction": 0.10,
    "mine_laying": 0.05,
    "airspace_violation": 0.05,
    "explosion": 0.07,
    "violence_against_civilians": 0.01,
    "demonstration": 0.02,
    "other": 0.03,
}
ACTORS: dict[str, tuple[tuple[str, str], ...]] = {
    "north": (
        ("Korean People's Army", "party"),
        ("KPA", "actor"),
        ("조선인민군 제2군단", "actor"),
        ("Military Forces of North Korea (2011-)", "actor"),
    ),
    "south": (
        ("ROK Army", "party"),
        ("Republic of Korea Army", "actor"),
        ("대한민국 국군 제1사단", "actor"),
        ("Military Forces of South Korea (2022-)", "actor"),
    ),
    "": (("Unidentified armed group", "actor"), ("Unknown", "actor")),
}
WEAPONS = {
    "artillery_fire": ("artillery_152mm", "mortar_82mm", "mlrs_240mm"),
    "heavy_weapons_presence": ("tank", "artillery_152mm", "mlrs_240mm"),
    "small_arms_fire": ("rifle", "machine_gun"),
    "drone_activity": ("uav_small", "uav_fixed_wing"),
}


def _mdl_frame(scenario: Scenario) -> tuple[np.ndarray, float, LocalProjection]:
    prep = prepare(scenario)
    metric = prep.projection.to_metric(densify_lonlat(scenario.lines[0].geometry))
    return shapely.get_coordinates(metric), float(metric.length), prep.projection


def _positions(rng: np.random.Generator, n: int, scenario: Scenario) -> tuple[np.ndarray, ...]:
    """Points clustered at the hotspots, offset across the line: most outside the zones."""
    coords, length, projection = _mdl_frame(scenario)
    weights = np.array([h[2] for h in HOTSPOTS])
    hot = rng.choice(len(HOTSPOTS), n, p=weights / weights.sum())
    along = np.clip(np.array([h[1] for h in HOTSPOTS])[hot] + rng.normal(0, 0.025, n), 0.0, 1.0) * length
    band = rng.choice(4, n, p=[0.10, 0.15, 0.15, 0.60])
    lo, hi = np.array([0, 2000, 10000, 20000]), np.array([2000, 10000, 20000, 80000])
    offset = rng.uniform(lo[band], hi[band]) * rng.choice([-1.0, 1.0], n)
    seg_len = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    seg = np.clip(np.searchsorted(cum, along) - 1, 0, len(seg_len) - 1)
    u = np.diff(coords, axis=0)[seg] / seg_len[seg, None]
    base = coords[seg] + u * (along - cum[seg])[:, None]
    xy = base + np.column_stack([-u[:, 1], u[:, 0]]) * offset[:, None]  # left normal: north
    lon, lat = projection.inverse(xy[:, 0], xy[:, 1])
    return lon, lat, hot, offset


def _times(rng: np.random.Generator, n: int, days: int, end_day: date) -> pd.DatetimeIndex:
    """A base rate, three escalation weeks, more incidents by night; never in the future."""
    start = pd.Timestamp(end_day - timedelta(days=days - 1), tz="UTC")
    day_weight = np.ones(days)
    starts = max(days - 7, 1)
    for week in rng.choice(starts, min(3, starts), replace=False):
        day_weight[week : week + 7] *= 4.0
    day = rng.choice(days, n, p=day_weight / day_weight.sum())
    hour = (rng.normal(2.0, 5.0, n) % 24.0) * 3600.0
    occurred = start + pd.to_timedelta(day * 86400 + hour.astype(np.int64), unit="s")
    now = pd.Timestamp(clock.now())
    return occurred.where(occurred <= now, now - pd.to_timedelta(rng.integers(60, 3600, n), unit="s"))


def generate_incidents(
    scenario: Scenario, *, n: int = 6000, days: int = 200, end: date | None = None, seed: int = 0
) -> pd.DataFrame:
    """
    Seeded synthetic incidents around the scenario's first line.

    Parameters
    ----------
    scenario
        The scenario; incidents cluster along its first line.
    n
        How many incidents.
    days
        The length of the time range, ending at ``end``.
    end
        The last day of the range (default: today, UTC).
    seed
        Same seed and end date, same incidents (and same ids, so reloading adds none).

    Returns
    -------
    pandas.DataFrame
        Incidents in the normalised schema of :data:`geo.core.model.INCIDENT_COLUMNS`.
    """
    rng = np.random.default_rng(seed)
    end_day = end or clock.now().date()
    names = np.array([h[0] for h in HOTSPOTS], dtype=object)
    lon, lat, hot, offset = _positions(rng, n, scenario)
    occurred = _times(rng, n, days, end_day)

    cats = np.array(list(CATEGORY_WEIGHTS), dtype=object)
    cw = np.array(list(CATEGORY_WEIGHTS.values()))
    category = rng.choice(cats, n, p=cw / cw.sum())
    side_party = np.where(offset > 0, "north", "south")
    who = rng.choice(3, n, p=[0.75, 0.15, 0.10])  # own side, other side, unknown
    actor_party = np.where(
        who == 0, side_party, np.where(who == 1, np.where(side_party == "north", "south", "north"), "")
    )
    pick = rng.integers(0, 4, n)
    actor = np.empty(n, dtype=object)
    party = np.empty(n, dtype=object)
    for pid, options in ACTORS.items():
        rows = np.flatnonzero(actor_party == pid)
        chosen = pick[rows] % len(options)
        actor[rows] = np.array([o[0] for o in options], dtype=object)[chosen]
        party[rows] = np.where(np.array([o[1] for o in options])[chosen] == "party", pid, "")
    weapon = np.array([""] * n, dtype=object)
    for cat, kinds in WEAPONS.items():
        rows = np.flatnonzero(category == cat)
        weapon[rows] = rng.choice(np.array(kinds, dtype=object), rows.size)
    precision = rng.choice(
        np.array(["exact", "near", "area", "region"], dtype=object), n, p=[0.55, 0.25, 0.15, 0.05]
    )
    uncertainty = np.where(precision == "exact", rng.choice([np.nan, 50.0, 250.0], n), np.nan)
    verification = rng.choice(
        np.array(["reported", "verified", "disputed", "rejected"], dtype=object),
        n,
        p=[0.50, 0.35, 0.10, 0.05],
    )
    fatal = np.where(
        np.isin(category, ["artillery_fire", "armed_clash", "small_arms_fire", "explosion"]),
        rng.poisson(0.3, n),
        0,
    )
    labels = vocabulary().labels
    label = pd.Series(category).map(labels).to_numpy(dtype=object)
    description = (
        "[SYNTHETIC] "
        + label
        + " reported near "
        + names[hot]
        + " by "
        + actor
        + ". Monitors logged "
        + np.char.mod("%d", fatal).astype(object)
        + " casualties."
    )
    ids = np.char.mod(f"DEMO-{end_day:%Y%m%d}-{seed}-%06d", np.arange(n)).astype(object)
    frame = pd.DataFrame(
        {
            "source": SOURCE,
            "source_event_id": ids,
            "occurred_at": occurred,
            "occurred_from": occurred,
            "occurred_to": occurred,
            "date_precision": "exact",
            "lon": lon,
            "lat": lat,
            "location_precision": precision,
            "location_uncertainty_m": uncertainty,
            "location_name": names[hot],
            "category": category,
            "sub_category": "",
            "weapon_class": weapon,
            "actor": actor,
            "target": "",
            "party": party,
            "party_basis": np.where(party != "", "source", ""),
            "fatalities": fatal,
            "description": description,
            "verification": verification,
            "source_reliability": "",
            "info_credibility": "",
        }
    )
    return frame.astype(INCIDENT_COLUMNS).sort_values("occurred_at", kind="stable").reset_index(drop=True)
