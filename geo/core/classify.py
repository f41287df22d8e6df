"""Spatial join of incidents to a scenario: zones, nearest line, side and verdict.

Everything runs on whole arrays: one projection of all points, one compiled nearest
segment query per line, one point-in-polygon test per drawn zone, and boolean masks
per rule. What a breach is: docs/architecture.md, "What a breach is".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.core._antimeridian import polygons_lonlat
from geo.core._metric import LocalProjection, geodesic_distance
from geo.core._nearest import SegmentIndex, build_index, foot_points, nearest
from geo.core.categories import vocabulary
from geo.core.dates import WIDE_PRECISIONS, window
from geo.core.model import ATTRIBUTIONS, CLASSIFICATION_COLUMNS, LOCATION_PRECISIONS, VERDICTS, Scenario, Zone
from geo.core.zones import metric_line, metric_zone, scenario_projection, validity_ns, zone_line

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]

REFINE_FRACTION = 0.25
"""Refine on the ellipsoid where the projection error could exceed this share of the tolerance."""

REASONS = (
    "",
    "coarse location ({precision} precision)",
    "location uncertainty reaches outside zone '{zone}'",
    "party inferred from the side of the line, and rule '{rule}' binds only some parties",
    "party unknown, and rule '{rule}' binds only some parties",
    "date window straddles the start or end of rule '{rule}'",
    "date known only to the {date_precision}: its window straddles the deadline of rule '{rule}' "
    "({deadline})",
)
_COARSE, _UNCERTAIN, _INFERRED, _UNKNOWN_PARTY, _TIME, _DEADLINE = range(1, 7)
_DATE_WORDS = {"exact": "minute", "range": "date range"}
"""How a date precision reads in a reason: "date known only to the week"."""


@dataclass(frozen=True)
class _Line:
    id: str
    index: SegmentIndex
    valid: tuple[int, int]
    left: str
    right: str


@dataclass(frozen=True)
class _Zone:
    zone: Zone
    valid: tuple[int, int]
    prepared: shapely.Geometry | None  # lon/lat polygon, prepared (drawn zones)
    boundary: SegmentIndex | None  # metric boundary (drawn zones)
    bounds: tuple[float, float, float, float]
    line: int  # index into lines (derived zones), else -1


@dataclass(frozen=True)
class PreparedScenario:
    """A scenario with its projection and indexes built, ready to classify many times."""

    scenario: Scenario
    projection: LocalProjection
    lines: tuple[_Line, ...]
    zones: tuple[_Zone, ...]


_cache_lock = threading.Lock()
_cache: dict[int, PreparedScenario] = {}


def prepare(scenario: Scenario) -> PreparedScenario:
    """
    Build the metric indexes of a scenario (cached per scenario object).

    Parameters
    ----------
    scenario
        A loaded scenario.

    Returns
    -------
    PreparedScenario
    """
    with _cache_lock:
        hit = _cache.get(id(scenario))
        if hit is not None and hit.scenario is scenario:
            return hit
    drawn = [z.geometry for z in scenario.zones if not z.derived]
    projection = scenario_projection([ln.geometry for ln in scenario.lines], drawn)
    lines = tuple(
        _Line(
            ln.id,
            build_index(metric_line(ln.geometry, projection, where=f"{scenario.name}: line[{ln.id}]")),
            validity_ns(ln.valid_from, ln.valid_to),
            ln.left_party or "",
            ln.right_party or "",
        )
        for ln in scenario.lines
    )
    line_pos = {ln.id: i for i, ln in enumerate(lines)}
    zones = []
    for z in scenario.zones:
        prepared = boundary = None
        valid = validity_ns(z.valid_from, z.valid_to)
        pos = -1
        if z.derived:
            # In force only while its line is, whatever dates it carries.
            pos = line_pos[zone_line(scenario, z).id]
            valid = (max(valid[0], lines[pos].valid[0]), min(valid[1], lines[pos].valid[1]))
        else:
            prepared = shapely.from_wkb(shapely.to_wkb(polygons_lonlat(z.geometry)))
            shapely.prepare(prepared)
            boundary = build_index(metric_zone(z.geometry, projection))
        zones.append(
            _Zone(
                z,
                valid,
                prepared,
                boundary,
                tuple(shapely.bounds(prepared)) if prepared is not None else tuple(z.geometry.bounds),
                pos,
            )
        )
    result = PreparedScenario(scenario, projection, lines, tuple(zones))
    with _cache_lock:
        if len(_cache) > 8:
            _cache.clear()
        _cache[id(scenario)] = result
    return result


def _times(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    def ns(col: str) -> np.ndarray:
        values = pd.to_datetime(frame[col], utc=True)
        return np.asarray(values.to_numpy(dtype="datetime64[ns]").view(np.int64))

    if "occurred_at" not in frame:
        msg = "incidents: occurred_at: column missing"
        raise ValueError(msg)
    at = ns("occurred_at")
    lo = ns("occurred_from") if "occurred_from" in frame else at
    hi = ns("occurred_to") if "occurred_to" in frame else at
    nat = np.iinfo(np.int64).min
    lo = np.where(lo == nat, at, lo)
    hi = np.where(hi == nat, at, hi)
    if "date_precision" in frame:
        # A date known only to the week, month or year spans at least its precision's window,
        # whatever window the frame carries (one built by hand may carry none).
        precision = frame["date_precision"].astype(object).to_numpy()
        wide = np.isin(precision, WIDE_PRECISIONS) & (at != nat)
        if wide.any():
            w_lo, w_hi = window(at[wide].view("datetime64[ns]"), precision[wide])
            lo[wide] = np.minimum(lo[wide], w_lo.view(np.int64))
            hi[wide] = np.maximum(hi[wide], w_hi.view(np.int64))
    return at, np.minimum(lo, at), np.maximum(hi, at)


def _codes(frame: pd.DataFrame, col: str, default: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the unique values of a text column (missing becomes ``default``)."""
    if col not in frame:
        return np.zeros(len(frame), dtype=np.int64), np.array([default], dtype=object)
    series = frame[col]
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy(dtype=np.int64)
        uniques = np.asarray(series.cat.categories.astype(object), dtype=object)
    else:
        raw_codes, raw_uniques = pd.factorize(series)
        codes, uniques = raw_codes.astype(np.int64), np.asarray(raw_uniques, dtype=object)
    uniques = np.append(uniques, default)
    codes = np.where(codes < 0, len(uniques) - 1, codes)
    missing = pd.isna(uniques) | (uniques == "")
    return codes, np.where(missing, default, uniques).astype(object)


