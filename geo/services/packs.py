"""Scenario packs: the shipped ceasefires under ``data/scenarios/ID/``, and their synthetic generators.

A pack is a folder holding ``pack.toml`` (what to load), a scenario manifest, its geometry
files, ``PROVENANCE.md``, and optionally incident files (real data, with their licence) and
a synthetic generator configuration. See docs/scenario-packs.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo import clock
from geo._errors import ManifestError
from geo._paths import DATA
from geo.core.categories import vocabulary
from geo.core.dates import window
from geo.core.manifest import load_scenario
from geo.core.model import DATA_KINDS, DATE_PRECISIONS, INCIDENT_COLUMNS, LOCATION_PRECISIONS, Scenario

if TYPE_CHECKING:
    from geo.core.auth import Principal
    from geo.services.ingest import Progress
    from geo.store import Store

PACKS_DIR = DATA / "scenarios"
"""Where the shipped packs live, one folder each."""
BUILTIN_KOREA = "builtin:korea"
"""The Korean demo's generator (:func:`geo.services.demo.generate_incidents`)."""

_PACK_KEYS = {"manifest", "synthetic", "incidents"}
_FILE_KEYS = {"file", "format", "data", "licence", "title"}
_SYNTHETIC_KEYS = {
    "source",
    "id_prefix",
    "n",
    "start",
    "end",
    "date_precision",
    "location_precision",
    "verification",
    "place",
    "actor",
}


@dataclass(frozen=True)
class IncidentFile:
    """An incident file shipped with a pack."""

    path: Path
    format: str
    data: str
    """``real`` or ``synthetic``."""
    licence: str
    title: str


@dataclass(frozen=True)
class Place:
    """A place synthetic incidents cluster round."""

    name: str
    lon: float
    lat: float
    spread_m: float
    weight: float


@dataclass(frozen=True)
class Actor:
    """A synthetic actor (named as sources name it), its weight and its categories' weights."""

    name: str
    weight: float
    categories: dict[str, float]


@dataclass(frozen=True)
class SyntheticConfig:
    """A pack's synthetic generator: where, when, who and how precisely."""

    source: str
    id_prefix: str
    n: int
    start: date
    end: date
    places: tuple[Place, ...]
    actors: tuple[Actor, ...]
    date_precision: dict[str, float] = field(default_factory=lambda: {"day": 1.0})
    location_precision: dict[str, float] = field(default_factory=lambda: {"exact": 1.0})
    verification: dict[str, float] = field(default_factory=lambda: {"reported": 1.0})


@dataclass(frozen=True)
class Pack:
    """A scenario pack as its ``pack.toml`` describes it."""

    id: str
    folder: Path
    manifest: Path
    incidents: tuple[IncidentFile, ...] = ()
    synthetic: SyntheticConfig | str | None = None
    """The generator: its configuration, :data:`BUILTIN_KOREA`, or none."""

    @property
    def provenance(self) -> Path:
        """The pack's ``PROVENANCE.md``."""
        return self.folder / "PROVENANCE.md"


def pack_ids(root: Path | None = None) -> list[str]:
    """The ids of the packs under ``root`` (default :data:`PACKS_DIR`), sorted."""
    base = root or PACKS_DIR
    return sorted(p.parent.name for p in base.glob("*/pack.toml"))


def _weights(
    value: Any, key: str, allowed: tuple[str, ...] | frozenset[str], problems: list[str]
) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        problems.append(f"{key}: must be a table of weights")
        return {}
    out = {}
    for name, weight in value.items():
        if name not in allowed:
            problems.append(f"{key}.{name}: unknown (expected one of {', '.join(sorted(allowed))})")
        elif not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            problems.append(f"{key}.{name}: weight must be a number >= 0")
        else:
            out[str(name)] = float(weight)
    if out and sum(out.values()) <= 0:
        problems.append(f"{key}: weights add up to 0")
    return out


