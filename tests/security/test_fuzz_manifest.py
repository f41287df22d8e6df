"""Fuzz the manifest loader: whatever the file holds, it fails only with a clear ManifestError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo._errors import ManifestError
from geo.core.manifest import load_scenario

KEYS = [
    "id",
    "name",
    "file",
    "line",
    "kind",
    "width_m",
    "side",
    "zone",
    "prohibits",
    "parties",
    "severity",
    "text",
    "valid_from",
    "valid_to",
    "left_party",
    "right_party",
    "colour",
    "crs",
    "layer",
    "repair",
    "synthetic",
    "description",
    "party_mapping",
    "weapon_classes",
    "bogus",
]
SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(
        [
            "a",
            "north",
            "dmz",
            "geom.geojson",
            "both",
            "left",
            "mdl",
            "*",
            "buffer_zone",
            "artillery_fire",
            "high",
            "1953-07-27",
            "EPSG:4326",
            "../../etc/passwd",
            "#ff0000",
        ]
    ),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


TABLE = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)
MANIFEST = st.fixed_dictionaries(
    {
        "scenario": TABLE,
        "party": st.lists(TABLE, max_size=2),
        "line": st.lists(TABLE, max_size=2),
        "zone": st.lists(TABLE, max_size=3),
        "rule": st.lists(TABLE, max_size=2),
    }
)
GEOMETRY = st.one_of(
    st.just(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}'
    ),
    st.just(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}'
    ),
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)


def render(manifest: dict) -> str:
    out = []
    if manifest["scenario"]:
        out.append("[scenario]")
        out += [f"{k} = {toml_value(v)}" for k, v in manifest["scenario"].items()]
    for kind in ("party", "line", "zone", "rule"):
        for table in manifest[kind]:
            out.append(f"[[{kind}]]")
            out += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MANIFEST, GEOMETRY)
def test_any_manifest_loads_or_fails_with_manifest_error(manifest, geometry):
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "geom.geojson").write_text(geometry, encoding="utf-8")
        path = base / "s.toml"
        path.write_text(render(manifest), encoding="utf-8")
        try:
            load_scenario(path)
        except ManifestError as err:
            assert err.problems
            for line in err.problems:
                assert "\n" not in line
                assert line.startswith(str(base)) or line.startswith(str(path)), line


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(
        [
            "scenario = 5",
            "party = [1, 2]",
            'zone = "x"',
            '[[scenario]]\nname = "a"',
            '[scenario]\nname = "a"\n[[rule]]\nprohibits = [1, [2]]',
        ]
    ),
    st.text(max_size=30),
)
def test_wrong_shapes_fail_cleanly(shape, tail):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.toml"
        path.write_text(shape + "\n# " + tail.replace("\n", " ") + "\n", encoding="utf-8")
        try:
            load_scenario(path)
        except ManifestError as err:
            assert all(line.startswith(str(path)) for line in err.problems)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_a_manifest_fail_cleanly(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.toml"
        path.write_bytes(data)
        try:
            load_scenario(path)
        except ManifestError as err:
            assert str(err).startswith(str(path))


LINE_FILE = '{"type":"LineString","coordinates":[[0,0],[1,1]]}'


def test_a_line_without_an_id_is_a_problem_not_a_crash(tmp_path):
    """Found by the fuzzer: a line with a file but no id raised KeyError."""
    (tmp_path / "geom.geojson").write_text(LINE_FILE, encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "a"\n[[line]]\nfile = "geom.geojson"\n', encoding="utf-8")
    try:
        load_scenario(path)
    except ManifestError as err:
        assert any("line[0].id" in p for p in err.problems), err.problems
    else:
        raise AssertionError("a line without an id loaded")


def test_an_id_with_a_line_break_keeps_messages_on_one_line(tmp_path):
    """Found by the fuzzer: a rule id of a line break split its error message over two lines."""
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "a"\n[[rule]]\nid = "\\n"\nzone = "nowhere"\n', encoding="utf-8")
    try:
        load_scenario(path)
    except ManifestError as err:
        assert err.problems and all("\n" not in p for p in err.problems), err.problems
        assert any("rule[0]" in p for p in err.problems), err.problems
    else:
        raise AssertionError("a rule for an unknown zone loaded")
