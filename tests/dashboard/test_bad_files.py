"""Every bad file on an upload page is one clear message naming the uploaded file: no crash box, no temp path.

The hardening review found files that showed the message and then Streamlit's "This app
has encountered an error" (an uncaught ``BadZipFile`` from a zip with a bad CRC), and
messages naming the server's temporary path. Each file here goes through AppTest; the
page must raise nothing, and its errors must name the file as uploaded.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.support import ADMIN, ANALYST, all_text, app, plain

HEADER = b"event_id,occurred_at,lat,lon,category\n"
ROW = b"A1,2025-01-02,38.05,127.0,artillery_fire\n"
BOX = {"type": "Polygon", "coordinates": [[[127.0, 38.0], [127.1, 38.0], [127.1, 38.1], [127.0, 38.0]]]}


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def bad_crc(data: bytes) -> bytes:
    """A zip whose first member's stored CRC-32 is wrong (the data reads, the check fails at the end)."""
    out = bytearray(data)
    out[14] ^= 0xFF  # local header CRC
    central = data.rfind(b"PK\x01\x02")
    out[central + 16] ^= 0xFF  # central directory CRC
    return bytes(out)


def geojson(doc: object) -> bytes:
    return json.dumps(doc).encode()


CSV_FILES = {
    "a zip renamed .csv": zipped({"x.csv": HEADER + ROW * 100}),
    "a zip with a bad CRC": bad_crc(zipped({"x.csv": HEADER + ROW * 1000})),
    "a first line without end": b"a" * 300_000,
    "a 300 KB line in the data": HEADER + ROW + b"x" * 300_000,
    "gzip": b"\x1f\x8b\x08\x00" + os.urandom(500),
    "binary": os.urandom(5000),
    "empty": b"",
    "only a header": HEADER,
    "UTF-16 cut mid-character": b"\xff\xfe" + "event_id,lat\n".encode("utf-16-le") + b"\xd8",
    "unknown columns": b"foo,bar\n1,2\n",
}

GEOMETRY_FILES = {
    "zip with a bad CRC.zip": bad_crc(zipped({"z.kml": b"<kml>" + b" " * 5000 + b"</kml>"})),
    "not a zip.zip": b"PK\x03\x04 not really",
    "empty zip.zip": zipped({}),
    "two datasets.zip": zipped({"a.kml": b"<kml/>", "b.kml": b"<kml/>"}),
    "not json.geojson": b"{not json",
    "empty.geojson": b"",
    "points.geojson": geojson({"type": "Point", "coordinates": [127.0, 38.0]}),
    "no features.geojson": geojson({"type": "FeatureCollection", "features": []}),
    "linked crs.geojson": geojson(
        {
            "type": "FeatureCollection",
            "crs": {"type": "link", "properties": {"href": "http://127.0.0.1:9/crs", "type": "proj4"}},
            "features": [{"type": "Feature", "properties": {}, "geometry": BOX}],
        }
    ),
    "unknown crs.geojson": geojson(
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "EPSG:999999"}},
            "features": [{"type": "Feature", "properties": {}, "geometry": BOX}],
        }
    ),
    "bowtie.geojson": geojson(
        {
            "type": "Polygon",
            "coordinates": [[[127.0, 38.0], [127.1, 38.1], [127.1, 38.0], [127.0, 38.1], [127.0, 38.0]]],
        }
    ),
    "garbage.gpkg": os.urandom(4096),
    "entity.kml": b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY e SYSTEM "file:///etc/passwd">]><kml>&e;</kml>',
    "broken.kml": b"<kml><Placemark>",
    "not a zip.kmz": b"<kml/>",
}


def errors_of(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.error]


def assert_one_clear_message(at: AppTest, shown_name: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    errors = errors_of(at) + [plain(w.value) for w in at.warning if shown_name in plain(w.value)]
    assert errors, all_text(at)
    assert any(shown_name in e for e in errors), errors
    text = all_text(at)
    for leak in (tempfile.gettempdir(), "truceline-upload", "truceline-geom", "Traceback"):
        assert leak not in text, (leak, text[:500])


@pytest.mark.parametrize("what", list(CSV_FILES))
def test_bad_incident_files_give_one_message_naming_the_file(db: str, what: str) -> None:
    name = f"{what}.csv"
    at = app(ANALYST, page="upload")
    at.file_uploader(key="u_file").set_value((name, CSV_FILES[what], "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    if what == "unknown columns":  # readable: the page asks for a mapping instead
        assert "Map the file's columns below." in all_text(at)
        return
    if what == "a 300 KB line in the data":  # readable: the long row is rejected, with its line
        assert [m.value for m in at.metric if m.label == "Rejected"] == ["1"]
        return
    assert_one_clear_message(at, name)


@pytest.mark.parametrize("name", list(GEOMETRY_FILES))
def test_bad_zone_files_give_one_message_naming_the_file(db: str, name: str) -> None:
    at = app(ADMIN, page="zones")
    at.file_uploader(key="dz_file").set_value((name, GEOMETRY_FILES[name], "application/octet-stream"))
    at.text_input(key="dz_id").set_value("bad")
    at.text_input(key="dz_name").set_value("Bad")
    next(b for b in at.button if b.label == "Add zone and reclassify").click().run()
    assert_one_clear_message(at, name)
    assert "zone bad: saved" not in all_text(at)


@pytest.mark.parametrize("name", ["zip with a bad CRC.zip", "not json.geojson", "garbage.gpkg", "entity.kml"])
def test_bad_line_files_give_one_message_naming_the_file(db: str, name: str) -> None:
    at = app(ADMIN, page="zones")
    at.file_uploader(key="l_file").set_value((name, GEOMETRY_FILES[name], "application/octet-stream"))
    at.text_input(key="l_id").set_value("bad")
    next(b for b in at.button if b.label == "Add line and reclassify").click().run()
    assert_one_clear_message(at, name)
