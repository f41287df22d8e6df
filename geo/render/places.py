"""Places and rivers of the shipped basemap layers, for the live map and the snapshots.

Each scenario pack may ship ``basemap/places.geojson`` (GeoNames populated places) and
``basemap/rivers.geojson`` (World Data Bank II rivers, OSM where WDB II is not good
enough), built by ``tools/build_basemap.py`` for the pack's region. The layers of every
pack are read together (a user's own scenario in a pack's region gets them too), a place
shipped by two packs is kept once (by GeoNames id), and callers take what falls in their
box. Nothing is fetched: the files are part of the repository.

Which places are labelled is decided by population: :func:`min_zoom` gives the Leaflet zoom
from which a place may be labelled (cities from afar, villages only close up); both the
live map and the image then drop labels that would overlap bigger places' labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import shapely

from geo._paths import DATA
from geo.i18n import _

PACKS_DIR = DATA / "scenarios"
ZOOM_STEPS: tuple[tuple[int, int], ...] = (
    (1_000_000, 5),
    (200_000, 7),
    (50_000, 8),
    (10_000, 9),
    (1_000, 10),
)
"""(population at least, Leaflet zoom from which the place may be labelled), biggest first."""
KEY_RANK = 50_000
VILLAGE_ZOOM = 11
"""Zoom from which places below the last step (or of unknown population) may be labelled."""


@dataclass(frozen=True)
class Place:
    """A populated place: GeoNames id, Latin and local-script names, population (0: unknown)."""

    id: int
    name: str
    local: str
    population: int
    lon: float
    lat: float
    country: str
    key: bool = False
    """Named by the pack's reports: ranked as a town of at least :data:`KEY_RANK` inhabitants."""

    @property
    def rank(self) -> int:
        """The population the place is ranked by (labels of higher ranks win)."""
        return max(self.population, KEY_RANK) if self.key else self.population

    @property
    def min_zoom(self) -> int:
        """The Leaflet zoom from which this place may be labelled."""
        return min_zoom(self.rank)


def min_zoom(population: int) -> int:
    """The Leaflet zoom from which a place of ``population`` inhabitants may be labelled."""
    for at_least, zoom in ZOOM_STEPS:
        if population >= at_least:
            return zoom
    return VILLAGE_ZOOM


@dataclass(frozen=True)
class Layers:
    """Every pack's places (biggest first, one per GeoNames id) and rivers."""

    places: tuple[Place, ...]
    rivers: tuple[shapely.Geometry, ...]
    osm_rivers: tuple[bool, ...]
    """Per river: whether it comes from OpenStreetMap (ODbL attribution)."""


@cache
def layers(root: Path = PACKS_DIR) -> Layers:
    """Read the basemap layers of every pack under ``root`` (cached per process)."""
    seen: dict[int, Place] = {}
    rivers: list[shapely.Geometry] = []
    osm: list[bool] = []
    for folder in sorted(p.parent for p in root.glob("*/basemap")):
        places_file = folder / "basemap" / "places.geojson"
        if places_file.is_file():
            for feat in json.loads(places_file.read_text(encoding="utf-8"))["features"]:
                props = feat["properties"]
                lon, lat = feat["geometry"]["coordinates"]
                place = Place(
                    id=int(props["id"]),
                    name=str(props["name"]),
                    local=str(props.get("local", "")),
                    population=int(props.get("pop", 0)),
                    lon=float(lon),
                    lat=float(lat),
                    country=str(props.get("cc", "")),
                    key=bool(props.get("key", 0)),
                )
                seen.setdefault(place.id, place)
        rivers_file = folder / "basemap" / "rivers.geojson"
        if rivers_file.is_file():
            for feat in json.loads(rivers_file.read_text(encoding="utf-8"))["features"]:
                rivers.append(shapely.geometry.shape(feat["geometry"]))
                osm.append(feat["properties"].get("source") == "osm")
    ordered = sorted(seen.values(), key=lambda p: (-p.rank, p.id))
    return Layers(tuple(ordered), tuple(rivers), tuple(osm))


def places_in(box: tuple[float, float, float, float], *, root: Path = PACKS_DIR) -> list[Place]:
    """The places inside ``box`` (west, south, east, north; longitudes may run past ±180), by rank."""
    west, south, east, north = box
    found = layers(root).places
    if not found:
        return []
    lon = np.array([p.lon for p in found])
    lat = np.array([p.lat for p in found])
    out = []
    for shift in (-360.0, 0.0, 360.0):
        inside = (lon + shift >= west) & (lon + shift <= east) & (lat >= south) & (lat <= north)
        out += [
            Place(p.id, p.name, p.local, p.population, p.lon + shift, p.lat, p.country, p.key)
            for p, ok in zip(found, inside, strict=True)
            if ok
        ]
    return sorted(out, key=lambda p: (-p.rank, p.id))


def rivers_in(
    box: tuple[float, float, float, float], *, root: Path = PACKS_DIR
) -> tuple[list[shapely.Geometry], bool]:
    """The rivers clipped to ``box`` (within ±180), and whether any of them is from OpenStreetMap."""
    found = layers(root)
    if not found.rivers:
        return [], False
    geoms = np.asarray(found.rivers, dtype=object)
    clipped = shapely.clip_by_rect(geoms, *box)
    keep = ~shapely.is_empty(clipped)
    osm = bool(np.asarray(found.osm_rivers)[keep].any()) if keep.any() else False
    return list(clipped[keep]), osm


def attribution(*, places: bool, rivers: bool, osm: bool) -> str:
    """The credit line of the layers shown (plain text)."""
    parts = []
    if places:
        parts.append(_("Place names © GeoNames (CC BY 4.0)"))
    if rivers:
        parts.append(_("Rivers: World Data Bank II"))
    if osm:
        parts.append(_("© OpenStreetMap contributors (ODbL)"))
    return "; ".join(parts)
