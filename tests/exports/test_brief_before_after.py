"""The PDF briefing's before/after page agrees with ``compare``, and says why when it cannot compare."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from geo.cli import cli


def run(db: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('brief-ba') / 'demo.db'}"
    run(db, "demo", "--n", "800", "--days", "60", "--end", "2026-06-30", "--private")
    return db


def page_text(pdf: bytes, heading: str) -> str:
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    found = [t for t in pages if heading in t]
    assert len(found) == 1, [t[:200] for t in pages]
    return found[0]


def test_the_briefing_gives_the_before_after_table_that_compare_computes(
    demo_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "brief.pdf"
    run(
        demo_db,
        "brief",
        "--out",
        str(out),
        "--since",
        "2026-06-23",
        "--verdict",
        "breach",
        "--compare-at",
        "2026-06-02",
    )
    text = page_text(out.read_bytes(), "Before and after the agreement")
    assert "4 weeks before 2026-06-02 (2026-05-05 to 2026-06-02)" in text  # cut to the weeks the data cover
    assert "Only 4 whole weeks follow 2026-06-02" in text
    records = [
        json.loads(line) for line in run(demo_db, "compare", "--at", "2026-06-02", "--json").splitlines()
    ]
    dmz = {r["party"]: r for r in records if r["zone"] == "dmz"}
    north = dmz["north"]
    assert north["before"] > 0  # every verdict counts, whatever the briefing's verdict filter
    row = (
        f"Demilitarized Zone North {north['before'] / 4:.1f}/wk ({north['before']}) "
        f"{north['after'] / 4:.1f}/wk ({north['after']}) {north['rate_ratio']:.2f} "
        f"{north['ci_low']:.2f}–{north['ci_high']:.2f}"
    )
    assert row in text
    assert "Clopper-Pearson" in text


def test_without_a_week_after_the_agreement_the_page_says_why(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "brief.pdf"
    run(demo_db, "brief", "--out", str(out), "--since", "2026-06-23", "--compare-at", "2026-06-28")
    text = page_text(out.read_bytes(), "Before and after the agreement")
    assert "No before/after comparison: compare: at: 2026-06-28 00:00 UTC is less than a week" in text