def _lut(uniques: np.ndarray, accept: set[str]) -> np.ndarray:
    return np.fromiter((u in accept for u in uniques), dtype=bool, count=len(uniques))


def _line_distances(
    prep: PreparedScenario, lon: FloatArray, lat: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """Signed distance in meters from every point to every line: shape (n_lines, n)."""
    out = np.empty((len(prep.lines), len(x)), dtype=np.float64)
    bound = prep.projection.distortion_bound(x, y)
    for i, line in enumerate(prep.lines):
        d, seg, t = nearest(line.index, x, y)
        ad = np.abs(d)
        refine = np.flatnonzero(bound * 1.5 * ad > REFINE_FRACTION * np.maximum(1.0, 1e-3 * ad))
        if refine.size:
            fx, fy = foot_points(line.index, seg[refine], t[refine])
            flon, flat = prep.projection.inverse(fx, fy)
            exact = geodesic_distance(lon[refine], lat[refine], flon, flat)
            d[refine] = np.copysign(exact, d[refine])
        out[i] = d
    return out


def _zone_margin(
    z: _Zone,
    lon: FloatArray,
    lat: FloatArray,
    x: FloatArray,
    y: FloatArray,
    line_d: FloatArray,
    radius: FloatArray,
) -> tuple[BoolArray, FloatArray]:
    """Whether each point is inside the zone, and its signed distance to the edge (+ inside).

    Margins are computed only where an uncertainty radius makes them matter; elsewhere
    they are +inf inside and -inf outside.
    """
    if z.prepared is None:
        w = float(z.zone.width_m or 0.0)
        d = line_d[z.line]
        if z.zone.side == "left":
            margin = np.minimum(d, w - d)
        elif z.zone.side == "right":
            margin = np.minimum(-d, w + d)
        else:
            margin = w - np.abs(d)
        return margin >= 0.0, margin
    xmin, ymin, xmax, ymax = z.bounds
    inside = np.zeros(len(lon), dtype=bool)
    near_box = (lon >= xmin) & (lon <= xmax) & (lat >= ymin) & (lat <= ymax)
    idx = np.flatnonzero(near_box)
    inside[idx] = shapely.intersects_xy(z.prepared, lon[idx], lat[idx])
    margin = np.where(inside, np.inf, -np.inf)
    # Points with an uncertainty radius need their distance to the edge: take those
    # whose radius reaches the bounding box (1 degree of latitude is at most 111.7 km).
    pad = radius / 111_000.0 / np.maximum(np.cos(np.radians(np.minimum(np.abs(lat), 89.0))), 1e-6)
    need = np.flatnonzero(
        (radius > 0)
        & (lon + pad >= xmin)
        & (lon - pad <= xmax)
        & (lat + radius / 110_000.0 >= ymin)
        & (lat - radius / 110_000.0 <= ymax)
    )
    if need.size and z.boundary is not None:
        d, _, _ = nearest(z.boundary, x[need], y[need])
        margin[need] = np.where(inside[need], np.abs(d), -np.abs(d))
    return inside, margin


def _factorize_rows(flags: BoolArray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct rows of a boolean matrix, and one example row index per code."""
    n, k = flags.shape
    codes = np.zeros(n, dtype=np.int64)
    for start in range(0, k, 62):
        word = flags[:, start : start + 62].astype(np.int64) @ (
            1 << np.arange(min(62, k - start), dtype=np.int64)
        )
        width = int(word.max(initial=0)) + 1
        codes, _ = pd.factorize(codes * width + word)
    codes = codes.astype(np.int64)
    first = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    return codes, first


def _join_flags(flags: BoolArray, names: list[str]) -> pd.Categorical:
    """Join the names whose flag is set, ``;``-separated, as a categorical column."""
    if flags.shape[1] == 0 or flags.shape[0] == 0:
        return pd.Categorical.from_codes(np.zeros(flags.shape[0], dtype=np.int64), categories=[""])
    codes, first = _factorize_rows(flags)
    labels = [";".join(nm for nm, b in zip(names, flags[row], strict=True) if b) for row in first]
    return _categorical(codes, labels)


def _categorical(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    """A categorical from codes into ``labels``, which may repeat."""
    uniq, remap = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)
    return pd.Categorical.from_codes(remap[codes], categories=list(uniq))


@dataclass(frozen=True)
class _Inputs:
    """The incident columns classification reads, as arrays and codes."""

    n: int
    lon: FloatArray
    lat: FloatArray
    x: FloatArray
    y: FloatArray
    at: np.ndarray
    t_lo: np.ndarray
    t_hi: np.ndarray
    radius: FloatArray
    coarse: BoolArray
    precision: tuple[np.ndarray, np.ndarray]
    date_precision: tuple[np.ndarray, np.ndarray]
    category: tuple[np.ndarray, np.ndarray]
    weapon: tuple[np.ndarray, np.ndarray]
    party: tuple[np.ndarray, np.ndarray]


def _inputs(incidents: pd.DataFrame, prep: PreparedScenario) -> _Inputs:
    vocab = vocabulary()
    n = len(incidents)
    lon = incidents["lon"].to_numpy(dtype=np.float64)
    lat = incidents["lat"].to_numpy(dtype=np.float64)
    at, t_lo, t_hi = _times(incidents)
    x, y = prep.projection.forward(lon, lat) if n else (lon, lat)
    prec_codes, prec_uniques = _codes(incidents, "location_precision", "exact")
    coarse = np.fromiter(
        (u not in LOCATION_PRECISIONS or u in vocab.coarse for u in prec_uniques),
        dtype=bool,
        count=len(prec_uniques),
    )[prec_codes]
    default_r = np.array([vocab.uncertainty_m.get(u, vocab.uncertainty_m["region"]) for u in prec_uniques])
    radius = default_r[prec_codes] if n else np.zeros(0)
    if "location_uncertainty_m" in incidents:
        given = incidents["location_uncertainty_m"].to_numpy(dtype=np.float64, na_value=np.nan)
        radius = np.where(np.isfinite(given) & (given >= 0), given, radius)
    return _Inputs(
        n,
        lon,
        lat,
        x,
        y,
        at,
        t_lo,
        t_hi,
        radius,
        coarse,
        (prec_codes, prec_uniques),
        _codes(incidents, "date_precision", "day"),
        _codes(incidents, "category", "other"),
        _codes(incidents, "weapon_class", ""),
        _codes(incidents, "party", ""),
    )


@dataclass(frozen=True)
class _Lines:
    """Signed distance to every line, and the nearest line in force."""

    distances: FloatArray  # (n_lines, n)
    has_line: BoolArray
    best: np.ndarray
    dist: FloatArray
    side_code: np.ndarray  # 0 none, 1 left, 2 right, 3 on the line


def _lines(prep: PreparedScenario, inp: _Inputs) -> _Lines:
    n = inp.n
    if not prep.lines:
        empty = np.zeros(n, dtype=np.int64)
        return _Lines(np.empty((0, n)), np.zeros(n, dtype=bool), empty, np.full(n, np.nan), empty)
    distances = _line_distances(prep, inp.lon, inp.lat, inp.x, inp.y)
    masked = np.abs(distances)
    for i, line in enumerate(prep.lines):
        masked[i, (inp.at < line.valid[0]) | (inp.at >= line.valid[1])] = np.inf
    has_line = np.asarray(np.isfinite(masked).any(axis=0))
    best = np.argmin(masked, axis=0)
    dist = np.where(has_line, distances[best, np.arange(n)], np.nan)
    side_code = np.select([~has_line, dist > 0, dist < 0], [0, 1, 2], default=3)
    return _Lines(distances, has_line, best, dist, side_code)


@dataclass(frozen=True)
class _Attribution:
    """Party codes (0 = none, then the scenario's parties in order) and the basis."""

    names: list[str]
    codes: dict[str, int]
    side_party: np.ndarray
    attributed: np.ndarray
    basis: np.ndarray  # 0 reported, 1 inferred from side, 2 unattributed


def _attribution(prep: PreparedScenario, inp: _Inputs, lines: _Lines) -> _Attribution:
    """The reported party wins; otherwise the party holding the side of the nearest line."""
    names = ["", *(p.id for p in prep.scenario.parties)]
    codes = {pid: i for i, pid in enumerate(names)}
    table = np.array(
        [[0, codes.get(ln.left, 0), codes.get(ln.right, 0), 0] for ln in prep.lines] or [[0, 0, 0, 0]],
        dtype=np.int64,
    )
    side_party = np.where(lines.has_line, table[lines.best, lines.side_code], 0)
    party_codes, party_uniques = inp.party
    reported = np.array([codes.get(u, 0) for u in party_uniques], dtype=np.int64)[party_codes]
    attributed = np.where(reported > 0, reported, side_party)
    basis = np.select([reported > 0, attributed > 0], [0, 1], default=2)
    return _Attribution(names, codes, side_party, attributed, basis)


@dataclass(frozen=True)
class _Membership:
    """Per incident and zone: inside, definitely inside, possibly inside, and in force."""

    inside: BoolArray
    definite: BoolArray
    possible: BoolArray
    time_def: BoolArray
    time_pos: BoolArray


def _membership(prep: PreparedScenario, inp: _Inputs, lines: _Lines) -> _Membership:
    shape = (inp.n, len(prep.zones))
    inside, definite, possible = np.zeros(shape, bool), np.zeros(shape, bool), np.zeros(shape, bool)
    time_def, time_pos = np.zeros(shape, bool), np.zeros(shape, bool)
    for k, z in enumerate(prep.zones):
        ins, margin = _zone_margin(z, inp.lon, inp.lat, inp.x, inp.y, lines.distances, inp.radius)
        inside[:, k] = ins
        definite[:, k] = ins & (margin >= inp.radius)
        possible[:, k] = margin >= -inp.radius
        time_def[:, k] = (inp.t_lo >= z.valid[0]) & (inp.t_hi < z.valid[1])
        time_pos[:, k] = (inp.t_hi >= z.valid[0]) & (inp.t_lo < z.valid[1])
    return _Membership(inside, definite, possible, time_def, time_pos)


def _fire(
    prep: PreparedScenario, inp: _Inputs, mem: _Membership, att: _Attribution
) -> tuple[BoolArray, BoolArray, np.ndarray]:
    """For each incident and rule: fires definitely, fires possibly, and why not definitely."""
    rules = prep.scenario.rules
    zone_pos = {z.zone.id: k for k, z in enumerate(prep.zones)}
    shape = (inp.n, len(rules))
    fire_def, fire_pos = np.zeros(shape, bool), np.zeros(shape, bool)
    reason = np.zeros(shape, dtype=np.int64)
    cat_codes, cat_uniques = inp.category
    weapon_codes, weapon_uniques = inp.weapon
    for j, rule in enumerate(rules):
        k = zone_pos[rule.zone]
        applies = _lut(cat_uniques, set(rule.prohibits))[cat_codes]
        if rule.weapon_classes:
            applies &= _lut(weapon_uniques, set(rule.weapon_classes))[weapon_codes]
        r_lo, r_hi = validity_ns(rule.valid_from, rule.valid_to)
        time_def = mem.time_def[:, k] & (inp.t_lo >= r_lo) & (inp.t_hi < r_hi)
        time_pos = mem.time_pos[:, k] & (inp.t_hi >= r_lo) & (inp.t_lo < r_hi)
        if rule.binds_all:
            party_def = party_pos = np.ones(inp.n, dtype=bool)
        else:
            bound = np.isin(att.attributed, [att.codes[p] for p in rule.parties])
            party_def = bound & (att.basis == 0)
            party_pos = bound | (att.basis == 2)
        fire_def[:, j] = applies & mem.definite[:, k] & ~inp.coarse & party_def & time_def
        fire_pos[:, j] = applies & mem.possible[:, k] & party_pos & time_pos
        # A window that straddles the day a deadline runs out: the date cannot carry a breach.
        at_deadline = (
            (inp.t_lo < r_lo) & (inp.t_hi >= r_lo) if rule.deadline is not None else np.zeros(inp.n, bool)
        )
        inferred = ~party_def & (att.basis == 1)
        reason[:, j] = np.select(
            [inp.coarse, ~mem.definite[:, k], inferred, ~party_def, at_deadline, ~time_def],
            [_COARSE, _UNCERTAIN, _INFERRED, _UNKNOWN_PARTY, _DEADLINE, _TIME],
            default=0,
        )
    return fire_def, fire_pos, reason


def _reasons(
    prep: PreparedScenario, inp: _Inputs, fire_pos: BoolArray, is_possible: BoolArray, reason: np.ndarray
) -> pd.Categorical:
    """One reason per possible breach: that of the first rule that possibly fired."""
    rules = prep.scenario.rules
    labels = [""]
    codes = np.zeros(inp.n, dtype=np.int64)
    if not rules:
        return _categorical(codes, labels)
    first = np.argmax(fire_pos, axis=1)
    code = np.where(is_possible, reason[np.arange(inp.n), first], 0)
    rows = np.flatnonzero(code)
    prec_codes, prec_uniques = inp.precision
    # The location precision names the coarse reason; the date precision the deadline one.
    dprec_codes, dprec_uniques = inp.date_precision
    which = np.where(code == _DEADLINE, dprec_codes + len(prec_uniques), prec_codes)
    names = [*prec_uniques, *(_DATE_WORDS.get(str(u), str(u)) for u in dprec_uniques)]
    if rows.size:
        width_p, width_r = len(names) + 1, len(rules) + 1
        combo = (code[rows] * width_r + first[rows]) * width_p + which[rows]
        inverse, uniques = pd.factorize(combo)
        for key in uniques:
            rest, p = divmod(int(key), width_p)
            c, j = divmod(rest, width_r)
            zone = prep.scenario.zone(rules[j].zone).name
            labels.append(
                REASONS[c].format(
                    precision=names[p],
                    date_precision=names[p],
                    rule=rules[j].id,
                    zone=zone,
                    deadline=rules[j].deadline,
                )
            )
        codes[rows] = inverse + 1
    return _categorical(codes, labels)


def classify(incidents: pd.DataFrame, scenario: Scenario | PreparedScenario) -> pd.DataFrame:
    """
    Classify incidents against a scenario.

    Parameters
    ----------
    incidents
        At least ``lon``, ``lat`` (WGS84 degrees) and ``occurred_at``. Used when
        present: ``occurred_from``/``occurred_to`` (the window the incident happened
        in), ``location_precision``, ``location_uncertainty_m``, ``category``,
        ``weapon_class`` and ``party`` (a party id, as reported).
    scenario
        The scenario, or one prepared with :func:`prepare`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``incidents``, with the columns of
        :data:`geo.core.model.CLASSIFICATION_COLUMNS`. ``distance_m`` is signed: positive on
        the left of the nearest line's direction, negative on its right.
    """
    prep = scenario if isinstance(scenario, PreparedScenario) else prepare(scenario)
    inp = _inputs(incidents, prep)
    lines = _lines(prep, inp)
    att = _attribution(prep, inp, lines)
    mem = _membership(prep, inp, lines)
    fire_def, fire_pos, reason = _fire(prep, inp, mem, att)

    is_breach = np.asarray(fire_def.any(axis=1))
    is_possible = ~is_breach & fire_pos.any(axis=1)
    monitored = (mem.possible & mem.time_pos).any(axis=1)
    verdict = np.select([is_breach, is_possible, monitored], [0, 1, 2], default=3)
    fired = np.where(is_breach[:, None], fire_def, fire_pos & is_possible[:, None])

    line_names = [ln.id for ln in prep.lines]
    return pd.DataFrame(
        {
            "zones": _join_flags(mem.inside & mem.time_pos, [z.zone.id for z in prep.zones]),
            "nearest_line": _categorical(
                np.where(lines.has_line, lines.best, len(line_names)), [*line_names, ""]
            ),
            "distance_m": lines.dist,
            "side": _categorical(lines.side_code, ["", "left", "right", "on_line"]),
            "side_party": _categorical(att.side_party, att.names),
            "attributed_party": _categorical(att.attributed, att.names),
            "attribution": _categorical(att.basis, list(ATTRIBUTIONS)),
            "verdict": _categorical(verdict, list(VERDICTS)),
            "rules": _join_flags(fired, [r.id for r in prep.scenario.rules]),
            "verdict_reason": _reasons(prep, inp, fire_pos, is_possible, reason),
        },
        index=incidents.index,
        columns=list(CLASSIFICATION_COLUMNS),
    )
