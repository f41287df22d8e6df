"""Data exports: formula-safe CSV, RFC 7946 GeoJSON, GeoPackage layers as documented."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo.io.writers import (
    LEADING_COLUMNS,
    export_bytes,
    export_frame,
    export_view,
    neutralise,
    to_csv,
    to_geojson,
    write_csv,
    write_gpkg,
)
from tests.exports.conftest import incident_rows, mdl_point, to_view

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exports.md"

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "+SUM(1)",
    "-2+3",
    "@SUM(1+1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://example.invalid","x")',
    "=1+1",
    "\uff1d1+1",  # full-width equals
    "\uff0bSUM(1)",  # full-width plus
    "\uff0d2+3",  # full-width hyphen-minus
    "\uff20SUM(1)",  # full-width at
    "-",
    "=",
    " =1+1",  # first non-blank character is a trigger
    "\n=1+1",
    "  \t+SUM(1)",
    "\u00a0@SUM(1)",  # no-break space
    "\u200b=1+1",  # zero-width space
    "\u3000\uff1d1",  # ideographic space, full-width equals
]
SAFE = [
    "Panmunjom",
    "2+3",
    "a=b",
    " 1 = 1 (leading space, no trigger)",
    "\n text",
    "판문점",
    "القنيطرة",
    "Дебальцево",
    "'quoted",
]


@pytest.fixture(scope="module")
def hostile(scenario):
    """Incidents whose text fields carry formula payloads, with a negative distance."""
    rows = []
    texts = PAYLOADS + SAFE
    for i, text in enumerate(texts):
        lon, lat = mdl_point(scenario, 0.1 + 0.8 * i / len(texts), north_m=-3000.0 if i % 2 else 3000.0)
        rows.append(
            {
                "lon": lon,
                "lat": lat,
                "location_name": text,
                "actor": text,
                "description": text,
                "source_event_id": text if text else f"E{i}",
                "fatalities": i,
            }
        )
    frame = incident_rows(rows)
    frame.loc[0, "fatalities"] = pd.NA
    return to_view(frame, scenario)


def read_csv_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_neutralises_every_payload(hostile):
    rows = read_csv_rows(to_csv(hostile))
    assert len(rows) == len(PAYLOADS) + len(SAFE)
    for row, payload in zip(rows, PAYLOADS + SAFE, strict=True):
        for col in ("location_name", "actor", "description", "source_event_id"):
            if payload in PAYLOADS:
                assert row[col] == "'" + payload, (col, payload)
            else:
                assert row[col] == payload, (col, payload)


def test_csv_cells_never_start_with_a_trigger(hostile):
    triggers = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
    numeric = {"lon", "lat", "distance_m", "fatalities", "incident_id", "batch_id", "location_uncertainty_m"}
    for row in read_csv_rows(to_csv(hostile)):
        for col, value in row.items():
            if col not in numeric:
                assert not value.startswith(triggers), (col, value)
                blank = " \n\t\r\u00a0\u200b\u3000\x00"
                assert not value.lstrip(blank).startswith(triggers), (col, value)


def test_csv_numbers_stay_numbers(hostile):
    rows = read_csv_rows(to_csv(hostile))
    distance = hostile["distance_m"].to_numpy()
    assert (distance < 0).any() and (distance > 0).any()
    for row, d, lon, lat in zip(rows, distance, hostile["lon"], hostile["lat"], strict=True):
        assert float(row["distance_m"]) == pytest.approx(d, abs=0.0, rel=1e-15)
        assert float(row["lon"]) == lon  # shortest round-trip repr: exact
        assert float(row["lat"]) == lat
        if d < 0:
            assert row["distance_m"].startswith("-")
    assert rows[0]["fatalities"] == ""
    assert rows[3]["fatalities"] == "3"
    assert [int(r["incident_id"]) for r in rows] == list(range(1, len(rows) + 1))


def test_write_csv_keeps_any_frame_in_its_order(tmp_path):
    frame = pd.DataFrame({"reason": ["=1+1", "ok"], "line_no": [-3, 4], "event_id": ["@x", "+y"]})
    rows = read_csv_rows(write_csv(frame, tmp_path / "r.csv").read_bytes())
    assert list(rows[0]) == ["reason", "line_no", "event_id"]
    assert [r["reason"] for r in rows] == ["'=1+1", "ok"]
    assert [r["line_no"] for r in rows] == ["-3", "4"]
    assert [r["event_id"] for r in rows] == ["'@x", "'+y"]


def test_neutralise_looks_past_blanks_and_catches_nul():
    cells = pd.Series(["\x00abc", "\x01\x02=1", "\ufeff+1", "\r\n-1", " \u2060@a", " 2+3", "a -1", "\n"])
    assert neutralise(cells).tolist() == [
        "'\x00abc",
        "'\x01\x02=1",
        "'\ufeff+1",
        "'\r\n-1",
        "' \u2060@a",
        " 2+3",
        "a -1",
        "\n",
    ]


def test_neutralise_handles_categoricals_and_missing():
    cats = pd.Series(pd.Categorical(["=1", "ok", None]))
    assert neutralise(cats).tolist() == ["'=1", "ok", ""]


def test_csv_header_times_and_bom(hostile):
    data = to_csv(hostile)
    assert not data.startswith(b"\xef\xbb\xbf")
    assert to_csv(hostile, bom=True).startswith(b"\xef\xbb\xbf")
    assert to_csv(hostile, bom=True)[3:] == data
    header = data.decode("utf-8").split("\r\n", 1)[0].split(",")
    assert header[: len(LEADING_COLUMNS)] == list(LEADING_COLUMNS)
    assert header == list(export_frame(hostile).columns)
    row = read_csv_rows(data)[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["occurred_at"])
    assert row["ingested_at"] == "2025-07-01T00:00:00.123456Z"
    assert pd.Timestamp(row["occurred_at"]) == hostile["occurred_at"].iloc[0]


def test_csv_of_the_demo_view_round_trips(demo_full):
    back = pd.read_csv(io.BytesIO(to_csv(demo_full)), keep_default_na=False)
    assert len(back) == len(demo_full)
    assert (back["verdict"].to_numpy() == demo_full["verdict"].astype(str).to_numpy()).all()
    assert np.allclose(back["distance_m"].to_numpy(dtype=float), demo_full["distance_m"].to_numpy())


def test_geojson_is_rfc7946(hostile):
    doc = json.loads(to_geojson(hostile))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    assert len(doc["features"]) == len(hostile)
    for feature, (_, row) in zip(doc["features"], hostile.iterrows(), strict=True):
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        props = feature["properties"]
        assert list(props) == list(export_frame(hostile).columns)
        assert props["location_name"] == row["location_name"]  # raw text: JSON is not a spreadsheet
        assert props["distance_m"] == pytest.approx(row["distance_m"])
        assert props["occurred_at"].endswith("Z")
        assert pd.Timestamp(props["occurred_at"]) == row["occurred_at"]
        assert props["verdict"] == str(row["verdict"])
    assert doc["features"][0]["properties"]["fatalities"] is None
    assert doc["features"][0]["properties"]["location_uncertainty_m"] is None


def test_geojson_of_an_empty_view(hostile):
    doc = json.loads(to_geojson(hostile.iloc[:0]))
    assert doc == {"type": "FeatureCollection", "features": []}


def documented_fields() -> dict[str, list[str]]:
    """The field names of each layer's table in docs/exports.md."""
    text = DOCS.read_text(encoding="utf-8")
    layers: dict[str, list[str]] = {}
    for match in re.finditer(r"^### Layer `(\w+)`\n(.*?)(?=^##|\Z)", text, flags=re.M | re.S):
        layers[match.group(1)] = re.findall(r"^\| `(\w+)` \|", match.group(2), flags=re.M)
    return layers


