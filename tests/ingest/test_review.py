"""Issue 15 §4: the review queue of possible duplicates; decisions count everywhere, are audited, undo.

Confirming a pair of one source's identical reports lowers the incident count by one in
the counts the pages show and in the exports (CSV groups, PDF and HTML figures); undo
restores it; every decision and undo is in the audit log.
"""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from geo._errors import InputError, NotFoundError, PermissionDeniedError
from geo.cli import cli
from geo.core.auth import Principal
from geo.core.duplicates import count_events
from geo.core.filters import Filters
from geo.services.cache import IncidentCache
from geo.services.exports import export_view
from geo.services.ingest import ingest_file
from geo.services.review import decide, pair_history, review_queue, undo
from tests.ingest.helpers import NOW, template_text

ANA = Principal("ana", "analyst")


def lookalike_records(n: int) -> list[dict[str, str]]:
    """``n`` pairs of one source's identical reports under two ids, each pair at its own place and day."""
    records = []
    for k in range(n):
        content = {
            "source": "team-a",
            "occurred_at": f"2026-05-{1 + k % 28:02d}T{8 + k // 28:02d}:00:00Z",
            "lat": f"{37.90 + k / 500:.4f}",
            "lon": f"{126.90 + k / 500:.4f}",
            "category": "construction",
            "description": f"Trench <b>{k}</b> ${{x}}",
        }
        records += [{**content, "event_id": f"T-{k}"}, {**content, "event_id": f"T-{k}-bis"}]
    return records


@pytest.fixture
def paired(loaded, tmp_path):
    """The demo store with 25 look-alike pairs (50 reports) and one cross-source pair."""
    when = "2026-06-03T08:00:00Z"
    records = [
        *lookalike_records(25),
        {"event_id": "A-1", "source": "acled", "occurred_at": when, "lat": "38.05", "lon": "127.05",
         "category": "artillery_fire", "description": "Shelling"},
        {"event_id": "U-1", "source": "ucdp", "occurred_at": when, "lat": "38.0505", "lon": "127.05",
         "category": "armed_clash", "description": "Clash"},
    ]  # fmt: skip
    path = tmp_path / "pairs.csv"
    path.write_text(template_text(records)[0], encoding="utf-8")
    summary = ingest_file(loaded, path, now=NOW)
    assert (summary.accepted, summary.lookalikes, summary.near_duplicates) == (52, 25, 1)
    return loaded


def ids_of(store) -> dict[str, int]:
    found = store.query(columns=["incident_id", "source_event_id"])
    return dict(zip(found["source_event_id"], found["incident_id"].astype(int), strict=True))


def test_the_queue_pages_through_every_pending_pair_newest_first_with_both_reports(paired):
    first = review_queue(paired, actor=ANA, per_page=10)
    assert (first.status, first.page, first.pages, first.total) == ("pending", 1, 3, 26)
    assert first.counts == {"pending": 26, "confirmed": 0, "rejected": 0}
    seen = []
    for page in (1, 2, 3):
        found = review_queue(paired, actor=ANA, page=page, per_page=10)
        assert len(found.pairs) == (10 if page < 3 else 6)
        seen += list(zip(found.pairs["later_incident_id"], found.pairs["earlier_incident_id"], strict=True))
    assert len(set(seen)) == 26
    assert [a for a, _ in seen] == sorted((a for a, _ in seen), reverse=True)  # newest first
    links = paired.links()
    assert sorted(seen) == sorted(zip(links["incident_id"], links["other_id"], strict=True))
    # Past the last page: the last page.
    assert review_queue(paired, actor=ANA, page=99, per_page=10).page == 3
    ids = ids_of(paired)
    pair = review_queue(paired, actor=ANA, kind="cross_source").pairs.iloc[0]
    assert (pair["earlier_incident_id"], pair["later_incident_id"]) == (ids["A-1"], ids["U-1"])
    assert (pair["earlier_source"], pair["later_source"]) == ("acled", "ucdp")
    assert pair["distance_m"] == pytest.approx(55.6, abs=1.0)
    assert pair["later_description"] == "Clash"
    assert pd.Timestamp(pair["earlier_occurred_at"]) == pd.Timestamp("2026-06-03T08:00:00Z")


def test_the_queue_checks_who_asks_and_what(paired):
    with pytest.raises(PermissionDeniedError):
        review_queue(paired, actor=Principal("vic", "viewer"))
    with pytest.raises(InputError, match="status: must be one of pending, confirmed, rejected, got 'done'"):
        review_queue(paired, actor=ANA, status="done")
    with pytest.raises(InputError, match="per_page: must be 1 to 200"):
        review_queue(paired, actor=ANA, per_page=0)
    with pytest.raises(InputError, match="decision: must be one of same, different"):
        decide(paired, 1, 2, "maybe", actor=ANA)


def csv_events(store) -> int:
    """Incidents in a CSV export: its distinct ``duplicate_group`` values (a row per report)."""
    data = export_view(store, "csv", Filters(), actor=ANA).data
    return pd.read_csv(io.BytesIO(data))["duplicate_group"].nunique()


def pdf_incidents(store) -> int:
    """The "N incidents" figure of a PDF briefing's first page."""
    data = export_view(store, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150).data
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text() or ""
    found = re.search(r"([\d,]+) incidents", " ".join(text.split()))
    assert found, text
    return int(found.group(1).replace(",", ""))


