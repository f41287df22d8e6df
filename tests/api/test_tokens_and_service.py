"""Tokens on the command line; the scenario routes; the OpenAPI document and the offline docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.services.tokens import digest
from tests.api.conftest import bearer


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_tokens_add_prints_the_secret_once_and_stores_only_its_hash(api_store, client):
    db = api_store.dsn
    code, out, err = run(db, "tokens", "add", "phone-7", "--role", "analyst", "--scenario", "other")
    assert code == 0, err
    secret = out.strip()
    assert re.fullmatch(r"tl_[A-Za-z0-9_-]{40,}", secret)
    assert "shown once" in err
    row = api_store.frame("SELECT * FROM api_tokens WHERE name = 'phone-7'").iloc[0]
    assert row["token_hash"] == digest(secret) and row["scenario_id"] == "other" and row["role"] == "analyst"
    raw = api_store.path.read_bytes() + api_store.path.with_name(api_store.path.name + "-wal").read_bytes()
    assert secret.encode() not in raw
    code, out, _ = run(db, "tokens", "list", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert [t["name"] for t in listed] == ["phone-7"]
    assert secret not in out and listed[0]["revoked_at"] is None
    assert client.get("/api/v1/scenarios", headers=bearer(secret)).json()["scenarios"][0]["id"] == "other"
    code, out, _ = run(db, "tokens", "revoke", "phone-7")
    assert code == 0 and "revoked" in out
    assert client.get("/api/v1/scenarios", headers=bearer(secret)).status_code == 401
    code, out, _ = run(db, "tokens", "list")
    assert "revoked" in out
    actions = api_store.frame(
        "SELECT action, target FROM audit_log WHERE action LIKE 'token_%' ORDER BY entry_id"
    )
    assert actions.values.tolist() == [["token_add", "phone-7"], ["token_revoke", "phone-7"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tokens", "add", "bad name", "--role", "viewer"), "user name"),
        (("tokens", "add", "x", "--role", "admin"), "admin"),
        (("tokens", "add", "x", "--role", "viewer", "--scenario", "atlantis"), "atlantis"),
        (("tokens", "revoke", "nobody"), "no active token"),
    ],
)
def test_token_commands_refuse_bad_input_in_one_line(api_store, args, message):
    code, out, err = run(api_store.dsn, *args)
    assert code != 0
    assert message in out + err
    assert "Traceback" not in out + err


def test_a_token_name_is_unique(api_store):
    assert run(api_store.dsn, "tokens", "add", "dup", "--role", "viewer")[0] == 0
    code, _out, err = run(api_store.dsn, "tokens", "add", "dup", "--role", "analyst")
    assert code == 1 and "exists already" in err


def test_the_scenario_routes_give_the_lines_zones_and_rules_as_geojson(client, tokens, demo_scenario):
    listing = client.get("/api/v1/scenarios", headers=bearer(tokens["viewer"])).json()
    assert listing == {
        "scenarios": [{"id": "korea", "name": demo_scenario.name, "href": "/api/v1/scenarios/korea"}]
    }
    answer = client.get("/api/v1/scenarios/korea", headers=bearer(tokens["viewer"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    doc = answer.json()
    assert doc["type"] == "FeatureCollection" and doc["id"] == "korea"
    lines = {f["properties"]["id"] for f in doc["features"] if f["properties"]["layer"] == "line"}
    zones = {f["properties"]["id"] for f in doc["features"] if f["properties"]["layer"] == "zone"}
    assert lines == {ln.id for ln in demo_scenario.lines}
    assert zones == {z.id for z in demo_scenario.zones}
    assert {r["id"] for r in doc["rules"]} == {r.id for r in demo_scenario.rules}
    assert {p["id"] for p in doc["parties"]} == {p.id for p in demo_scenario.parties}
    kinds = {f["geometry"]["type"] for f in doc["features"]}
    assert kinds <= {"LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def test_openapi_describes_the_routes_and_bearer_auth(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/incidents",
        "/api/v1/scenarios",
        "/api/v1/scenarios/{scenario_id}",
        "/api/v1/kobo",
    } <= set(doc["paths"])
    assert set(doc["paths"]["/api/v1/incidents"]) == {"get", "post"}
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    incident = doc["components"]["schemas"]["Incident"]
    assert incident["properties"]["lat"]["maximum"] == 90
    names = {p["name"] for p in doc["paths"]["/api/v1/incidents"]["get"]["parameters"]}
    assert names >= {
        "since",
        "until",
        "party",
        "zone",
        "verdict",
        "category",
        "verification",
        "source",
        "scenario",
    }
    assert names >= {"cursor", "limit"}
    post = doc["paths"]["/api/v1/incidents"]["post"]
    assert post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchSummary")
    assert post["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert {"401", "403", "413", "429"} <= set(post["responses"])
    refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(doc))
    assert set(refs) <= set(doc["components"]["schemas"])  # every reference resolves


@pytest.mark.parametrize("page", ["/api/v1/docs", "/api/v1/redoc"])
def test_the_interactive_docs_load_every_asset_from_the_api_itself(client, page):
    html = client.get(page).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""", html)
    found = [a or b for a, b in urls]
    assert found, html
    for url in found:
        assert url.startswith("/api/v1/"), url  # nothing from a CDN
        if "openapi" not in url:
            assert client.get(url).status_code == 200, url
    assert "cdn" not in html.lower() and "googleapis" not in html


def test_health_answers_without_a_token(client):
    assert client.get("/api/v1/health").json()["status"] == "ok"


def test_python_m_geo_api_serves_on_the_port_given(api_store, tmp_path):
    import os
    import subprocess
    import sys
    import time

    import httpx

    from tests.api.support import free_port

    port = free_port()
    repo = Path(__file__).resolve().parents[2]
    log = (tmp_path / "api.log").open("wb")
    env = {**os.environ, "TRUCELINE_DB": api_store.dsn}
    process = subprocess.Popen(
        [sys.executable, "-m", "geo", "api", "--port", str(port)], cwd=repo, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.HTTPError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "api.log"
                ).read_text()
                time.sleep(0.2)
        assert answer.json()["status"] == "ok"
        assert (
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json").json()["info"]["title"]
            == "Truceline API"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_forms_map_stores_a_mapping_and_refuses_fields_the_template_lacks(api_store):
    db = api_store.dsn
    code, out, err = run(
        db, "forms", "map", "aForm", "--map", "category=what", "--map", "actor=grp/who", "--geopoint", "gps"
    )
    assert code == 0, err
    assert "aForm" in out
    code, out, _ = run(db, "forms", "list")
    assert json.loads(out) == {
        "form": "aForm",
        "fields": {"category": "what", "actor": "grp/who"},
        "geopoint": "gps",
        "time": "",
        "source": "",
    }
    for bad, message in ((["--map", "colour=c"], "not a template field"), (["--map", "lat=y"], "lat")):
        code, out, err = run(db, "forms", "map", "aForm", *bad)
        assert code == 1 and message in err, err
    code, _, err = run(db, "forms", "map", "bad form id", "--map", "category=what")
    assert code == 1 and "form" in err


def test_a_token_whose_scenario_was_removed_gets_404_not_a_server_error(client, tokens, api_store):
    with api_store.write() as tx:
        tx.execute("DELETE FROM scenarios WHERE scenario_id = 'other'")
    answer = client.post("/api/v1/incidents", json=[], headers=bearer(tokens["other"]))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "unknown_scenario"
