"""Several scenarios in one store: loaded side by side, never mixed, each seen only by whom it may be."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from geo._errors import NotFoundError, PermissionDeniedError
from geo.core.auth import OPERATOR, Principal
from geo.core.filters import Filters
from geo.core.trends import counts
from geo.services.accounts import add_user, audit_entries, grant_scenario, scoped_to, visible_scenarios
from geo.services.exports import export_view
from geo.services.ingest import delete_batch, ingest_file, reclassify
from geo.services.packs import load_pack

LEBANON, LIBYA = "lebanon-2024", "libya-2020"


@pytest.fixture
def two(store):
    """Lebanon (149 real + 60 synthetic) and Libya (80 synthetic) in one store."""
    load_pack(store, LEBANON, n=60)
    load_pack(store, LIBYA, n=80)
    return store


def test_two_packs_live_side_by_side_without_mixing(two):
    leb, lby = two.using(LEBANON), two.using(LIBYA)
    assert two.scenario_ids() == [LEBANON, LIBYA]
    assert (leb.count(), lby.count()) == (149 + 60, 80)
    a = set(leb.query(columns=["incident_id"])["incident_id"])
    b = set(lby.query(columns=["incident_id"])["incident_id"])
    assert not a & b
    assert leb.scenario().name.startswith("Lebanon") and lby.scenario().name.startswith("Libya")
    assert set(lby.query(columns=["source"])["source"]) == {"synthetic-libya-2020"}
    assert {b.batch_id for b in leb.batches()}.isdisjoint({b.batch_id for b in lby.batches()})
    # Cache rows, trends and the by-id reads stay in their scenario.
    assert set(leb.compact()["incident_id"]) == a
    assert int(counts(lby.query(), by=("verdict",), freq="week", verdicts=None)["count"].sum()) == 80
    assert int(counts(leb.query(), by=("party",), freq="month", verdicts=None)["count"].sum()) == 209
    with pytest.raises(NotFoundError):
        lby.incident(min(a))
    with pytest.raises(NotFoundError):
        lby.batch(leb.batches()[0].batch_id)
    assert lby.incidents_by_id(sorted(a)).empty


def test_exports_and_audit_count_only_their_scenario(two):
    leb, lby = two.using(LEBANON), two.using(LIBYA)
    csv = export_view(lby, "csv", Filters(), actor=OPERATOR)
    assert csv.rows == 80
    frame = pd.read_csv(io.BytesIO(csv.data))
    assert set(frame["source"]) == {"synthetic-libya-2020"} and set(frame["data_origin"]) == {"synthetic"}
    mixed = pd.read_csv(io.BytesIO(export_view(leb, "csv", Filters(), actor=OPERATOR).data))
    assert mixed["data_origin"].value_counts().to_dict() == {"reported": 149, "synthetic": 60}
    doc = json.loads(export_view(leb, "geojson", Filters(), actor=OPERATOR).data)
    assert doc["truceline_provenance"]["data"] == "mixed" and len(doc["features"]) == 209
    targets_leb = set(audit_entries(leb, actor=OPERATOR)["target"])
    targets_lby = set(audit_entries(lby, actor=OPERATOR)["target"])
    assert any(t.startswith("Lebanon") for t in targets_leb)
    assert not any(t.startswith("Libya") for t in targets_leb)
    assert not any(t.startswith("Lebanon") for t in targets_lby)
    lby_batches = {f"batch {b.batch_id}" for b in lby.batches()}
    assert lby_batches <= targets_lby and not lby_batches & targets_leb


def test_reclassify_and_undo_touch_only_their_scenario(two):
    leb, lby = two.using(LEBANON), two.using(LIBYA)
    before = leb.query(columns=["incident_id", "verdict"])
    assert reclassify(lby).total == 80
    pd.testing.assert_frame_equal(leb.query(columns=["incident_id", "verdict"]), before)
    with pytest.raises(NotFoundError):
        delete_batch(lby, leb.batches()[-1].batch_id)
    assert delete_batch(lby, lby.batches()[0].batch_id) == 80
    assert (leb.count(), lby.count()) == (209, 0)


def test_the_same_event_may_sit_in_two_scenarios(two, tmp_path):
    path = tmp_path / "same.csv"
    path.write_text("event_id,occurred_at,lat,lon,category,source\nE-1,2025-02-01,33.2,35.4,air_strike,team\n",
                    encoding="utf-8")
    assert ingest_file(two.using(LEBANON), path).accepted == 1
    assert ingest_file(two.using(LIBYA), path).accepted == 1  # not a duplicate of Lebanon's
    assert ingest_file(two.using(LIBYA), path).duplicate == 1


def test_a_viewer_bound_to_one_scenario_cannot_reach_the_other(two):
    add_user(two, "leila", "viewer", "a long password 1")
    grant_scenario(two, "leila", LEBANON, "viewer")
    leila = Principal("leila", "viewer")
    assert visible_scenarios(two, leila) == [LEBANON]
    scoped, role = scoped_to(two, leila, None)
    assert scoped.scenario_id == LEBANON and role == leila
    with pytest.raises(PermissionDeniedError, match="leila: not allowed to view scenario 'libya-2020'"):
        scoped_to(two, leila, LIBYA)
    with pytest.raises(NotFoundError):
        scoped_to(two, leila, "korea")
    # Bound with another role elsewhere: the role is the scenario's.
    add_user(two, "omar", "viewer", "a long password 2")
    grant_scenario(two, "omar", LIBYA, "analyst")
    assert scoped_to(two, Principal("omar", "viewer"), LIBYA)[1] == Principal("omar", "analyst")
    # Unbound accounts see every scenario with their own role.
    assert visible_scenarios(two, Principal("sam", "viewer")) == [LEBANON, LIBYA]