def test_gpkg_has_the_documented_layers_and_columns(hostile, scenario, tmp_path):
    path = write_gpkg(hostile, scenario, tmp_path / "out.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert layers == {
        "incidents": "Point",
        "lines": "MultiLineString",
        "zones": "MultiPolygon",
        "parties": None,
        "rules": None,
        "provenance": None,
    }
    docs = documented_fields()
    assert set(docs) == set(layers)
    for name, kind in layers.items():
        info = pyogrio.read_info(path, layer=name)
        assert list(info["fields"]) == docs[name], name
        if kind:
            assert info["crs"] == "EPSG:4326"
    assert pyogrio.read_info(path, layer="incidents")["features"] == len(hostile)


def test_gpkg_layers_hold_the_scenario(hostile, scenario, tmp_path):
    path = write_gpkg(hostile, scenario, tmp_path / "out.gpkg")
    zones = pyogrio.read_dataframe(path, layer="zones").set_index("id")
    assert set(zones.index) == {z.id for z in scenario.zones}
    north = zones.loc["no-drill-north"]
    assert (north["kind"], north["line"], north["side"]) == ("restricted_area", "mdl", "left")
    assert north["width_m"] == 5000.0
    assert bool(north["derived"]) and not bool(zones.loc["dmz", "derived"])
    assert north["valid_from"] == "2018-11-01"
    assert zones.loc["dmz", "rules"] == "dmz-hostile-acts;dmz-entry"
    for z in scenario.zones:
        assert (
            zones.loc[z.id, "geometry"].equals_exact(z.geometry, 1e-9)
            or zones.loc[z.id, "geometry"].symmetric_difference(z.geometry).area < 1e-12
        )
    lines = pyogrio.read_dataframe(path, layer="lines")
    assert lines[["id", "left_party", "right_party"]].values.tolist() == [["mdl", "north", "south"]]
    parties = pyogrio.read_dataframe(path, layer="parties")
    assert parties["name"].tolist() == [p.name for p in scenario.parties]  # Korean text survives
    rules = pyogrio.read_dataframe(path, layer="rules")
    assert len(rules) == len(scenario.rules)


