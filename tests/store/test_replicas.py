"""Several dashboard processes on one store: each one's incident cache catches up at its next refresh.

Each "process" here is what a dashboard process holds: its own store connections and its own
in-memory incident cache. One of them (or the CLI) writes; the other's next snapshot must show
the upload, the undo, the verification change or the scenario edit, with no message between
them: the store's generation and highest id are the only signal (see geo.services.cache).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from geo.services.cache import IncidentCache
from geo.services.ingest import delete_batch, ingest_frame, load_scenario_into_store, set_verification
from geo.store import open_store
from tests.dashboard.support import demo_scenario, incidents
from tests.ingest.helpers import NOW


@pytest.fixture
def replicas(store_url):
    """Two processes' views of one store: (store, cache) each."""
    first = open_store(store_url)
    load_scenario_into_store(first, demo_scenario())
    ingest_frame(first, incidents(demo_scenario(), pd.Timestamp(NOW), n=120), name="seed.csv")
    second = open_store(store_url)
    pair = [(first, IncidentCache(first, persist=False)), (second, IncidentCache(second, persist=False))]
    for _, cache in pair:
        cache.snapshot()
    yield pair
    first.close()
    second.close()


def frame(cache: IncidentCache) -> pd.DataFrame:
    return cache.snapshot().frame.set_index("incident_id").sort_index()


def test_an_upload_undo_verification_and_scenario_edit_reach_the_other_process(replicas):
    (writer, mine), (_, theirs) = replicas
    before = len(frame(theirs))
    scenario = demo_scenario()

    # An upload through the other process (or the CLI) ...
    more = incidents(scenario, pd.Timestamp(NOW), n=60, seed=9)
    summary = ingest_frame(writer, more, name="more.csv")
    assert len(frame(theirs)) == before + summary.accepted
    assert frame(theirs).equals(frame(mine))

    # ... a verification change ...
    target = int(frame(theirs).index[0])
    set_verification(writer, target, "verified")
    assert frame(theirs).loc[target, "verification"] == "verified"

    # ... a scenario edit that changes verdicts (every rule dropped: nothing is a breach) ...
    assert (frame(theirs)["verdict"] == "breach").any()
    load_scenario_into_store(writer, dataclasses.replace(scenario, rules=()))
    assert not (frame(theirs)["verdict"] == "breach").any()
    assert frame(theirs)["verdict"].astype(str).tolist() == frame(mine)["verdict"].astype(str).tolist()

    # ... and an undo.
    assert delete_batch(writer, summary.batch_id) == summary.accepted
    assert len(frame(theirs)) == before
    assert frame(theirs).index.equals(frame(mine).index)


def test_the_scenario_the_other_process_reads_is_the_edited_one(replicas):
    (writer, _), (reader, _) = replicas
    generation = reader.generation()
    load_scenario_into_store(writer, dataclasses.replace(demo_scenario(), rules=()))
    assert reader.generation() > generation  # what the dashboard keys its scenario cache on
    assert reader.scenario().rules == ()
