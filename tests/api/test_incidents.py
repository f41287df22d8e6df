"""POST and GET /api/v1/incidents: one batch per post, idempotent, atomic; filters and cursor paging."""

from __future__ import annotations

import json
from typing import Any

import pytest

from geo.core.filters import Filters
from geo.services.accounts import audit_entries
from geo.services.audit import verify_audit
from tests.api.conftest import bearer

URL = "/api/v1/incidents"


def incident(i: int, **changes: Any) -> dict[str, Any]:
    """A template incident near the demo line (in the DMZ when ``lat`` is left alone)."""
    return {
        "event_id": f"team-a-{i}",
        "occurred_at": f"2026-05-{1 + i % 28:02d}T04:10:00Z",
        "lat": 38.0 + (i % 50) * 0.0005,
        "lon": 127.0 + (i % 40) * 0.001,
        "category": "artillery_fire",
        "actor": "KPA",
        "source": "team-a",
        **changes,
    }


def stored(store, source: str = "team-a") -> int:
    return int(
        store.scalar(
            "SELECT COUNT(*) FROM incidents WHERE source = ? AND scenario_id = ?", (source, store.scenario_id)
        )
    )


def test_a_post_is_one_batch_with_the_ingest_summary_audited_with_the_token_name(client, tokens, api_store):
    records = [incident(i) for i in range(20)] + [incident(99, occurred_at="2027-01-01")]
    answer = client.post(URL, json=records, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: body[k] for k in ("rows_read", "accepted", "rejected", "duplicate")} == {
        "rows_read": 21,
        "accepted": 20,
        "rejected": 1,
        "duplicate": 0,
    }
    assert set(body) >= {"batch_id", "warnings", "rejected_rows"}
    (row,) = body["rejected_rows"]
    assert row["row"] == 20 and "future" in row["reason"]
    korea = api_store.using("korea")
    assert stored(korea) == 20
    batch = korea.batch(body["batch_id"])
    assert batch.user_name == "token:field-team" and batch.accepted == 20
    log = audit_entries(korea, actor=_admin())
    upload = log[log["action"] == "upload"].iloc[0]
    assert upload["user_name"] == "token:field-team"
    assert verify_audit(api_store).ok


def _admin():
    from geo.core.auth import Principal

    return Principal("auditor", "admin")


def test_posting_the_same_events_again_adds_nothing(client, tokens, api_store):
    records = [incident(i) for i in range(10)]
    first = client.post(URL, json=records, headers=bearer(tokens["analyst"])).json()
    again = client.post(URL, json=records, headers=bearer(tokens["analyst"])).json()
    reordered = client.post(URL, json=records[::-1], headers=bearer(tokens["analyst"])).json()
    assert first["accepted"] == 10
    assert (again["accepted"], again["duplicate"]) == (0, 10)
    assert (reordered["accepted"], reordered["duplicate"]) == (0, 10)
    assert stored(api_store.using("korea")) == 10


def test_a_geojson_feature_collection_is_accepted_with_the_point_as_the_place(client, tokens, api_store):
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [127.01, 38.02]},
            "properties": {k: v for k, v in incident(i).items() if k not in ("lat", "lon")},
        }
        for i in range(3)
    ]
    answer = client.post(
        URL,
        content=json.dumps({"type": "FeatureCollection", "features": features}),
        headers={**bearer(tokens["analyst"]), "Content-Type": "application/geo+json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 3
    view = api_store.using("korea").query()
    assert set(view["lon"].round(6)) == {127.01} and set(view["lat"].round(6)) == {38.02}


def test_a_batch_with_one_bad_row_is_refused_whole_naming_row_and_field(client, tokens, api_store):
    records = [incident(i) for i in range(5)]
    records[3]["lat"] = 91.5
    answer = client.post(URL, json=records, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["problems"] == [{"row": 3, "field": "lat", "problem": "91.5 is out of range: [-90, 90]"}]
    assert "row 3: lat" in error["message"]
    assert stored(api_store.using("korea")) == 0
    assert not api_store.using("korea").batches()


@pytest.mark.parametrize(
    ("body", "status", "field", "row"),
    [
        (b"[{", 400, None, None),
        (b'[{"lat": NaN}]', 400, None, None),
        (b"\xff\xfe", 400, None, None),
        (b'{"not": "a batch"}', 422, "", None),
        (b"[]", 422, "", None),
        (b"[3]", 422, "", 0),
        (b'[{"lat": "north", "lon": 127, "occurred_at": "2026-05-01", "category": "x"}]', 422, "lat", 0),
        (b'[{"lat": 38, "lon": 127, "occurred_at": ["2026"], "category": "x"}]', 422, "occurred_at", 0),
        (b'[{"lat": 38, "lon": 127, "fatalities": true}]', 422, "fatalities", 0),
        (b'[{"lat": 38, "lon": -181}]', 422, "lon", 0),
        (b'[{"lat": 38, "lon": 127, "colour": "red"}]', 422, "colour", 0),
        (b'[{"lon": 127}]', 422, "lat", 0),
    ],
)
def test_bad_bodies_get_a_4xx_naming_what_is_wrong(client, tokens, api_store, body, status, field, row):
    answer = client.post(
        URL, content=body, headers={**bearer(tokens["analyst"]), "Content-Type": "application/json"}
    )
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["status"] == status and error["message"]
    if field is not None:
        assert error["problems"][0]["field"] == field
        assert error["problems"][0]["row"] == row
    assert stored(api_store.using("korea")) == 0


def test_a_feature_that_is_not_a_point_is_refused(client, tokens):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}
        ],
    }
    answer = client.post(URL, json=doc, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"][0] == {
        "row": 0,
        "field": "geometry",
        "problem": "expected a Point with [lon, lat] coordinates",
    }


