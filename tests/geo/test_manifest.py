"""Scenario manifests: every format loads, every bad manifest fails in one clear line."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import LineString, Polygon

from geo._errors import ManifestError
from geo.core.manifest import load_scenario, validate_manifest
from geo.services.demo import DEMO_MANIFEST
from tests.conftest import write_geojson

LINE = {"type": "LineString", "coordinates": [[10.0, 50.0], [10.5, 50.1], [11.0, 50.0]]}
BOX = {
    "type": "Polygon",
    "coordinates": [[[10.2, 49.95], [10.8, 49.95], [10.8, 50.15], [10.2, 50.15], [10.2, 49.95]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[10.2, 49.9], [10.8, 50.2], [10.8, 49.9], [10.2, 50.2], [10.2, 49.9]]],
}

HEAD = """
[scenario]
name = "Test"

[[party]]
id = "a"
name = "Alpha"
colour = "#aa0000"

[[party]]
id = "b"
name = "Bravo"
colour = "#0000aa"

[[line]]
id = "l1"
name = "Line one"
file = "line.geojson"
left_party = "a"
right_party = "b"
"""


def manifest(tmp_path: Path, body: str = "", head: str = HEAD) -> Path:
    write_geojson(tmp_path / "line.geojson", [LINE])
    write_geojson(tmp_path / "box.geojson", [BOX])
    path = tmp_path / "scenario.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


ZONE_FILE = '\n[[zone]]\nid = "box"\nname = "Box"\nkind = "buffer_zone"\nfile = "box.geojson"\n'
ZONE_DERIVED = (
    '\n[[zone]]\nid = "band"\nname = "Band"\nkind = "buffer_zone"\nline = "l1"\n'
    'width_m = {w}\nside = "both"\n'
)
RULE = (
    '\n[[rule]]\nid = "r1"\nzone = "box"\nprohibits = [{cats}]\nparties = [{parties}]\n'
    'severity = "high"\ntext = "No fire"\n'
)


def test_demo_manifest_loads_with_its_zones_and_rules():
    scen = load_scenario(DEMO_MANIFEST)
    assert scen.synthetic
    assert {z.id for z in scen.zones} == {
        "dmz",
        "jsa",
        "no-drill-north",
        "no-drill-south",
        "nofly-uav",
        "nofly-fixed-wing",
    }
    assert len({z.kind for z in scen.zones}) >= 4
    assert scen.line("mdl").left_party == "north"
    assert len(scen.party_mapping) > 5
    # The north-side zone lies north of the south-side zone.
    assert scen.zone("no-drill-north").geometry.centroid.y > scen.zone("no-drill-south").geometry.centroid.y


def test_a_valid_manifest_has_no_problems(tmp_path):
    path = manifest(
        tmp_path,
        ZONE_FILE + ZONE_DERIVED.format(w=2000) + RULE.format(cats='"artillery_fire"', parties='"*"'),
    )
    assert validate_manifest(path) == []
    scen = load_scenario(path)
    assert [z.id for z in scen.zones] == ["box", "band"]
    assert scen.zone("band").derived and scen.zone("band").width_m == 2000


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        (
            '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "missing.geojson"\n',
            "zone[z].file",
            "file not found",
        ),
        (
            ZONE_FILE + RULE.format(cats='"artillery_fire"', parties='"c"'),
            "rule[r1].parties",
            "unknown party 'c'",
        ),
        (
            ZONE_FILE + RULE.format(cats='"artilery_fire"', parties='"*"'),
            "rule[r1].prohibits",
            "unknown category 'artilery_fire'",
        ),
        (ZONE_DERIVED.format(w=0), "zone[band].width_m", "must be > 0"),
        (ZONE_DERIVED.format(w=-5), "zone[band].width_m", "must be > 0"),
        (
            '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "moat"\nfile = "box.geojson"\n',
            "zone[z].kind",
            "unknown kind",
        ),
        (
            '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nline = "nope"\nwidth_m = 5\n',
            "zone[z].line",
            "unknown line 'nope'",
        ),
        (
            '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "box.geojson"\nwidht_m = 5\n',
            "zone[z].widht_m",
            "unknown key",
        ),
    ],
)
def test_bad_manifest_fails_in_one_line_naming_file_and_key(tmp_path, body, key, problem):
    path = manifest(tmp_path, body)
    with pytest.raises(ManifestError) as err:
        load_scenario(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 1, lines
    assert str(path) in lines[0] or "missing.geojson" in lines[0]
    assert f": {key}" in lines[0]
    assert problem in lines[0]


def test_unknown_party_on_a_line(tmp_path):
    path = manifest(tmp_path, head=HEAD.replace('right_party = "b"', 'right_party = "x"'))
    with pytest.raises(ManifestError, match=r"scenario\.toml: line\[l1\]\.right_party: unknown party 'x'"):
        load_scenario(path)


def test_every_problem_is_reported_at_once(tmp_path):
    body = ZONE_DERIVED.format(w=0) + ZONE_FILE + RULE.format(cats='"nope"', parties='"zz"')
    problems = validate_manifest(manifest(tmp_path, body))
    assert len(problems) == 3
    assert all(p.startswith(str(tmp_path / "scenario.toml")) for p in problems)


def test_file_without_crs_fails(tmp_path):
    frame = gpd.GeoDataFrame(geometry=[Polygon(BOX["coordinates"][0])])  # no CRS
    with pytest.warns(UserWarning):
        frame.to_file(tmp_path / "nocrs.shp")
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "nocrs.shp"\n'
    path = manifest(tmp_path, body)
    with pytest.raises(ManifestError, match=r"nocrs\.shp: zone\[z\]\.file: the file declares no CRS"):
        load_scenario(path)
    # Declaring it in the manifest is enough.
    path.write_text(path.read_text() + 'crs = "EPSG:4326"\n')
    assert load_scenario(path).zone("z").geometry.equals(Polygon(BOX["coordinates"][0]))


def test_self_intersecting_zone_fails_unless_repair_is_asked(tmp_path):
    write_geojson(tmp_path / "bowtie.geojson", [BOWTIE])
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "bowtie.geojson"\n'
    path = manifest(tmp_path, body)
    with pytest.raises(ManifestError) as err:
        load_scenario(path)
    assert len(str(err.value).splitlines()) == 1
    assert "zone[z].file" in str(err.value)
    assert "Self-intersection" in str(err.value)
    repaired = load_scenario(path, repair=True)
    assert repaired.zone("z").geometry.is_valid
    assert len(repaired.repairs) == 1 and "zone[z].file: repaired 1" in repaired.repairs[0]
    path.write_text(path.read_text() + "repair = true\n")
    assert load_scenario(path).zone("z").geometry.is_valid


def test_wrong_geometry_type_and_empty_geometry_fail(tmp_path):
    write_geojson(tmp_path / "notpoly.geojson", [LINE])
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "notpoly.geojson"\n'
    with pytest.raises(
        ManifestError, match=r"zone\[z\]\.file: notpoly\.geojson: wrong geometry type LineString"
    ):
        load_scenario(manifest(tmp_path, body))
    write_geojson(tmp_path / "empty.geojson", [{"type": "Polygon", "coordinates": []}])
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "empty.geojson"\n'
    with pytest.raises(ManifestError, match=r"zone\[z\]\.file: .*empty"):
        load_scenario(manifest(tmp_path, body))


def test_projected_crs_is_converted_to_lonlat(tmp_path):
    frame = gpd.GeoDataFrame(geometry=[Polygon(BOX["coordinates"][0])], crs=4326).to_crs(3035)
    frame.to_file(tmp_path / "box3035.gpkg", layer="zones")
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "box3035.gpkg"\nlayer = "zones"\n'
    geom = load_scenario(manifest(tmp_path, body)).zone("z").geometry
    assert geom.bounds == pytest.approx((10.2, 49.95, 10.8, 50.15), abs=1e-7)


def test_zipped_shapefile_and_kml_load(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["box"]}, geometry=[Polygon(BOX["coordinates"][0])], crs=4326)
    frame.to_file(tmp_path / "box.shp")
    with zipfile.ZipFile(tmp_path / "box.zip", "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            if (tmp_path / f"box.{ext}").exists():
                zf.write(tmp_path / f"box.{ext}", f"nested/dir/box.{ext}")
    frame.to_file(tmp_path / "box.kml", driver="KML")
    for name in ("box.zip", "box.kml"):
        body = f'\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "{name}"\n'
        geom = load_scenario(manifest(tmp_path, body)).zone("z").geometry
        assert geom.bounds == pytest.approx((10.2, 49.95, 10.8, 50.15), abs=1e-7), name


def test_zip_bomb_and_traversal_are_refused(tmp_path):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.shp", b"\0" * (50 * 1024 * 1024))
        zf.writestr("bomb.shx", b"")
    (tmp_path / "bomb.zip").write_bytes(bomb.getvalue())
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "bomb.zip"\n'
    with pytest.raises(ManifestError, match="compression ratio"):
        load_scenario(manifest(tmp_path, body))

    evil = io.BytesIO()
    frame = gpd.GeoDataFrame(geometry=[Polygon(BOX["coordinates"][0])], crs=4326)
    frame.to_file(tmp_path / "t.shp")
    with zipfile.ZipFile(evil, "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(tmp_path / f"t.{ext}", f"../../escaped/t.{ext}")
    (tmp_path / "evil.zip").write_bytes(evil.getvalue())
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "evil.zip"\n'
    load_scenario(manifest(tmp_path, body))  # read safely from inside the archive
    assert not (tmp_path.parent.parent / "escaped").exists()


def test_kml_with_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not leak")
    (tmp_path / "xxe.kml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name><Polygon>'
        "<outerBoundaryIs><LinearRing><coordinates>10,50 11,50 11,51 10,50</coordinates></LinearRing>"
        "</outerBoundaryIs></Polygon></Placemark></kml>"
    )
    body = '\n[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nfile = "xxe.kml"\n'
    with pytest.raises(ManifestError, match="refused KML with a DTD"):
        load_scenario(manifest(tmp_path, body))


def test_line_direction_is_kept_when_several_features_merge(tmp_path):
    write_geojson(
        tmp_path / "line.geojson",
        [
            {"type": "LineString", "coordinates": [[10.0, 50.0], [10.5, 50.1]]},
            {"type": "LineString", "coordinates": [[10.5, 50.1], [11.0, 50.0]]},
        ],
    )
    path = tmp_path / "s.toml"
    path.write_text(HEAD, encoding="utf-8")
    geom = load_scenario(path).line("l1").geometry
    assert shapely.get_coordinates(geom)[0].tolist() == [10.0, 50.0]
    assert isinstance(geom, LineString)
