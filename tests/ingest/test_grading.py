"""Issue 15 §3: graded reports, the "at least B2" filter, and breaches that rest only on weak sources.

A breach whose only reports (itself and the reports linked to it as one event) are graded
E/F or 5/6 keeps its verdict and carries the note "unconfirmed source": in store views and
the cache alike (both backends), the CSV export's ``verdict_note`` column and the PDF
briefing's key figures. Grades are set with an audit entry; the filter agrees in SQL and
in memory.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from geo._errors import InputError, PermissionDeniedError
from geo.cli import cli
from geo.core.auth import Principal
from geo.core.filters import Filters
from geo.core.grading import UNCONFIRMED
from geo.services.cache import IncidentCache
from geo.services.exports import export_view
from geo.services.ingest import ingest_file, set_grading
from geo.services.review import decide
from tests.ingest.helpers import NOW, TEMPLATE_COLUMNS, template_text

ANA = Principal("ana", "analyst")
WHEN = "2026-06-28T08:00:00Z"


def record(event_id: str, lat: float, lon: float, source: str, grade: str) -> dict[str, str]:
    """An artillery report on the north's side of the demo line, inside its no-drill zone: a breach."""
    return {
        "event_id": event_id, "occurred_at": WHEN, "lat": f"{lat}", "lon": f"{lon}",
        "category": "artillery_fire", "party": "north", "location_precision": "exact", "source": source,
        "description": event_id, "source_reliability": grade[:1], "info_credibility": grade[1:],
    }  # fmt: skip


@pytest.fixture
def graded(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr("tests.ingest.helpers.TEMPLATE_COLUMNS", (*TEMPLATE_COLUMNS, "source_reliability",
                                                                  "info_credibility"))  # fmt: skip
    records = [
        record("W1", 38.30, 127.05, "team-a", "E5"),  # weak and alone
        record("U1", 38.31, 127.08, "team-a", ""),  # ungraded
        record("S1", 38.32, 127.11, "team-a", "B2"),  # strong
        record("X1", 38.29, 127.14, "team-a", "F6"),  # weak, but another source's strong report of it
        record("X2", 38.2902, 127.14, "team-b", "A1"),
    ]
    path = tmp_path / "graded.csv"
    path.write_text(template_text(records)[0], encoding="utf-8")
    summary = ingest_file(loaded, path, now=NOW)
    assert (summary.accepted, summary.near_duplicates) == (5, 1)
    return loaded


def by_event(store, filters: Filters | None = None) -> pd.DataFrame:
    return store.query(filters).set_index("source_event_id").sort_index()


def test_a_breach_on_weak_sources_only_is_noted_in_store_views_and_the_cache(graded):
    view = by_event(graded)
    assert (view["verdict"] == "breach").all()  # the verdicts themselves are unchanged
    assert view["verdict_note"].to_dict() == {"S1": "", "U1": "", "W1": UNCONFIRMED, "X1": "", "X2": ""}
    cache = IncidentCache(graded).snapshot().frame.set_index("incident_id")
    ids = view["incident_id"]
    assert cache.loc[ids, "verdict_note"].astype(str).tolist() == view["verdict_note"].tolist()
    # Found to be different events, X1 stands alone on weak sources: noted in both.
    decide(graded, int(ids["X1"]), int(ids["X2"]), "different", actor=ANA)
    assert by_event(graded).at["X1", "verdict_note"] == UNCONFIRMED
    cache = IncidentCache(graded).snapshot().frame.set_index("incident_id")
    assert cache.at[int(ids["X1"]), "verdict_note"] == UNCONFIRMED


def test_the_grade_filter_agrees_in_the_store_and_in_memory(graded):
    for threshold, expected in (("B2", {"S1", "X2"}), ("A1", {"X2"}), ("E5", {"S1", "W1", "X2"}),
                                ("F6", {"S1", "W1", "X1", "X2"})):  # fmt: skip
        filters = Filters(grade=threshold)
        assert set(by_event(graded, filters).index) == expected, threshold
        assert graded.count(filters) == len(expected)
        cache = IncidentCache(graded).snapshot().frame
        assert len(filters.apply(cache)) == len(expected)


def test_grades_are_set_with_an_audit_entry_and_the_note_follows(graded):
    w1 = int(by_event(graded).at["W1", "incident_id"])
    cache = IncidentCache(graded)
    with pytest.raises(PermissionDeniedError):
        set_grading(graded, w1, "B", "2", actor=Principal("vic", "viewer"))
    with pytest.raises(InputError, match=r"incident \d+: source_reliability: must be one of A, B, C"):
        set_grading(graded, w1, "G", "2", actor=ANA)
    set_grading(graded, w1, "b", "2", actor=ANA, note="second team saw it")
    now = by_event(graded).loc["W1"]
    assert [now["source_reliability"], now["info_credibility"], now["verdict_note"]] == ["B", "2", ""]
    assert cache.snapshot().frame.set_index("incident_id").at[w1, "verdict_note"] == ""
    audit = graded.frame("SELECT user_name, target, before, after FROM audit_log WHERE action = 'grading'")
    assert audit[["user_name", "target"]].values.tolist() == [["ana", f"incident {w1}"]]
    assert json.loads(audit["before"].iloc[0]) == {"source_reliability": "E", "info_credibility": "5"}
    assert json.loads(audit["after"].iloc[0])["note"] == "second team saw it"


def test_exports_carry_the_note(graded):
    data = export_view(graded, "csv", Filters(), actor=ANA).data
    csv = pd.read_csv(io.BytesIO(data), keep_default_na=False).set_index("event_id")
    assert csv.loc["W1", ["verdict", "verdict_note", "source_reliability", "info_credibility"]].tolist() == [
        "breach", UNCONFIRMED, "E", "5"
    ]  # fmt: skip
    assert (csv.drop(index="W1")["verdict_note"] == "").all()
    pdf = export_view(graded, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150).data
    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert "(1 of the breaches from unconfirmed sources only)" in pages[0]
    figures = next(p for p in pages if "Key figures" in p)
    assert 'Of the 4 breaches of the period, 1 is shown as "breach (unconfirmed source)"' in figures
    assert "(unconfirmed source)" in " ".join(pages[2:])  # the breach table


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdftotext_reads_unconfirmed_source_in_the_briefing(graded, tmp_path):
    path = tmp_path / "brief.pdf"
    path.write_bytes(export_view(graded, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150).data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "(1 of the breaches from unconfirmed sources only)" in flat
    assert 'Of the 4 breaches of the period, 1 is shown as "breach (unconfirmed source)"' in flat


def test_the_command_line_filters_by_grade(graded, loaded_url, tmp_path):
    if not loaded_url.startswith("sqlite"):
        pytest.skip("the command line is tested on the embedded store")
    out = tmp_path / "b2.csv"
    result = CliRunner().invoke(cli, ["--db", loaded_url, "export", "--format", "csv", "--out", str(out),
                                      "--grade", "b2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "graded at least B2" in result.output
    assert sorted(pd.read_csv(out)["event_id"]) == ["S1", "X2"]
    bad = CliRunner().invoke(cli, ["--db", loaded_url, "export", "--format", "csv", "--out", str(out),
                                   "--grade", "B9"])  # fmt: skip
    assert bad.exit_code == 2 and "'B9' is not a grade such as B2" in bad.output
