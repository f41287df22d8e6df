"""Issue 9: distinct events are never merged; duplicates are what the source's own id says they are.

- Rows with distinct event ids are distinct events, whatever their content: all accepted;
  identical ones are flagged as look-alikes for review, never dropped.
- The same source and event id is the same event: a re-upload adds nothing.
- Rows without an event id are keyed by their content (party included).
- A reviewer confirms or rejects a link, audited, and counts of incidents follow.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo._errors import InputError, NotFoundError, PermissionDeniedError
from geo.core.auth import Principal
from geo.core.duplicates import count_events
from geo.io.readers.ucdp import COLUMNS as UCDP_COLUMNS
from geo.services.cache import IncidentCache
from geo.services.ingest import ingest_file, set_link_status
from geo.store import open_store
from tests.ingest.helpers import NOW, template_text

CONTENTS = [
    {"occurred_at": "2026-05-01T10:00:00Z", "lat": "38.05", "lon": "127.05", "category": "artillery_fire",
     "actor": "KPA", "fatalities": "1", "description": "Shelling"},
    {"occurred_at": "2026-05-01T10:00:00Z", "lat": "38.05", "lon": "127.05", "category": "artillery_fire",
     "actor": "KPA", "fatalities": "1", "description": "Shelling", "party": "south"},
    {"occurred_at": "2026-05-02", "lat": "37.95", "lon": "126.95", "category": "construction",
     "description": "A new trench"},
]  # fmt: skip
"""A few contents for many rows: most rows of a generated file share their content with another."""


@st.composite
def distinct_id_uploads(draw: st.DrawFn) -> list[dict[str, str]]:
    n = draw(st.integers(1, 25))
    ids = draw(st.lists(st.text("ABCXYZ0123-", min_size=1, max_size=6), min_size=n, max_size=n, unique=True))
    source = draw(st.sampled_from(["ucdp", "team-a", ""]))  # one source: no cross-source matches
    return [{**draw(st.sampled_from(CONTENTS)), "event_id": event_id, "source": source} for event_id in ids]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=distinct_id_uploads())
def test_rows_with_distinct_ids_are_all_accepted_whatever_their_content(records, scenario_db: Path) -> None:
    seen: set[tuple[str, ...]] = set()
    alike = 0
    for r in records:
        key = tuple(sorted((k, v) for k, v in r.items() if k != "event_id"))
        alike += key in seen
        seen.add(key)
    with tempfile.TemporaryDirectory() as tmp:
        db, path = Path(tmp) / "store.db", Path(tmp) / "upload.csv"
        shutil.copyfile(scenario_db, db)
        path.write_text(template_text(records)[0], encoding="utf-8")
        store = open_store(f"sqlite:///{db}")
        try:
            first = ingest_file(store, path, now=NOW)
            n = len(records)
            assert (first.rows_read, first.accepted, first.rejected, first.duplicate) == (n, n, 0, 0)
            assert first.lookalikes == alike == len(store.links(kind="same_source_lookalike"))
            # Look-alikes are separate events until a reviewer says otherwise: each counts.
            assert count_events(IncidentCache(store).snapshot().frame) == len(records)
            again = ingest_file(store, path, now=NOW)
            assert (again.accepted, again.duplicate, again.lookalikes) == (0, len(records), 0)
            assert store.count() == len(records)
        finally:
            store.close()


def ucdp_text(events: list[tuple[str, str, str, str]]) -> str:
    """A UCDP GED CSV of ``events`` (id, latitude, longitude, day), the other columns filled alike."""
    base = dict.fromkeys(UCDP_COLUMNS, "") | {
        "year": "2026", "type_of_violence": "1", "conflict_name": "North - South",
        "dyad_name": "KPA - ROK Army", "side_a": "KPA", "side_b": "ROK Army", "where_prec": "1",
        "where_coordinates": "Hill 351", "date_prec": "1", "best": "1", "low": "1", "high": "1",
        "deaths_b": "1",
    }  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(UCDP_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for event_id, lat, lon, day in events:
        place = {"latitude": lat, "longitude": lon, "date_start": day, "date_end": day}
        writer.writerow(base | place | {"id": event_id})
    return out.getvalue()


def ucdp_events() -> list[tuple[str, str, str, str]]:
    """40 events with distinct ids: 12 at the place and day of an earlier one, with the same deaths."""
    places = [(f"{38 + k / 100:.2f}", f"{127 + k / 100:.2f}", f"2026-04-{k + 1:02d}") for k in range(28)]
    ids = [str(500_000 + k) for k in range(28)] + [str(600_000 + k) for k in range(12)]
    # Separate deaths at the place and day of events 0 to 5: two more each.
    where = places + [places[k % 6] for k in range(12)]
    return [(event_id, *place) for event_id, place in zip(ids, where, strict=True)]


def test_a_ucdp_file_with_distinct_ids_keeps_every_event_and_flags_the_alike(loaded, tmp_path):
    path = tmp_path / "ged.csv"
    path.write_text(ucdp_text(ucdp_events()), encoding="utf-8")
    first = ingest_file(loaded, path, now=NOW)
    assert (first.format, first.rows_read, first.accepted, first.rejected, first.duplicate) == (
        "ucdp", 40, 40, 0, 0,
    )  # fmt: skip
    assert first.lookalikes == 12
    assert any("look exactly like another report from the same source" in w for w in first.warnings)
    links = loaded.links()
    assert set(links["kind"]) == {"same_source_lookalike"} and len(links) == 12
    ids = loaded.query(columns=["incident_id", "source_event_id"]).set_index("source_event_id")["incident_id"]
    # Each is linked to the first event of its place and day.
    expected = sorted((int(ids[str(600_000 + k)]), int(ids[str(500_000 + k % 6)])) for k in range(12))
    assert sorted(map(tuple, links[["incident_id", "other_id"]].to_numpy().tolist())) == expected
    assert count_events(IncidentCache(loaded).snapshot().frame) == 40  # flagged, still counted
    again = ingest_file(loaded, path, now=NOW)
    assert (again.accepted, again.duplicate, again.lookalikes) == (0, 40, 0)
    assert loaded.count() == 40


def test_rows_without_ids_dedupe_by_content_and_party_tells_them_apart(loaded, tmp_path):
    records = [
        {**CONTENTS[0], "source": "team-a"},
        {**CONTENTS[0], "source": "team-a", "verification": "verified"},  # the status is not content
        {**CONTENTS[1], "source": "team-a"},  # differs only in party: another event
        {**CONTENTS[0], "source": "team-b"},  # another source: another report
        {**CONTENTS[2], "source": "team-a"},
        {**CONTENTS[2], "source": "team-a"},
    ]
    path = tmp_path / "no-ids.csv"
    path.write_text(template_text(records)[0], encoding="utf-8")
    first = ingest_file(loaded, path, now=NOW)
    assert (first.rows_read, first.accepted, first.duplicate) == (6, 4, 2)
    stored = loaded.query(columns=["source", "source_event_id", "content_hash", "party"], order="incident_id")
    assert stored["source_event_id"].tolist() == ("sha:" + stored["content_hash"].str[:20]).tolist()
    assert stored[["source", "party"]].values.tolist() == [
        ["team-a", "north"], ["team-a", "south"], ["team-b", "north"], ["team-a", ""]
    ]  # fmt: skip (the scenario maps the actor KPA to the north, unless the row names a party)
    again = ingest_file(loaded, path, now=NOW)
    assert (again.accepted, again.duplicate) == (0, 6)


def test_a_review_is_audited_and_counts_follow(loaded, tmp_path):
    when = "2026-05-03T08:00:00Z"
    records = [
        {"event_id": "A-1", "source": "acled", "occurred_at": when, "lat": "38.05", "lon": "127.05",
         "category": "artillery_fire", "description": "Shelling"},
        {"event_id": "U-1", "source": "ucdp", "occurred_at": when, "lat": "38.0505", "lon": "127.05",
         "category": "armed_clash", "description": "Clash"},
        {"event_id": "A-2", "source": "acled", "occurred_at": "2026-05-04T08:00:00Z", "lat": "37.9",
         "lon": "126.9", "category": "construction", "description": "Trench"},
        {"event_id": "A-3", "source": "acled", "occurred_at": "2026-05-04T08:00:00Z", "lat": "37.9",
         "lon": "126.9", "category": "construction", "description": "Trench"},
    ]  # fmt: skip
    path = tmp_path / "mixed.csv"
    path.write_text(template_text(records)[0], encoding="utf-8")
    summary = ingest_file(loaded, path, now=NOW)
    assert (summary.accepted, summary.near_duplicates, summary.lookalikes) == (4, 1, 1)
    cache = IncidentCache(loaded)
    assert count_events(cache.snapshot().frame) == 3  # the cross-source pair counts once
    ids = loaded.query(columns=["incident_id", "source_event_id"]).set_index("source_event_id")["incident_id"]
    a1, u1, a2, a3 = (int(ids[e]) for e in ("A-1", "U-1", "A-2", "A-3"))

    ana = Principal("ana", "analyst")
    with pytest.raises(PermissionDeniedError):
        set_link_status(loaded, a2, a3, "same_event", actor=Principal("vic", "viewer"))
    with pytest.raises(InputError, match="status: must be one of unreviewed, same_event, different_events"):
        set_link_status(loaded, a2, a3, "maybe", actor=ana)
    with pytest.raises(NotFoundError, match=f"incidents {a1} and {a2}: not linked"):
        set_link_status(loaded, a1, a2, "same_event", actor=ana)

    set_link_status(loaded, a2, a3, "same_event", actor=ana, note="one trench, reported twice")
    assert count_events(cache.snapshot().frame) == 2  # the confirmed look-alikes now count once
    set_link_status(loaded, u1, a1, "different_events", actor=ana, note="another village")
    assert count_events(cache.snapshot().frame) == 3
    assert loaded.query(order="incident_id")["duplicate_group"].tolist() == [a1, u1, a2, a2]
    links = loaded.links().set_index("other_id")
    reviewed = ["same_event", "ana", "one trench, reported twice"]
    assert links.loc[a2, ["status", "reviewed_by", "note"]].tolist() == reviewed
    assert links.loc[a1, ["status", "reviewed_by"]].tolist() == ["different_events", "ana"]
    assert pd.notna(links.loc[a1, "reviewed_at"])
    audit = loaded.frame(
        "SELECT user_name, target FROM audit_log WHERE action = 'link_review' ORDER BY entry_id"
    )
    assert audit[["user_name", "target"]].values.tolist() == [
        ["ana", f"incidents {a2} and {a3}"], ["ana", f"incidents {a1} and {u1}"]
    ]  # fmt: skip
    set_link_status(loaded, a3, a2, "unreviewed", actor=ana)  # either order names the pair
    assert count_events(cache.snapshot().frame) == 4
    assert loaded.links(status="unreviewed")["other_id"].tolist() == [a2]