def test_a_body_over_the_limit_is_refused_with_413(client, tokens, api_store):
    records = [incident(i, description="x" * 9000) for i in range(200)]  # ~1.8 MB > the 1 MB test limit
    answer = client.post(URL, json=records, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"
    assert stored(api_store.using("korea")) == 0


def test_a_body_that_is_not_json_is_refused_with_415(client, tokens):
    answer = client.post(
        URL, content=b"a,b\n1,2\n", headers={**bearer(tokens["analyst"]), "Content-Type": "text/csv"}
    )
    assert answer.status_code == 415


def test_missing_wrong_and_revoked_tokens_get_401(client, tokens, api_store):
    from geo.services.tokens import revoke_token

    assert client.post(URL, json=[incident(1)]).status_code == 401
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get(URL, headers=bearer("tl_not-a-real-token")).status_code == 401
    assert client.get(URL, headers=bearer(tokens["analyst"])).status_code == 200
    revoke_token(api_store, "field-team")
    answer = client.post(URL, json=[incident(1)], headers=bearer(tokens["analyst"]))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["error"]["message"] == "Authorization: unknown or revoked token"
    assert stored(api_store.using("korea")) == 0


def test_a_viewer_token_reads_but_cannot_post(client, tokens, api_store):
    assert client.get(URL, headers=bearer(tokens["viewer"])).status_code == 200
    answer = client.post(URL, json=[incident(1)], headers=bearer(tokens["viewer"]))
    assert answer.status_code == 403
    assert "not allowed to upload" in answer.json()["error"]["message"]
    assert stored(api_store.using("korea")) == 0


def test_a_token_of_one_scenario_cannot_read_or_write_another(client, tokens, api_store):
    other = bearer(tokens["other"])
    posted = client.post(URL, json=[incident(1)], headers=other)
    assert posted.status_code == 200
    assert stored(api_store.using("other")) == 1 and stored(api_store.using("korea")) == 0
    # korea's token sees none of it, and cannot ask for it
    assert client.get(URL, headers=bearer(tokens["analyst"])).json()["features"] == []
    for method, kwargs in (("get", {}), ("post", {"json": [incident(2)]})):
        answer = client.request(
            method.upper(), URL, params={"scenario": "other"}, headers=bearer(tokens["analyst"]), **kwargs
        )
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["problems"][0]["field"] == "scenario"
    assert client.get("/api/v1/scenarios/other", headers=bearer(tokens["analyst"])).status_code == 403
    assert stored(api_store.using("other")) == 1 and stored(api_store.using("korea")) == 0


def test_an_unknown_scenario_is_404_naming_the_field(client, tokens):
    for answer in (
        client.get(URL, params={"scenario": "atlantis"}, headers=bearer(tokens["analyst"])),
        client.post(
            URL, params={"scenario": "atlantis"}, json=[incident(1)], headers=bearer(tokens["analyst"])
        ),
        client.get("/api/v1/scenarios/atlantis", headers=bearer(tokens["analyst"])),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "unknown_scenario"


def test_the_rate_limit_is_per_token(api_store, tokens):
    import httpx

    from geo.api import Limits
    from tests.api.support import live_api

    with (
        live_api(api_store, limits=Limits(rate_per_minute=3)) as live,
        httpx.Client(base_url=live.base) as http,
    ):
        codes = [http.get(URL, headers=bearer(tokens["viewer"])).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = http.get(URL, headers=bearer(tokens["viewer"]))
        assert int(limited.headers["retry-after"]) >= 1
        assert http.get(URL, headers=bearer(tokens["analyst"])).status_code == 200


def test_get_pages_through_every_incident_once_with_the_cli_filters(client, tokens, api_store):
    records = [incident(i, category="artillery_fire" if i % 3 else "small_arms_fire") for i in range(57)]
    records += [incident(i, lat=37.0, event_id=f"far-{i}") for i in range(5)]  # outside every zone
    assert client.post(URL, json=records, headers=bearer(tokens["analyst"])).json()["accepted"] == 62
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 10, "category": "artillery_fire"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(URL, params=params, headers=bearer(tokens["viewer"]))
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("application/geo+json")
        doc = page.json()
        assert doc["type"] == "FeatureCollection"
        seen += [f["properties"]["incident_id"] for f in doc["features"]]
        assert all(f["properties"]["category"] == "artillery_fire" for f in doc["features"])
        pages += 1
        cursor = doc["next_cursor"]
        if cursor is None:
            break
    expected = api_store.using("korea").query(Filters(categories=("artillery_fire",)))
    assert sorted(seen) == sorted(expected["incident_id"].tolist()) and len(seen) == len(set(seen))
    assert pages == -(-len(seen) // 10)
    outside = client.get(
        URL, params={"verdict": "outside_monitored_area"}, headers=bearer(tokens["viewer"])
    ).json()
    assert {f["properties"]["source_event_id"] for f in outside["features"]} == {f"far-{i}" for i in range(5)}
    window = client.get(
        URL, params={"since": "2026-05-02", "until": "2026-05-03"}, headers=bearer(tokens["viewer"])
    )
    days = {f["properties"]["occurred_at"][:10] for f in window.json()["features"]}
    assert days == {"2026-05-02"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday-ish"}, "since"),
        ({"verdict": "guilty"}, "verdict"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "!!"}, "cursor"),
        ({"cursor": "eyJhZnRlciI6ICJ4In0"}, "cursor"),
    ],
)
def test_bad_query_parameters_get_422_naming_them(client, tokens, params, field):
    answer = client.get(URL, params=params, headers=bearer(tokens["viewer"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["problems"][0]["field"] == field