def _day(value: Any, key: str, problems: list[str]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    problems.append(f"{key}: must be a date (YYYY-MM-DD)")
    return date(1970, 1, 1)


def _number(entry: dict[str, Any], name: str, key: str, problems: list[str]) -> float:
    value = entry.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        problems.append(f"{key}.{name}: must be a number")
        return 0.0
    return float(value)


def read_synthetic(path: Path) -> SyntheticConfig:
    """
    Read a synthetic generator configuration (``synthetic.toml``).

    Raises
    ------
    ManifestError
        One line per problem, in the form ``file: key: problem``.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("synthetic", {})
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ManifestError(f"{path}: synthetic: cannot read: {err}") from err
    problems: list[str] = []
    problems += [f"synthetic.{k}: unknown key" for k in sorted(set(raw) - _SYNTHETIC_KEYS)]
    vocab = vocabulary()
    places = []
    for i, p in enumerate(raw.get("place", [])):
        key = f"synthetic.place[{i}]"
        lon, lat = _number(p, "lon", key, problems), _number(p, "lat", key, problems)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(f"{key}: lon/lat out of range")
        places.append(
            Place(
                str(p.get("name", "")),
                lon,
                lat,
                _number(p, "spread_m", key, problems),
                _number(p, "weight", key, problems),
            )
        )
    actors = [
        Actor(
            str(a.get("name", "")),
            _number(a, "weight", f"synthetic.actor[{i}]", problems),
            _weights(a.get("categories"), f"synthetic.actor[{i}].categories", vocab.ids, problems),
        )
        for i, a in enumerate(raw.get("actor", []))
    ]
    if not places:
        problems.append("synthetic.place: give at least one place")
    if not actors:
        problems.append("synthetic.actor: give at least one actor")
    n = raw.get("n", 1000)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        problems.append("synthetic.n: must be a whole number >= 0")
        n = 0
    start = _day(raw.get("start"), "synthetic.start", problems)
    end = _day(raw.get("end"), "synthetic.end", problems)
    if end < start:
        problems.append(f"synthetic.end: {end} is before start ({start})")
    source = str(raw.get("source", ""))
    if not source.startswith("synthetic"):
        problems.append(f"synthetic.source: must start with 'synthetic' (got {source!r}), so exports mark it")
    config = SyntheticConfig(
        source=source,
        id_prefix=str(raw.get("id_prefix", "SYN")),
        n=n,
        start=start,
        end=end,
        places=tuple(places),
        actors=tuple(actors),
        date_precision=_weights(
            raw.get("date_precision", {"day": 1}),
            "synthetic.date_precision",
            tuple(p for p in DATE_PRECISIONS if p != "range"),
            problems,
        ),
        location_precision=_weights(
            raw.get("location_precision", {"exact": 1}),
            "synthetic.location_precision",
            LOCATION_PRECISIONS,
            problems,
        ),
        verification=_weights(
            raw.get("verification", {"reported": 1}),
            "synthetic.verification",
            ("reported", "verified", "disputed", "rejected"),
            problems,
        ),
    )
    if problems:
        raise ManifestError([f"{path}: {line}" for line in problems])
    return config


def read_pack(pack: str | Path) -> Pack:
    """
    Read a pack's ``pack.toml``.

    Parameters
    ----------
    pack
        A pack id (a folder of :data:`PACKS_DIR`) or the path of a pack folder.

    Raises
    ------
    ManifestError
        When the pack is unknown or its ``pack.toml`` has problems (one line each).
    """
    folder = Path(pack) if isinstance(pack, Path) or "/" in str(pack) else PACKS_DIR / str(pack)
    spec = folder / "pack.toml"
    if not spec.is_file():
        known = ", ".join(pack_ids()) or "none"
        msg = f"{spec}: pack: not found (shipped packs: {known})"
        raise ManifestError(msg)
    try:
        raw = tomllib.loads(spec.read_text(encoding="utf-8")).get("pack", {})
    except tomllib.TOMLDecodeError as err:
        raise ManifestError(f"{spec}: pack: cannot parse TOML: {err}") from err
    problems = [f"{spec}: pack.{k}: unknown key" for k in sorted(set(raw) - _PACK_KEYS)]
    manifest = folder / str(raw.get("manifest", f"{folder.name}.toml"))
    if not manifest.is_file():
        problems.append(f"{spec}: pack.manifest: {manifest.name}: file not found")
    files = []
    for i, f in enumerate(raw.get("incidents", [])):
        key = f"{spec}: pack.incidents[{i}]"
        problems += [f"{key}.{k}: unknown key" for k in sorted(set(f) - _FILE_KEYS)]
        path = folder / str(f.get("file", ""))
        if not f.get("file") or not path.is_file():
            problems.append(f"{key}.file: {f.get('file')!r}: file not found")
        if f.get("data", "real") not in ("real", "synthetic"):
            problems.append(f"{key}.data: must be real or synthetic")
        if not f.get("licence"):
            problems.append(f"{key}.licence: missing (say under which licence the records are shipped)")
        files.append(
            IncidentFile(
                path,
                str(f.get("format", "auto")),
                str(f.get("data", "real")),
                str(f.get("licence", "")),
                str(f.get("title", path.name)),
            )
        )
    synthetic: SyntheticConfig | str | None = None
    gen = raw.get("synthetic")
    if gen == BUILTIN_KOREA:
        synthetic = BUILTIN_KOREA
    elif gen:
        try:
            synthetic = read_synthetic(folder / str(gen))
        except ManifestError as err:
            problems += err.problems
    if problems:
        raise ManifestError(problems)
    return Pack(folder.name, folder, manifest, tuple(files), synthetic)


def validate_pack(pack: str | Path) -> list[str]:
    """
    Every problem of a pack, one line each; empty when it is sound.

    Checks ``pack.toml``, the manifest (:func:`geo.core.manifest.validate_manifest`), that
    ``PROVENANCE.md`` is there and names each incident file's licence, that each incident
    file reads without a rejected row, and that the manifest's ``data`` agrees with what the
    pack ships.
    """
    try:
        found = read_pack(pack)
    except ManifestError as err:
        return err.problems
    try:
        scenario = load_scenario(found.manifest)
    except ManifestError as err:
        return err.problems
    problems = []
    if not found.provenance.is_file():
        problems.append(f"{found.provenance}: provenance: file not found")
    notes = found.provenance.read_text(encoding="utf-8") if found.provenance.is_file() else ""
    for f in found.incidents:
        if f.licence not in notes:
            problems.append(f"{found.provenance}: {f.path.name}: licence {f.licence!r} not stated")
        problems += _file_problems(f, scenario)
    kinds = {f.data for f in found.incidents} | ({"synthetic"} if found.synthetic else set())
    expected = "mixed" if kinds == {"real", "synthetic"} else next(iter(kinds), "real")
    if scenario.data_kind != expected:
        problems.append(
            f"{found.manifest}: scenario.data: says {scenario.data_kind!r} but the pack ships {expected} data"
        )
    return problems


def _file_problems(f: IncidentFile, scenario: Scenario) -> list[str]:
    from geo.io.readers import read_incidents

    out = []
    for chunk in read_incidents(
        f.path,
        format=f.format,
        party_mapping=scenario.party_mapping,
        parties={p.id for p in scenario.parties},
    ):
        out += [f"{f.path}: line {r.line_no}: {r.reason}" for r in chunk.rejected.itertuples()]
    return out


def generate_pack_incidents(
    scenario: Scenario, config: SyntheticConfig, *, seed: int = 0, n: int | None = None
) -> pd.DataFrame:
    """
    Seeded synthetic incidents of a pack, marked synthetic in their source and description.

    Parameters
    ----------
    scenario
        The pack's scenario (for the party mapping of the actors).
    config
        The generator configuration.
    seed
        Same seed, same incidents (and same ids, so reloading adds none).
    n
        How many (default: the configuration's ``n``).

    Returns
    -------
    pandas.DataFrame
        Incidents in the schema of :data:`geo.core.model.INCIDENT_COLUMNS`, never in the future.
    """
    rng = np.random.default_rng(seed)
    count = config.n if n is None else n

    def pick(weights: dict[str, float]) -> np.ndarray:
        names = np.array(list(weights), dtype=object)
        w = np.array(list(weights.values()))
        return rng.choice(names, count, p=w / w.sum())

    pw = np.array([p.weight for p in config.places])
    where = rng.choice(len(config.places), count, p=pw / pw.sum())
    lon0 = np.array([p.lon for p in config.places])[where]
    lat0 = np.array([p.lat for p in config.places])[where]
    spread = np.array([p.spread_m for p in config.places])[where]
    lat = lat0 + rng.normal(0.0, 1.0, count) * spread / 111_320.0
    lon = lon0 + rng.normal(0.0, 1.0, count) * spread / (111_320.0 * np.cos(np.radians(lat0)))
    aw = np.array([a.weight for a in config.actors])
    who = rng.choice(len(config.actors), count, p=aw / aw.sum())
    category = np.empty(count, dtype=object)
    for i, actor in enumerate(config.actors):
        rows = np.flatnonzero(who == i)
        cats = np.array(list(actor.categories), dtype=object)
        cw = np.array(list(actor.categories.values()))
        category[rows] = rng.choice(cats, rows.size, p=cw / cw.sum())
    days = (config.end - config.start).days + 1
    start = pd.Timestamp(config.start, tz="UTC")
    seconds = rng.integers(0, days * 86400, count)
    occurred = start + pd.to_timedelta(seconds, unit="s")
    now = pd.Timestamp(clock.now())
    earlier = now - pd.to_timedelta(rng.integers(60, 86400, count), unit="s")
    occurred = occurred.where(occurred <= now, earlier)
    date_precision = pick(config.date_precision)
    at = occurred.to_numpy(dtype="datetime64[ns]")
    lo, hi = window(at, date_precision)
    location_precision = pick(config.location_precision)
    actor_names = np.array([a.name for a in config.actors], dtype=object)[who]
    place_names = np.array([p.name for p in config.places], dtype=object)[where]
    labels = pd.Series(category).map(vocabulary().labels).to_numpy(dtype=object)
    from geo.io.readers import map_party

    party = np.asarray(map_party(pd.Series(actor_names), scenario.party_mapping), dtype=object)
    frame = pd.DataFrame(
        {
            "source": config.source,
            "source_event_id": np.char.mod(f"{config.id_prefix}-{seed}-%06d", np.arange(count)).astype(
                object
            ),
            "occurred_at": occurred,
            "occurred_from": pd.to_datetime(lo, utc=True),
            "occurred_to": pd.to_datetime(hi, utc=True),
            "date_precision": date_precision,
            "lon": lon,
            "lat": lat,
            "location_precision": location_precision,
            "location_uncertainty_m": np.nan,
            "location_name": place_names,
            "category": category,
            "sub_category": "",
            "weapon_class": "",
            "actor": actor_names,
            "target": "",
            "party": party,
            "party_basis": np.where(party != "", "actor_mapping", ""),
            "fatalities": 0,
            "description": "[SYNTHETIC] " + labels + " near " + place_names + " by " + actor_names + ".",
            "verification": pick(config.verification),
            "source_reliability": "",  # generated reports are not graded
            "info_credibility": "",
        }
    )
    return frame.astype(INCIDENT_COLUMNS).sort_values("occurred_at", kind="stable").reset_index(drop=True)


@dataclass
class PackLoad:
    """What loading a pack into a store did."""

    pack: Pack
    scenario: Scenario
    scenario_loaded: bool
    """Whether the scenario was (re)loaded: it was missing or had changed."""
    uploads: list[tuple[str, Any]] = field(default_factory=list)
    """Each upload, as (what it was, its :class:`~geo.services.ingest.UploadSummary`)."""

    def lines(self) -> list[str]:
        """One line per upload, for a person."""
        return [
            f"{label}: {s.accepted} added ({s.duplicate} already there, {s.rejected} rejected)"
            for label, s in self.uploads
        ]


def load_pack(
    store: Store,
    pack: str | Path,
    *,
    actor: Principal | None = None,
    seed: int = 0,
    n: int | None = None,
    days: int = 200,
    end: date | None = None,
    progress: Progress | None = None,
) -> PackLoad:
    """
    Load a pack into its own scenario of ``store`` (the scenario id is the pack's id).

    The scenario is (re)loaded when missing or changed; then each incident file is uploaded
    as one batch, then the synthetic incidents as another. Uploading again adds nothing
    (same files, same seed, same ids).

    Parameters
    ----------
    store
        The store; other scenarios in it are left alone.
    pack
        A pack id or folder.
    actor
        Who loads it (default: the local operator).
    seed, n
        The synthetic generator's seed and count (default: the pack's count; korea 6000).
    days, end
        korea only: the days of history and the last day (default today).
    progress
        Called as uploads advance.
    """
    from geo.core.auth import OPERATOR
    from geo.services.demo import generate_incidents
    from geo.services.ingest import ingest_file, ingest_frame, load_scenario_into_store
    from geo.services.ingest._common import no_progress

    who = actor or OPERATOR
    step = progress or no_progress
    found = read_pack(pack)
    scen = load_scenario(found.manifest)
    scoped = store.using(found.id)
    stored = scoped.scenario()
    changed = stored is None or (stored.name, stored.zones, stored.rules, stored.lines, stored.caveats) != (
        scen.name,
        scen.zones,
        scen.rules,
        scen.lines,
        scen.caveats,
    )
    if changed:
        load_scenario_into_store(scoped, scen, manifest=str(found.manifest), actor=who)
    result = PackLoad(found, scen, changed)
    for f in found.incidents:
        summary = ingest_file(scoped, f.path, format=f.format, actor=who, progress=step)
        result.uploads.append((f"{f.path.name} ({f.data} data, {f.licence})", summary))
    frame: pd.DataFrame | None = None
    if found.synthetic == BUILTIN_KOREA:
        last = end or clock.now().date()
        frame = generate_incidents(scen, n=6000 if n is None else n, days=days, end=last, seed=seed)
        name = f"synthetic demo {last} seed {seed}"
    elif isinstance(found.synthetic, SyntheticConfig):
        frame = generate_pack_incidents(scen, found.synthetic, seed=seed, n=n)
        name = f"synthetic {found.id} seed {seed}"
    if frame is not None and len(frame):
        summary = ingest_frame(scoped, frame, name=name, actor=who, progress=step)
        result.uploads.append(("synthetic incidents (labelled [SYNTHETIC])", summary))
    return result


def live_incidents(pack: str | Path, scenario: Scenario, *, n: int, seed: int) -> pd.DataFrame:
    """A few synthetic incidents of a pack for today (the live feed of ``demo --live``)."""
    from geo.services.demo import generate_incidents

    found = read_pack(pack)
    if isinstance(found.synthetic, SyntheticConfig):
        today = clock.now().date()
        config = replace(found.synthetic, start=today, end=today)
        return generate_pack_incidents(scenario, config, seed=seed, n=n)
    return generate_incidents(scenario, n=n, days=1, seed=seed)


__all__ = [
    "BUILTIN_KOREA",
    "DATA_KINDS",
    "PACKS_DIR",
    "Actor",
    "IncidentFile",
    "Pack",
    "PackLoad",
    "Place",
    "SyntheticConfig",
    "generate_pack_incidents",
    "live_incidents",
    "load_pack",
    "pack_ids",
    "read_pack",
    "read_synthetic",
    "validate_pack",
]
