"""KoboToolbox pushes and ODK Central / Kobo pulls, on recorded real-format payloads served on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.services.forms import FormMapping, set_mapping
from tests.api.conftest import bearer

FORMS = Path(__file__).resolve().parents[1] / "data" / "forms"
KOBO_FORM = "aXb7Kc9sQ2mF4tR8wLpZ1n"
KOBO_MAPPING = FormMapping(
    KOBO_FORM,
    {
        "category": "what_happened",
        "actor": "who",
        "fatalities": "casualties",
        "description": "incident/notes",
    },
    geopoint="location",
    time="when",
)
ODK_MAPPING = FormMapping(
    "ceasefire_report",
    {"category": "report/category", "actor": "report/actor", "description": "notes"},
    time="report/occurred",
    source="team-b",
)


def payload(name: str) -> dict:
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


@contextmanager
def form_server(routes: dict[str, str], *, authorization: str) -> Iterator[tuple[str, list[str]]]:
    """
    Serve recorded answers on 127.0.0.1: ``routes`` maps a path with its query to a file.

    The servers' own hosts in the answers (their paging links) become this server's
    address. A request without the expected ``Authorization`` gets 401, as the real ones.
    """
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if self.headers.get("Authorization") != authorization:
                self.send_response(401)
                self.end_headers()
                return
            name = routes.get(urllib.parse.unquote(self.path))
            if name is None:
                self.send_response(404)
                self.end_headers()
                return
            text = (FORMS / name).read_text(encoding="utf-8")
            for host in ("https://kf.kobotoolbox.org", "https://central.example.org"):
                text = text.replace(host, base)
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            del args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, asked
    finally:
        server.shutdown()
        server.server_close()


def test_a_kobo_rest_submission_becomes_an_incident_with_its_place_time_and_category(
    client, tokens, api_store
):
    korea = api_store.using("korea")
    set_mapping(korea, KOBO_MAPPING)
    answer = client.post(
        "/api/v1/kobo", json=payload("kobo_rest_submission.json"), headers=bearer(tokens["analyst"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    row = korea.query().iloc[0]
    assert (row["lat"], row["lon"]) == (38.3052, 127.5112)
    assert row["location_uncertainty_m"] == pytest.approx(4.8)
    assert row["occurred_at"] == pd.Timestamp("2026-05-01T19:10:00Z")  # 04:10 at +09:00
    assert row["category"] == "artillery_fire" and row["actor"] == "KPA" and row["fatalities"] == 2
    assert (row["source"], row["source_event_id"]) == (f"kobo:{KOBO_FORM}", "219456781")
    assert row["verdict"] == "breach"  # artillery inside the DMZ
    # Kobo retries a post it thinks failed: the same submission adds nothing
    again = client.post(
        "/api/v1/kobo", json=payload("kobo_rest_submission.json"), headers=bearer(tokens["analyst"])
    )
    assert (again.json()["accepted"], again.json()["duplicate"]) == (0, 1)
    assert korea.count() == 1


def test_a_kobo_submission_without_its_time_uses_the_utc_submission_time(client, tokens, api_store):
    korea = api_store.using("korea")
    set_mapping(korea, FormMapping(KOBO_FORM, {"category": "what_happened"}))
    answer = client.post(
        "/api/v1/kobo", json=payload("kobo_rest_submission.json"), headers=bearer(tokens["analyst"])
    )
    assert answer.status_code == 200, answer.text
    row = korea.query().iloc[0]
    assert row["occurred_at"] == pd.Timestamp("2026-05-01T19:22:31Z")
    assert (row["lat"], row["lon"]) == (38.3052, 127.5112)  # from _geolocation


def test_a_kobo_submission_of_an_unmapped_form_or_without_id_is_refused(client, tokens, api_store):
    sub = payload("kobo_rest_submission.json")
    answer = client.post("/api/v1/kobo", json=sub, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0]["field"] == "_xform_id_string"
    set_mapping(api_store.using("other"), KOBO_MAPPING)  # mapped in another scenario only: still refused
    assert client.post("/api/v1/kobo", json=sub, headers=bearer(tokens["analyst"])).status_code == 422
    set_mapping(api_store.using("korea"), KOBO_MAPPING)
    del sub["_id"]
    answer = client.post("/api/v1/kobo", json=sub, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 422 and answer.json()["error"]["problems"][0]["field"] == "_id"
    assert client.post("/api/v1/kobo", json=sub, headers=bearer(tokens["viewer"])).status_code == 403
    assert api_store.using("korea").count() == 0


def _pull(db: str, *args: str, env: dict[str, str]) -> dict:
    result = CliRunner(env=env).invoke(cli, ["--db", db, "pull", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pull_odk_reads_every_page_and_reconciles_an_edit(api_store):
    korea = api_store.using("korea")
    set_mapping(korea, ODK_MAPPING)
    listing = "/v1/projects/7/forms/ceasefire_report.svc/Submissions?$top=1000&$count=true"
    page2 = (
        "/v1/projects/7/forms/ceasefire_report.svc/Submissions?$top=2&$count=true"
        "&$skiptoken=eyJpbnN0YW5jZUlkIjoidXVpZDozZjJlMWQwYy05YjhhLTQ3NjUtYjQzMi0xMGZlZGNiYTk4NzYifQ=="
    )
    env = {"TRUCELINE_ODK_USER": "monitor@example.org", "TRUCELINE_ODK_PASSWORD": "s3cret"}
    auth = "Basic bW9uaXRvckBleGFtcGxlLm9yZzpzM2NyZXQ="
    args = ("odk", "--project", "7", "--form", "ceasefire_report")
    routes = {listing: "odk_submissions_page1.json", page2: "odk_submissions_page2.json"}
    with form_server(routes, authorization=auth) as (base, asked):
        first = _pull(api_store.dsn, *args, "--url", base, env=env)
    assert len(asked) == 2
    assert (first["read"], first["new"], first["edited"], first["upload"]["accepted"]) == (3, 3, 0, 3)
    view = korea.query().set_index("source_event_id")
    mine = view.loc["uuid:85cb9aff-005e-4edd-9739-dc9c1a829c44"]
    assert (mine["lon"], mine["lat"], mine["category"], mine["source"]) == (
        127.1021,
        38.0433,
        "small_arms_fire",
        "team-b",
    )
    assert mine["occurred_at"] == pd.Timestamp("2026-05-02T17:30:00Z")
    assert mine["location_uncertainty_m"] == pytest.approx(6.1)
    incident_id = int(mine["incident_id"])

    with form_server({listing: "odk_submissions_edited.json"}, authorization=auth) as (base, _):
        second = _pull(api_store.dsn, *args, "--url", base, env=env)
        third = _pull(api_store.dsn, *args, "--url", base, env=env)
    assert (second["new"], second["edited"], second["unchanged"]) == (0, 1, 2)
    assert (third["new"], third["edited"], third["unchanged"]) == (0, 0, 3)
    assert korea.count() == 3
    edited = korea.incident(incident_id)
    assert (
        edited["category"] == "artillery_fire"
        and edited["description"] == "Reviewed: it was a mortar, not rifles."
    )
    log = korea.frame(
        "SELECT user_name, action, target, before, after FROM audit_log WHERE action = 'incident_edit'"
    )
    assert len(log) == 1 and log["target"].iloc[0] == f"incident {incident_id}"
    assert json.loads(log["before"].iloc[0])["category"] == "small_arms_fire"
    assert json.loads(log["after"].iloc[0])["category"] == "artillery_fire"


def test_pull_kobo_reads_every_page_and_reconciles_an_edit(api_store):
    korea = api_store.using("korea")
    set_mapping(korea, KOBO_MAPPING)
    data = f"/api/v2/assets/{KOBO_FORM}/data/"
    env = {"TRUCELINE_KOBO_TOKEN": "0123abcd"}
    routes = {
        f"{data}?format=json&limit=1000": "kobo_data_page1.json",
        f"{data}?format=json&limit=1000&start=2": "kobo_data_page2.json",
    }
    args = ("kobo", "--form", KOBO_FORM)
    with form_server(routes, authorization="Token 0123abcd") as (base, _):
        first = _pull(api_store.dsn, *args, "--url", base, env=env)
    assert (first["read"], first["new"], first["upload"]["accepted"]) == (3, 3, 3)
    with form_server(
        {f"{data}?format=json&limit=1000": "kobo_data_edited.json"}, authorization="Token 0123abcd"
    ) as (base, _):
        second = _pull(api_store.dsn, *args, "--url", base, env=env)
    assert (second["new"], second["edited"], second["unchanged"]) == (0, 1, 2)
    row = korea.query().set_index("source_event_id").loc["219456790"]
    assert (row["category"], row["fatalities"], row["lat"], row["lon"]) == (
        "artillery_fire",
        1,
        38.0241,
        127.0422,
    )
    assert korea.count() == 3


def test_a_pull_refused_by_the_server_fails_in_one_line(api_store):
    set_mapping(api_store.using("korea"), KOBO_MAPPING)
    with form_server({}, authorization="Token right") as (base, _):
        result = CliRunner(env={"TRUCELINE_KOBO_TOKEN": "wrong"}).invoke(
            cli, ["--db", api_store.dsn, "pull", "kobo", "--url", base, "--form", KOBO_FORM]
        )
    assert result.exit_code == 1
    assert "401" in result.output and "wrong" not in result.output and "Traceback" not in result.output


def test_a_pushed_submission_pulled_later_is_unchanged_not_an_edit(client, tokens, api_store):
    korea = api_store.using("korea")
    set_mapping(korea, KOBO_MAPPING)
    assert (
        client.post(
            "/api/v1/kobo", json=payload("kobo_rest_submission.json"), headers=bearer(tokens["analyst"])
        ).json()["accepted"]
        == 1
    )
    data = f"/api/v2/assets/{KOBO_FORM}/data/"
    routes = {
        f"{data}?format=json&limit=1000": "kobo_data_page1.json",
        f"{data}?format=json&limit=1000&start=2": "kobo_data_page2.json",
    }
    with form_server(routes, authorization="Token t") as (base, _):
        pulled = _pull(
            api_store.dsn, "kobo", "--form", KOBO_FORM, "--url", base, env={"TRUCELINE_KOBO_TOKEN": "t"}
        )
    assert (pulled["new"], pulled["edited"], pulled["unchanged"]) == (2, 0, 1)
    assert korea.count() == 3
    assert korea.frame("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'incident_edit'")["n"].iloc[0] == 0


def test_a_page_linking_to_another_server_is_not_followed():
    from geo._errors import ReaderError
    from geo.services.forms import kobo_submissions, odk_submissions

    asked: list[tuple[str, dict[str, str]]] = []
    key = "".join(["k", "1"])  # not a real credential

    def fetch(url: str, headers: dict[str, str]) -> dict:
        asked.append((url, headers))
        return {
            "results": [],
            "next": "http://127.0.0.9:9/steal",
            "value": [],
            "@odata.nextLink": "https://elsewhere/x",
        }

    with pytest.raises(ReaderError, match="another server"):
        list(kobo_submissions("http://127.0.0.1:8000", KOBO_FORM, token=key, fetch=fetch))
    with pytest.raises(ReaderError, match="another server"):
        list(odk_submissions("http://127.0.0.1:8000", "7", "f", user="u", password=key, fetch=fetch))
    assert [url.split("/")[2] for url, _ in asked] == ["127.0.0.1:8000", "127.0.0.1:8000"]