def html_incidents(store) -> int:
    """The "Incidents" figure of a standalone HTML map's caption."""
    html = export_view(store, "html", Filters(), actor=ANA, as_of=NOW).data.decode("utf-8")
    html = html.replace("\\u003c", "<").replace("\\u003e", ">")  # the caption is a JSON string
    found = re.search(r"<th>Incidents</th><td>([\d,]+)", html)
    assert found, "no Incidents row in the caption"
    return int(found.group(1).replace(",", ""))


def counts(store, cache: IncidentCache) -> tuple[int, int, int, int]:
    pages = count_events(cache.snapshot().frame)
    return pages, csv_events(store), pdf_incidents(store), html_incidents(store)


def test_confirming_a_pair_counts_it_once_everywhere_and_undo_restores_it(paired):
    cache = IncidentCache(paired)
    ids = ids_of(paired)
    a, b = ids["T-3"], ids["T-3-bis"]
    before = counts(paired, cache)
    assert before == (51, 51, 51, 51)  # look-alikes count apart until confirmed; the cross-source pair once

    decide(paired, b, a, "same", actor=ANA, note="one trench")
    assert counts(paired, cache) == tuple(n - 1 for n in before)
    assert paired.count() == 52  # nothing deleted
    assert review_queue(paired, actor=ANA).counts == {"pending": 25, "confirmed": 1, "rejected": 0}

    assert undo(paired, a, b, actor=ANA) == "pending"
    assert counts(paired, cache) == before
    link = paired.links(incident_id=a).iloc[0]
    assert (link["status"], link["reviewed_by"], link["note"]) == ("unreviewed", "", "")

    audit = paired.frame(
        "SELECT user_name, action, target, before, after FROM audit_log "
        "WHERE action LIKE 'link_review%' ORDER BY entry_id"
    )
    target = f"incidents {a} and {b}"
    assert audit[["user_name", "action", "target"]].values.tolist() == [
        ["ana", "link_review", target], ["ana", "link_review_undo", target]
    ]  # fmt: skip
    assert json.loads(audit["after"].iloc[0])["status"] == "same_event"
    assert json.loads(audit["after"].iloc[1])["status"] == "unreviewed"


def test_rejecting_a_cross_source_pair_counts_both_and_undo_counts_it_once_again(paired):
    cache = IncidentCache(paired)
    ids = ids_of(paired)
    before = count_events(cache.snapshot().frame)
    decide(paired, ids["A-1"], ids["U-1"], "different", actor=ANA)
    assert count_events(cache.snapshot().frame) == before + 1
    undo(paired, ids["A-1"], ids["U-1"], actor=ANA)
    assert count_events(cache.snapshot().frame) == before


def test_undo_steps_back_through_a_pairs_decisions(paired):
    ids = ids_of(paired)
    a, b = ids["T-0"], ids["T-0-bis"]
    decide(paired, a, b, "same", actor=ANA, note="first look")
    decide(paired, a, b, "different", actor=Principal("ada", "admin"), note="second look")
    assert undo(paired, a, b, actor=ANA) == "confirmed"
    link = paired.links(incident_id=a).iloc[0]
    # The decision undone gives back the one before it, with its reviewer and note.
    assert (link["status"], link["reviewed_by"], link["note"]) == ("same_event", "ana", "first look")
    assert pd.notna(link["reviewed_at"])
    assert undo(paired, a, b, actor=ANA) == "pending"
    with pytest.raises(NotFoundError, match=f"incidents {a} and {b}: no review decision to undo"):
        undo(paired, a, b, actor=ANA)
    history = pair_history(paired, b, a, actor=ANA)
    assert history["action"].tolist() == ["link_review"] * 2 + ["link_review_undo"] * 2
    with pytest.raises(PermissionDeniedError):
        undo(paired, a, b, actor=Principal("vic", "viewer"))


def test_the_command_line_lists_confirms_rejects_and_undoes(paired, loaded_url):
    if not loaded_url.startswith("sqlite"):
        pytest.skip("the command line is tested on the embedded store")
    ids = ids_of(paired)
    a, b = ids["T-1"], ids["T-1-bis"]

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--db", loaded_url, "links", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    listed = run("list", "--per-page", "5")
    assert listed.splitlines()[0] == "26 pending pair(s), page 1 of 6 (26 pending, 0 confirmed, 0 rejected)"
    assert len(listed.splitlines()) == 6
    page = json.loads(run("list", "--json", "--kind", "cross_source"))
    assert (page["total"], page["pairs"][0]["later_source"]) == (1, "ucdp")
    confirmed = run("confirm", str(a), str(b), "--note", "same trench")
    assert confirmed == f"incidents {a} and {b}: the same event\n"
    assert json.loads(run("list", "--json", "--status", "confirmed"))["pairs"][0]["note"] == "same trench"
    assert run("undo", str(b), str(a)) == f"incidents {a} and {b}: back to pending\n"
    assert run("reject", str(a), str(b)) == f"incidents {a} and {b}: different events\n"
    result = CliRunner().invoke(cli, ["--db", loaded_url, "links", "confirm", str(a), str(ids["T-2"])])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: incidents {a} and {ids['T-2']}: not linked"



def test_link_counts_stay_within_their_ceasefire(loaded, tmp_path):
    from geo.services.packs import load_pack

    path = tmp_path / "pairs.csv"
    path.write_text(template_text(lookalike_records(3))[0], encoding="utf-8")
    ingest_file(loaded, path, now=NOW)
    load_pack(loaded, "lebanon-2024", n=10)
    for store in (loaded, loaded.using("lebanon-2024")):
        own = store.links()["status"].value_counts().to_dict()
        assert store.link_counts() == {str(k): int(v) for k, v in own.items()}
    assert sum(loaded.link_counts().values()) >= 3
