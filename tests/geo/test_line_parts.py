"""A line given in parts, some drawn backwards, is one directed line: sides never flip.

The reference line runs east through (10, 50), (10.3, 50.05), (10.6, 50) and (11, 50.1):
north is on its left, held by party ``a``. Given as three parts with the middle one
drawn backwards, it must classify exactly as the single line: distances, sides, side
parties, one-sided zones and verdicts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo._errors import ManifestError
from geo.core.classify import classify
from geo.core.manifest import load_scenario, validate_manifest
from tests.conftest import write_geojson

A = [[10.0, 50.0], [10.3, 50.05]]
B = [[10.3, 50.05], [10.6, 50.0]]
C = [[10.6, 50.0], [11.0, 50.1]]
WHOLE = [*A, *B[1:], *C[1:]]


def rev(part: list[list[float]]) -> list[list[float]]:
    return part[::-1]


def line(coords: list[list[float]]) -> dict:
    return {"type": "LineString", "coordinates": coords}


MANIFEST = """
[scenario]
name = "Parts"

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

[[zone]]
id = "north5"
name = "5 km on the left"
kind = "restricted_area"
line = "l1"
width_m = 5000
side = "left"

[[zone]]
id = "band10"
name = "10 km band"
kind = "buffer_zone"
line = "l1"
width_m = 10000

[[rule]]
id = "no-fire-left"
zone = "north5"
prohibits = ["artillery_fire"]
parties = ["*"]
severity = "high"
text = "No fire on the left."

[[rule]]
id = "no-drones-a"
zone = "band10"
prohibits = ["drone_activity"]
parties = ["a"]
severity = "medium"
text = "No drones for a."
"""


def manifest(folder: Path, features: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_geojson(folder / "line.geojson", features)
    path = folder / "scenario.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


def grid() -> pd.DataFrame:
    lon, lat = np.meshgrid(np.arange(9.9, 11.1, 0.04), np.arange(49.85, 50.25, 0.02))
    n = lon.size
    return pd.DataFrame(
        {
            "lon": lon.ravel(),
            "lat": lat.ravel(),
            "occurred_at": pd.Timestamp("2024-06-01", tz="UTC"),
            "category": np.where(np.arange(n) % 2, "artillery_fire", "drone_activity"),
        }
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    scen = load_scenario(manifest(tmp_path_factory.mktemp("whole"), [line(WHOLE)]))
    got = classify(grid(), scen)
    # The reference itself is right: north of the line is left, party a, in north5.
    north = (grid()["lon"] - 10.46).abs().lt(0.005) & (grid()["lat"] - 50.05).abs().lt(0.005)
    assert north.sum() == 1
    row = got[north.to_numpy()].iloc[0]
    assert (row["side"], row["side_party"], row["zones"]) == ("left", "a", "north5;band10")
    assert set(got["verdict"].astype(str)) >= {"breach", "possible_breach", "no_breach"}
    return got


PARTS = {
    "three features, the middle one reversed": [line(A), line(rev(B)), line(C)],
    "in another order": [line(C), line(A), line(rev(B))],
    "one MultiLineString, a part reversed": [
        {"type": "MultiLineString", "coordinates": [A, rev(B), C]},
    ],
    "every part but the first reversed": [line(A), line(rev(C)), line(rev(B))],
}


@pytest.mark.parametrize("case", list(PARTS))
def test_parts_classify_as_the_single_line(tmp_path: Path, reference: pd.DataFrame, case: str) -> None:
    scen = load_scenario(manifest(tmp_path, PARTS[case]))
    assert list(scen.line("l1").geometry.coords) == [tuple(p) for p in WHOLE]
    pd.testing.assert_frame_equal(classify(grid(), scen), reference)


def test_reversed_parts_are_reported(tmp_path: Path) -> None:
    scen = load_scenario(manifest(tmp_path, PARTS["three features, the middle one reversed"]))
    assert len(scen.repairs) == 1
    assert "line[l1].file: feature 2 reversed to run the line's way (that of feature 1)" in scen.repairs[0]


def test_the_first_part_sets_the_direction(tmp_path: Path, reference: pd.DataFrame) -> None:
    # The first feature runs west: so does the line, and its left (party a) is now south.
    scen = load_scenario(manifest(tmp_path, [line(rev(B)), line(A), line(C)]))
    assert list(scen.line("l1").geometry.coords) == [tuple(p) for p in WHOLE[::-1]]
    got = classify(grid(), scen)
    np.testing.assert_allclose(got["distance_m"], -reference["distance_m"])
    flipped = reference["side"].astype(str).map({"left": "right", "right": "left", "on_line": "on_line"})
    assert (got["side"].astype(str) == flipped).all()


GAPPED = [[10.0, 50.0], [10.3, 50.05]], [[10.35, 50.04], [10.6, 50.0]], [[10.65, 50.01], [11.0, 50.1]]


def test_a_line_with_gaps_keeps_one_side_convention(tmp_path: Path) -> None:
    forward = load_scenario(
        manifest(tmp_path / "f", [{"type": "MultiLineString", "coordinates": list(GAPPED)}])
    )
    first, middle, last = GAPPED
    pieces = load_scenario(manifest(tmp_path / "p", [line(first), line(rev(last)), line(rev(middle))]))
    assert pieces.line("l1").geometry.equals_exact(forward.line("l1").geometry, 0.0)
    got = classify(grid(), pieces)
    pd.testing.assert_frame_equal(got, classify(grid(), forward))
    # Beside each piece, north is left (party a).
    points = pd.DataFrame(
        {
            "lon": [10.15, 10.47, 10.8],
            "lat": [50.05, 50.05, 50.08],
            "occurred_at": pd.Timestamp("2024-06-01", tz="UTC"),
        }
    )
    sides = classify(points, pieces)
    assert list(sides["side"].astype(str)) == ["left"] * 3
    assert list(sides["side_party"].astype(str)) == ["a"] * 3


def one_problem(path: Path) -> str:
    problems = validate_manifest(path)
    assert len(problems) == 1, problems
    assert "\n" not in problems[0]
    return problems[0]


def test_a_branch_fails_in_one_line_naming_file_and_part(tmp_path: Path) -> None:
    spur = [[10.3, 50.05], [10.3, 50.3]]
    problem = one_problem(manifest(tmp_path, [line(A), line(B), line(spur)]))
    assert (
        "line.geojson: line[l1].file: feature 3 meets feature 1, feature 2 at (10.300000, 50.050000)"
        in problem
    )
    assert "a line cannot branch" in problem
    with pytest.raises(ManifestError, match=r"feature 3 meets"):
        load_scenario(tmp_path / "scenario.toml")


def test_a_part_ending_on_another_is_a_branch(tmp_path: Path) -> None:
    spur = [[10.45, 50.025], [10.45, 50.3]]  # starts half-way along B
    problem = one_problem(manifest(tmp_path, [line(A), line(B), line(spur)]))
    assert "line.geojson: line[l1].file: feature 3 ends on feature 2 away from its ends" in problem


def test_a_piece_across_a_gap_that_could_run_either_way_fails(tmp_path: Path) -> None:
    across = [[10.4, 49.9], [10.4, 50.1]]  # both ends 11 km from the end of feature 1
    problem = one_problem(manifest(tmp_path, [line([[10.0, 50.0], [10.3, 50.0]]), line(across)]))
    assert "line.geojson: line[l1].file: cannot tell which way feature 2 runs" in problem
