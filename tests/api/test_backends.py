"""The API's writes on each backend: a posted batch, its repeat, a page, and an edit from a pull."""

from __future__ import annotations

import httpx

from geo.api import Limits
from geo.core.auth import Principal
from geo.services.forms import update_incidents
from geo.services.ingest import load_scenario_into_store
from geo.services.tokens import add_token, revoke_token
from tests.api.support import live_api
from tests.api.test_incidents import incident


def test_posting_paging_and_editing_on_each_backend(store, demo_scenario):
    korea = store.using("korea")
    load_scenario_into_store(korea, demo_scenario)
    secret = add_token(store, "device-1", "analyst", scenario_id="korea")
    headers = {"Authorization": f"Bearer {secret}"}
    records = [incident(i, location_precision="exact") for i in range(30)]
    with (
        live_api(store, limits=Limits(rate_per_minute=600)) as live,
        httpx.Client(base_url=live.base) as http,
    ):
        first = http.post("/api/v1/incidents", json=records, headers=headers).json()
        again = http.post("/api/v1/incidents", json=records, headers=headers).json()
        assert (first["accepted"], again["duplicate"], again["accepted"]) == (30, 30, 0)
        ids, cursor = [], None
        while True:
            page = http.get(
                "/api/v1/incidents",
                params={"limit": 7, **({"cursor": cursor} if cursor else {})},
                headers=headers,
            ).json()
            ids += [f["properties"]["incident_id"] for f in page["features"]]
            if not (cursor := page["next_cursor"]):
                break
        assert sorted(ids) == sorted(korea.query()["incident_id"].tolist()) and len(ids) == 30
        revoke_token(store, "device-1")
        assert http.get("/api/v1/incidents", headers=headers).status_code == 401
    edited = {**records[4], "category": "construction", "description": "corrected"}
    done, problems = update_incidents(korea, [edited], actor=Principal("token:device-1", "analyst"))
    assert (done, problems) == (1, [])
    row = korea.query().set_index("source_event_id").loc["team-a-4"]
    assert (row["category"], row["description"]) == ("construction", "corrected")
    assert row["verdict"] != "breach" or "dmz-entry" in row["rules"]
    zones = korea.frame(
        "SELECT zone_id FROM incident_zones WHERE incident_id = ? ORDER BY zone_id",
        (int(row["incident_id"]),),
    )["zone_id"].tolist()
    assert zones == sorted(str(row["zones"]).split(";"))
    log = korea.frame("SELECT user_name, action FROM audit_log WHERE action = 'incident_edit'")
    assert log.values.tolist() == [["token:device-1", "incident_edit"]]
