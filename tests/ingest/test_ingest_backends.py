"""The upload pipeline on both backends: CSV uploads, duplicates, rejected rows, undo, reclassify.

Every test runs on SQLite and on a real PostGIS server (the ``store_url`` fixture).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from geo.core.classify import classify
from geo.core.filters import Filters
from geo.io.readers import read_incidents
from geo.services.demo import generate_incidents
from geo.services.ingest import (
    delete_batch,
    ingest_file,
    ingest_frame,
    load_scenario_into_store,
    reclassify,
    scenario_bounds,
)
from tests.ingest.helpers import NOW, store_state, template_text, write_incidents_csv

END = pd.Timestamp("2026-06-20").date()


def _read_back(path, scenario) -> pd.DataFrame:
    """The file as the reader normalises it for this scenario (what ingest must store)."""
    chunks = list(
        read_incidents(
            path,
            party_mapping=scenario.party_mapping,
            parties={p.id for p in scenario.parties},
            bbox=scenario_bounds(scenario),
            now=NOW,
        )
    )
    return pd.concat([c.frame for c in chunks], ignore_index=True)


def test_csv_upload_stores_every_row_with_its_classification(loaded, tmp_path, demo_scenario):
    path = write_incidents_csv(tmp_path / "monitor.csv", 400, seed=5)
    with path.open("a", encoding="utf-8") as f:
        f.write("BAD-1,2026-02-01T10:00:00Z,0,0,artillery_fire,,,,,,,monitor-team-a,placeholder position\n")
        f.write("BAD-2,someday,38.1,127.1,artillery_fire,,,,,,,monitor-team-a,no date\n")
    summary = ingest_file(loaded, path, now=NOW)
    assert (summary.rows_read, summary.accepted, summary.rejected, summary.duplicate) == (402, 400, 2, 0)

    expected = _read_back(path, demo_scenario)
    expected = pd.concat([expected, classify(expected, demo_scenario)], axis=1).set_index("source_event_id")
    view = loaded.query().set_index("source_event_id").loc[expected.index]
    assert list(view["verdict"]) == list(expected["verdict"].astype(str))
    assert list(view["zones"]) == list(expected["zones"].astype(str))
    assert list(view["attributed_party"]) == list(expected["attributed_party"].astype(str))
    np.testing.assert_allclose(view["distance_m"], expected["distance_m"])
    assert (view["occurred_at"] == expected["occurred_at"]).all()
    np.testing.assert_array_equal(view["lat"], expected["lat"])
    assert list(view["description"]) == list(expected["description"])  # Korean text included
    assert view["batch_id"].eq(summary.batch_id).all()
    assert summary.new_breaches == int((expected["verdict"] == "breach").sum())

    # Zone links agree with the stored zones column.
    for zone in ("dmz", "jsa", "nofly-uav"):
        in_zone = expected["zones"].astype(str).str.split(";").map(lambda zs, z=zone: z in zs)
        assert loaded.count(Filters(zones=(zone,))) == int(in_zone.sum())

    rejected = loaded.rejected_rows(summary.batch_id)
    assert rejected["line_no"].tolist() == [402, 403]
    assert rejected["reason"].str.startswith("lat/lon:").iloc[0]
    assert rejected["reason"].str.startswith("occurred_at:").iloc[1]
    assert rejected["raw"].iloc[1].startswith("BAD-2,someday")


def test_duplicates_within_a_chunk_across_chunks_and_across_uploads(loaded, demo_scenario):
    base = generate_incidents(demo_scenario, n=120, end=END, seed=21)
    first = ingest_frame(loaded, base, name="base", chunk_rows=25)
    assert (first.accepted, first.duplicate) == (120, 0)

    fresh = generate_incidents(demo_scenario, n=60, end=END, seed=22)
    # Chunks of 10: some all old, some all new, some mixed; new rows repeated inside a chunk,
    # in a later chunk, and old rows under a new event id (same content: other events, flagged).
    renamed = base.iloc[100:110].assign(source_event_id=lambda f: "RENAMED-" + f["source_event_id"])
    upload = pd.concat(
        [
            base.iloc[:30],
            fresh.iloc[:20],
            fresh.iloc[5:10],
            base.iloc[30:40],
            fresh.iloc[20:60],
            fresh.iloc[:10],
            renamed,
        ],
        ignore_index=True,
    )
    second = ingest_frame(loaded, upload, name="mixed", chunk_rows=10)
    assert second.rows_read == len(upload) == 125
    assert (second.accepted, second.duplicate, second.rejected) == (70, 55, 0)
    assert loaded.count() == 190
    stored = loaded.query(columns=["incident_id", "source_event_id", "batch_id"])
    assert set(stored.loc[stored["batch_id"] == second.batch_id, "source_event_id"]) == set(
        fresh["source_event_id"]
    ) | set(renamed["source_event_id"])
    # Each renamed row is flagged as a look-alike of the row it copies.
    assert second.lookalikes == 10
    ids = stored.set_index("source_event_id")["incident_id"]
    pairs = loaded.links(kind="same_source_lookalike")[["incident_id", "other_id"]]
    assert sorted(map(tuple, pairs.to_numpy().tolist())) == sorted(
        (ids["RENAMED-" + e], ids[e]) for e in base["source_event_id"].iloc[100:110]
    )

    third = ingest_frame(loaded, upload, name="mixed again", chunk_rows=7)
    assert (third.accepted, third.duplicate, third.lookalikes) == (0, 125, 0)
    assert loaded.count() == 190


def test_a_file_read_in_small_chunks_reports_each_and_stores_every_row(loaded, tmp_path):
    path = write_incidents_csv(tmp_path / "chunks.csv", 130, seed=5)
    seen: list[tuple[int, str]] = []
    summary = ingest_file(
        loaded, path, now=NOW, chunk_rows=40, progress=lambda done, _, stage: seen.append((done, stage))
    )
    assert (summary.rows_read, summary.accepted, summary.duplicate) == (130, 130, 0)
    assert [done for done, stage in seen if stage == "stored"] == [40, 80, 120, 130]
    assert loaded.count() == 130
    # One more line end: another file to the digest, the same rows, so every chunk is read and screened.
    again = ingest_file(loaded, path.read_bytes() + b"\n", file_name="again.csv", now=NOW, chunk_rows=7)
    assert (again.accepted, again.duplicate) == (0, 130)


def test_committing_is_the_last_stage_and_comes_before_any_row_is_visible(loaded, loaded_url, tmp_path):
    path = write_incidents_csv(tmp_path / "commit.csv", 50, seed=6)
    seen: list[tuple[int, str, int]] = []

    def progress(done: int, _: int | None, stage: str) -> None:
        # What another connection sees, at each report: only what is committed.
        seen.append((done, stage, store_state(loaded_url).counts["incidents"]))

    summary = ingest_file(loaded, path, now=NOW, chunk_rows=20, progress=progress)
    assert summary.accepted == 50
    assert [stage for _, stage, _ in seen] == ["stored", "stored", "stored", "committing"]
    assert seen[-1] == (50, "committing", 0)
    assert store_state(loaded_url).counts["incidents"] == 50


def test_failed_upload_leaves_the_store_exactly_as_it_was(loaded, loaded_url, tmp_path):
    ingest_file(loaded, write_incidents_csv(tmp_path / "first.csv", 150, seed=1), now=NOW)
    before = store_state(loaded_url)
    path = write_incidents_csv(tmp_path / "second.csv", 200, seed=2)

    def power_cut(done, total, stage):
        if stage == "stored":
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        ingest_file(loaded, path, now=NOW, progress=power_cut)
    assert store_state(loaded_url) == before
    summary = ingest_file(loaded, path, now=NOW)
    assert (summary.accepted, summary.duplicate) == (200, 0)
    assert loaded.count() == 350


def test_undo_then_upload_again(loaded, tmp_path):
    text, _ = template_text(
        [
            {"event_id": "U1", "occurred_at": "2026-05-01T01:00:00Z", "lat": "38.1", "lon": "127.1",
             "category": "artillery_fire", "source": "team-a"},
            {"event_id": "U2", "occurred_at": "2026-05-01T02:00:00Z", "lat": "38.2", "lon": "127.2",
             "category": "construction", "source": "team-a"},
            {"event_id": "U3", "occurred_at": "2026-05-01T02:00:00Z", "lat": "95", "lon": "127.2",
             "category": "construction", "source": "team-a"},
        ]
    )  # fmt: skip
    path = tmp_path / "undo.csv"
    path.write_text(text, encoding="utf-8")
    first = ingest_file(loaded, path, now=NOW)
    assert (first.accepted, first.rejected) == (2, 1)
    generation = loaded.generation()
    assert delete_batch(loaded, first.batch_id) == 2
    assert loaded.count() == 0 and loaded.generation() > generation
    assert loaded.batch(first.batch_id).status == "deleted"
    assert len(loaded.rejected_rows(first.batch_id)) == 1  # the audit trail keeps them
    again = ingest_file(loaded, path, now=NOW)  # undone rows are no longer duplicates
    assert (again.accepted, again.rejected, again.duplicate) == (2, 1, 0)
    assert loaded.count() == 2


def test_reclassify_after_a_csv_upload(loaded, tmp_path, demo_scenario):
    ingest_file(loaded, write_incidents_csv(tmp_path / "m.csv", 300, seed=8), now=NOW)
    breaches = loaded.count(Filters(verdicts=("breach",)))
    in_dmz = loaded.count(Filters(zones=("dmz",)))
    assert breaches > 0 and in_dmz > 0
    result = load_scenario_into_store(loaded, replace(demo_scenario, rules=()))
    assert result.total == 300 and result.changed >= breaches
    assert loaded.count(Filters(verdicts=("breach",))) == 0
    assert loaded.count(Filters(zones=("dmz",))) == in_dmz
    load_scenario_into_store(loaded, demo_scenario)
    assert loaded.count(Filters(verdicts=("breach",))) == breaches
    assert reclassify(loaded).changed == 0


def test_text_that_looks_like_null_stays_text(loaded, tmp_path):
    text, _ = template_text(
        [
            {"event_id": "\\N", "occurred_at": "2026-05-02T01:00:00Z", "lat": "38.1", "lon": "127.1",
             "category": "other", "actor": "NULL", "source": "team-a", "description": "\\N"},
            {"event_id": "N2", "occurred_at": "2026-05-02T02:00:00Z", "lat": "38.1", "lon": "127.1",
             "category": "other", "actor": "\\N", "source": "team-a", "description": '"\\N",\nNULL'},
        ]
    )  # fmt: skip
    path = tmp_path / "nulls.csv"
    path.write_text(text, encoding="utf-8")
    assert ingest_file(loaded, path, now=NOW).accepted == 2
    view = loaded.query(order="incident_id")
    assert view["source_event_id"].tolist() == ["\\N", "N2"]
    assert view["actor"].tolist() == ["NULL", "\\N"]
    assert view["description"].tolist() == ["\\N", '"\\N",\nNULL']
    assert view["fatalities"].isna().all()
