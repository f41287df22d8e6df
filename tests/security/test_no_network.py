"""No network from data: a zone file whose CRS is a link makes no request, anywhere it is read.

An attacker's GeoJSON declares ``"crs": {"type": "link", "properties": {"href": ...}}``.
GDAL used to fetch that address and apply the reply (``+pm=90`` moved a zone from lon 127
to lon -143). A local listener stands in for the attacker's server: it counts every
request, and the tests load the file through a manifest, the dashboard's zone upload and
the command line's ``scenario validate``, and read it with GDAL directly in a new process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo._errors import ManifestError
from geo.cli import cli
from geo.core._geomfiles import fetched_crs, read_geometry_file
from geo.core.manifest import load_scenario
from tests.conftest import REPO
from tests.geo.test_manifest import manifest

SHIFTED = b"+proj=longlat +datum=WGS84 +pm=90 +no_defs"
BOX = [[[127.0, 38.0], [127.1, 38.0], [127.1, 38.1], [127.0, 38.1], [127.0, 38.0]]]


class Listener:
    """An HTTP server on 127.0.0.1 that answers every GET with a shifted CRS and counts requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(SHIFTED)))
                self.end_headers()
                self.wfile.write(SHIFTED)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/crs.proj4"


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def linked(path: Path, href: str, *, where: str = "top", kind: str = "link") -> Path:
    """A zone GeoJSON whose CRS is given by ``href``, at the top or on the geometry."""
    crs = {"type": kind, "properties": {"href": href, "type": "proj4"}}
    geometry: dict = {"type": "Polygon", "coordinates": BOX}
    doc: dict = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
    }
    if where == "top":
        doc["crs"] = crs
    else:
        geometry["crs"] = crs
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_listener_counts_requests(listener: Listener) -> None:
    """The witness works: a request that is made is seen."""
    with urllib.request.urlopen(listener.url, timeout=5) as reply:  # noqa: S310 - our own listener
        assert reply.read() == SHIFTED
    assert listener.requests == ["/crs.proj4"]


def test_proj_network_is_off_after_importing_geo() -> None:
    import pyproj.network

    import geo  # noqa: F401

    assert os.environ["PROJ_NETWORK"] == "OFF"
    assert not pyproj.network.is_network_enabled()


@pytest.mark.parametrize(("where", "kind"), [("top", "link"), ("top", "url"), ("geometry", "link")])
def test_manifest_load_refuses_a_linked_crs_without_a_request(
    tmp_path: Path, listener: Listener, where: str, kind: str
) -> None:
    path = manifest(
        tmp_path, '\n[[zone]]\nid = "box"\nname = "Box"\nkind = "buffer_zone"\nfile = "evil.geojson"\n'
    )
    linked(tmp_path / "evil.geojson", listener.url, where=where, kind=kind)
    with pytest.raises(
        ManifestError, match=r"evil\.geojson: zone\[box\]\.file: crs: a CRS given by link"
    ) as err:
        load_scenario(path)
    assert len(str(err.value).splitlines()) == 1
    assert listener.requests == []


def test_crs_named_by_a_url_is_refused_but_ogc_names_are_read(tmp_path: Path, listener: Listener) -> None:
    named = tmp_path / "named.geojson"
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": listener.url}},
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": BOX}}
        ],
    }
    named.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ManifestError, match="a CRS given by link or URL is refused"):
        read_geometry_file(named, key="zone[x].file")
    doc["crs"] = {"type": "name", "properties": {"name": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    named.write_text(json.dumps(doc), encoding="utf-8")
    frame = read_geometry_file(named, key="zone[x].file")
    assert frame.geometry.iloc[0].bounds == pytest.approx((127.0, 38.0, 127.1, 38.1))
    assert listener.requests == []


def test_a_manifest_crs_given_by_url_is_refused(tmp_path: Path, listener: Listener) -> None:
    body = (
        '\n[[zone]]\nid = "box"\nname = "Box"\nkind = "buffer_zone"\nfile = "box.geojson"\n'
        f'crs = "{listener.url}"\n'
    )
    path = manifest(tmp_path, body)
    (tmp_path / "box.geojson").write_text(
        json.dumps({"type": "Polygon", "coordinates": BOX}), encoding="utf-8"
    )  # no CRS of its own, so the manifest's applies
    with pytest.raises(ManifestError, match=r"box\.geojson: zone\[box\]\.file: crs: a CRS given by link"):
        load_scenario(path)
    assert listener.requests == []


def test_fetched_crs_tells_links_from_names() -> None:
    assert fetched_crs({"type": "link", "properties": {"href": "crs.prj"}})
    assert fetched_crs({"type": "URL", "properties": {"url": "x"}})
    assert fetched_crs({"type": "name", "properties": {"name": "https://example.invalid/4326"}})
    assert fetched_crs("ftp://example.invalid/crs")
    assert not fetched_crs({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}})
    assert not fetched_crs(
        {"type": "name", "properties": {"name": "http://www.opengis.net/def/crs/EPSG/0/4326"}}
    )
    assert not fetched_crs("EPSG:4326")
    assert not fetched_crs(None)


def test_cli_validate_refuses_a_linked_crs_without_a_request(tmp_path: Path, listener: Listener) -> None:
    path = manifest(
        tmp_path, '\n[[zone]]\nid = "box"\nname = "Box"\nkind = "buffer_zone"\nfile = "evil.geojson"\n'
    )
    linked(tmp_path / "evil.geojson", listener.url)
    result = CliRunner().invoke(cli, ["scenario", "validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "evil.geojson: zone[box].file: crs: a CRS given by link or URL is refused" in result.output
    assert listener.requests == []


def test_gdal_itself_makes_no_request_in_a_process_started_by_geo(tmp_path: Path, listener: Listener) -> None:
    """Past our own check, GDAL's HTTP client is off too, in every process geo starts."""
    evil = linked(tmp_path / "evil.geojson", listener.url)
    script = (
        "import geo, subprocess, sys\n"
        "code = 'import pyogrio, sys; f = pyogrio.read_dataframe(sys.argv[1]); '\n"
        "code += 'print(f.geometry.iloc[0].bounds[0])'\n"
        "sys.exit(subprocess.call([sys.executable, '-c', code, sys.argv[1]]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROJ_", "GDAL_", "CPL_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", script, str(evil)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert listener.requests == []
    assert float(done.stdout.strip()) == pytest.approx(127.0)  # not moved by the reply


def test_dashboard_zone_upload_refuses_a_linked_crs_without_a_request(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.dashboard.support import ADMIN, all_text, app, build_store

    monkeypatch.setenv("TRUCELINE_DB", build_store(tmp_path / "store.db", frame=pd.DataFrame()))
    evil = linked(tmp_path / "evil.geojson", listener.url)
    at = app(ADMIN, page="zones")
    at.file_uploader(key="dz_file").set_value(
        ("area <evil>.geojson", evil.read_bytes(), "application/geo+json")
    )
    at.text_input(key="dz_id").set_value("evil")
    at.text_input(key="dz_name").set_value("Evil")
    next(b for b in at.button if b.label == "Add zone and reclassify").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("a CRS given by link or URL is refused" in e for e in errors), errors
    assert any("evil" in e and "geojson" in e for e in errors), errors
    assert "truceline-upload" not in all_text(at)
    assert listener.requests == []