def test_gpkg_incidents_keep_types_and_values(hostile, scenario, tmp_path):
    path = write_gpkg(hostile, scenario, tmp_path / "out.gpkg")
    back = pyogrio.read_dataframe(path, layer="incidents")
    assert back.geometry.x.tolist() == hostile["lon"].tolist()
    assert back["distance_m"].tolist() == pytest.approx(hostile["distance_m"].tolist())
    assert back["location_name"].tolist() == hostile["location_name"].tolist()  # not neutralised
    assert isinstance(back["occurred_at"].dtype, pd.DatetimeTZDtype)
    assert (back["occurred_at"] == hostile["occurred_at"].reset_index(drop=True)).all()
    info = pyogrio.read_info(path, layer="incidents")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["occurred_at"] == "OFTDateTime"
    assert types["distance_m"] == "OFTReal"
    assert types["incident_id"] in ("OFTInteger", "OFTInteger64")


def test_gpkg_of_an_empty_view(hostile, scenario, tmp_path):
    path = write_gpkg(hostile.iloc[:0], scenario, tmp_path / "empty.gpkg")
    assert pyogrio.read_info(path, layer="incidents")["features"] == 0
    assert pyogrio.read_info(path, layer="zones")["features"] == len(scenario.zones)


def test_export_view_picks_the_format_from_the_suffix(hostile, scenario, tmp_path):
    assert export_view(hostile, tmp_path / "a.csv").read_bytes() == to_csv(hostile)
    doc = json.loads(export_view(hostile, tmp_path / "a.geojson").read_bytes())
    assert doc["type"] == "FeatureCollection"
    assert export_view(hostile, tmp_path / "b.out", fmt="csv").read_bytes() == to_csv(hostile)
    gpkg = export_view(hostile, tmp_path / "a.gpkg", scenario=scenario)
    assert len(pyogrio.list_layers(gpkg)) == 6
    assert export_bytes(hostile, scenario, "gpkg")[:16] == b"SQLite format 3\x00"
    with pytest.raises(ValueError, match="suffix"):
        export_view(hostile, tmp_path / "a.xlsx")
    with pytest.raises(ValueError, match="scenario"):
        export_view(hostile, tmp_path / "c.gpkg")
    with pytest.raises(ValueError, match="format"):
        export_bytes(hostile, scenario, "xlsx")  # type: ignore[arg-type]
