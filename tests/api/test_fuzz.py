"""Fuzzed bodies (hypothesis) never make the API answer 500: any JSON, template-shaped junk, raw bytes."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.services.intake import FIELDS
from tests.api.conftest import bearer

TEXT = st.text(max_size=30) | st.text(
    st.characters(codec=None, categories=None), max_size=5
)  # lone surrogates too
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
VALUES = (
    SCALARS
    | st.sampled_from(
        ["2026-05-01", "2026-05-01T04:10:00Z", "38.01", "127", "artillery_fire", "", "=1+1", "\x00"]
    )
    | st.lists(SCALARS, max_size=2)
)
RECORD = st.dictionaries(st.sampled_from(FIELDS) | TEXT, VALUES, max_size=8)
BATCH = st.lists(RECORD, max_size=5)
FEATURES = st.builds(
    lambda feats: {"type": "FeatureCollection", "features": feats},
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["Feature", "feature", 3]),
                "geometry": JSON | st.builds(lambda c: {"type": "Point", "coordinates": c}, JSON),
                "properties": RECORD | JSON,
            }
        ),
        max_size=3,
    ),
)
KOBO = st.fixed_dictionaries(
    {"_id": JSON, "_xform_id_string": st.sampled_from(["aForm", "", "x" * 200]) | JSON},
    optional={"_geolocation": JSON, "_submission_time": JSON, "what": JSON},
)


def _check(answer: httpx.Response) -> None:
    assert answer.status_code < 500, answer.text
    body = answer.json()
    if answer.status_code >= 400:
        assert body["error"]["status"] == answer.status_code and body["error"]["message"]


@pytest.fixture
def fuzz_client(api, tokens):
    with httpx.Client(base_url=api.base, timeout=60, headers=bearer(tokens["analyst"])) as http:
        yield http


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | BATCH | FEATURES)
def test_fuzzed_json_bodies_never_give_a_500(fuzz_client, body):
    text = json.dumps(body, allow_nan=True)  # NaN and Infinity too: not JSON, refused with 400
    answer = fuzz_client.post("/api/v1/incidents", content=text, headers={"Content-Type": "application/json"})
    _check(answer)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200))
def test_fuzzed_bytes_never_give_a_500(fuzz_client, body):
    answer = fuzz_client.post("/api/v1/incidents", content=body, headers={"Content-Type": "application/json"})
    _check(answer)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=KOBO | JSON)
def test_fuzzed_kobo_submissions_never_give_a_500(fuzz_client, body):
    answer = fuzz_client.post(
        "/api/v1/kobo", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    _check(answer)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["since", "until", "party", "zone", "verdict", "limit", "cursor", "scenario", "category"]
        ),
        st.text(max_size=20),
        max_size=4,
    )
)
def test_fuzzed_query_parameters_never_give_a_500(fuzz_client, params):
    _check(fuzz_client.get("/api/v1/incidents", params=params))
