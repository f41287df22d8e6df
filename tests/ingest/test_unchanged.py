"""An unchanged re-upload is recognised by its digest, and only when reading it again would agree."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from geo.core.manifest import load_scenario
from geo.io import readers
from geo.services.demo import DEMO_MANIFEST
from geo.services.ingest import delete_batch, ingest_file, load_scenario_into_store
from tests.ingest.helpers import NOW, template_text

A0 = {"event_id": "A0", "occurred_at": "2026-06-01T10:00:00Z", "lat": "37.95", "lon": "126.80",
      "category": "artillery_fire", "source": "team-a", "description": "shelling"}  # fmt: skip
A1 = {**A0, "event_id": "A1", "occurred_at": "2026-06-02T10:00:00Z"}
A2 = {**A0, "event_id": "A2", "occurred_at": "2026-06-03T10:00:00Z"}
BAD = {**A0, "event_id": "BAD", "lat": "95.5"}
LATER = {**A0, "event_id": "LATER", "occurred_at": "2026-07-01T12:00:00Z"}  # 12 h after NOW


def _csv(tmp_path: Path, name: str, records: list[dict[str, str]]) -> Path:
    path = tmp_path / name
    path.write_text(template_text(records)[0], encoding="utf-8")
    return path


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a file fails from here on: only an upload that reads nothing can succeed."""

    def refuse(*args: object, **kwargs: object) -> None:
        msg = "the file was read"
        raise AssertionError(msg)

    monkeypatch.setattr(readers, "detect", refuse)
    monkeypatch.setattr(readers, "read_incidents", refuse)


def test_an_unchanged_file_is_answered_from_its_digest(loaded, tmp_path, request):
    path = _csv(tmp_path, "a.csv", [A0, A1, A1, BAD])
    first = ingest_file(loaded, path, now=NOW)
    assert (first.accepted, first.rejected, first.duplicate) == (2, 1, 1)
    request.getfixturevalue("unreadable")
    again = ingest_file(loaded, path, now=NOW)
    assert (again.rows_read, again.accepted, again.rejected, again.duplicate) == (4, 0, 1, 3)
    assert again.batch_id == first.batch_id + 1 and again.format == "template"
    assert any(f"as batch {first.batch_id}" in w for w in again.warnings), again.warnings
    assert loaded.count() == 2
    kept = loaded.rejected_rows(again.batch_id)
    assert kept.to_dict("records") == loaded.rejected_rows(first.batch_id).to_dict("records")
    batch = loaded.batch(again.batch_id)
    assert (batch.rows_read, batch.accepted, batch.rejected, batch.duplicate) == (4, 0, 1, 3)
    assert batch.upload_key == loaded.batch(first.batch_id).upload_key != ""


def test_the_digest_answers_as_reading_again_would(loaded, tmp_path):
    """The same counts as a full re-read (forced by an option that reads the file the same way)."""
    path = _csv(tmp_path, "a.csv", [A0, A1, A1, BAD, A2])
    ingest_file(loaded, path, now=NOW)
    quick = ingest_file(loaded, path, now=NOW)
    read = ingest_file(loaded, path, now=NOW, encoding="utf-8")
    assert not any("unchanged" in w for w in read.warnings)
    counts = ("rows_read", "accepted", "rejected", "duplicate", "near_duplicates", "lookalikes")
    assert [getattr(quick, c) for c in counts] == [getattr(read, c) for c in counts]
    assert loaded.rejected_rows(quick.batch_id).equals(loaded.rejected_rows(read.batch_id))


def test_an_undone_batch_is_no_match(loaded, tmp_path):
    path = _csv(tmp_path, "a.csv", [A0, A1])
    first = ingest_file(loaded, path, now=NOW)
    delete_batch(loaded, first.batch_id)
    again = ingest_file(loaded, path, now=NOW)
    assert (again.accepted, again.duplicate) == (2, 0)
    assert loaded.count() == 2


def test_an_upload_undone_since_makes_its_rows_new_again(loaded, tmp_path):
    """Rows the batch counted as duplicates of another upload are new once that upload is undone."""
    small = ingest_file(loaded, _csv(tmp_path, "small.csv", [A0, A1]), now=NOW)
    path = _csv(tmp_path, "big.csv", [A0, A1, A2])
    big = ingest_file(loaded, path, now=NOW)
    assert (big.accepted, big.duplicate) == (1, 2)
    delete_batch(loaded, small.batch_id)
    again = ingest_file(loaded, path, now=NOW)
    assert (again.accepted, again.duplicate) == (2, 1)
    assert loaded.count() == 3


def test_rows_of_the_batch_gone_otherwise_are_read_again(loaded, tmp_path):
    path = _csv(tmp_path, "a.csv", [A0, A1, A2])
    first = ingest_file(loaded, path, now=NOW)
    with loaded.write() as tx:
        tx.execute("DELETE FROM incidents WHERE source_event_id = 'A1'")
    again = ingest_file(loaded, path, now=NOW)
    assert (again.accepted, again.duplicate) == (1, 2)
    assert first.accepted == loaded.count() == 3


def test_other_options_or_another_scenario_read_the_file(loaded, tmp_path):
    path = _csv(tmp_path, "a.csv", [{k: v for k, v in A0.items() if k != "source"}])
    first = ingest_file(loaded, path, now=NOW, source_name="team-a")
    other = ingest_file(loaded, path, now=NOW, source_name="team-b")
    assert (first.accepted, other.accepted) == (1, 1)
    load_scenario_into_store(loaded, load_scenario(DEMO_MANIFEST))
    reloaded = ingest_file(loaded, path, now=NOW, source_name="team-a")
    assert (reloaded.accepted, reloaded.duplicate) == (0, 1)
    assert not any("unchanged" in w for w in reloaded.warnings)
    assert any("unchanged" in w for w in ingest_file(loaded, path, now=NOW, source_name="team-a").warnings)


def test_rows_rejected_as_future_are_read_again(loaded, tmp_path):
    """The clock may have reached a row rejected for being in the future: the file is read again."""
    path = _csv(tmp_path, "a.csv", [A0, LATER])
    first = ingest_file(loaded, path, now=NOW)
    assert (first.accepted, first.rejected) == (1, 1)
    assert "in the future" in loaded.rejected_rows(first.batch_id)["reason"].iloc[0]
    later = ingest_file(loaded, path, now=NOW + timedelta(days=1))
    assert (later.accepted, later.rejected, later.duplicate) == (1, 0, 1)
