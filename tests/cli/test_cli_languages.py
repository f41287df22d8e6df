"""The command line in French and Arabic: --lang, TRUCELINE_LANG, LANG; JSON output untouched."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.i18n import language
from geo.services.demo import DEMO_MANIFEST

CLEAN = {"TRUCELINE_LANG": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def run(*args: str, env: dict[str, str | None] | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), env={**CLEAN, **(env or {})}, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('lang') / 'cli.db'}"
    run("--db", db, "demo", "--n", "300", "--days", "30", "--end", "2026-06-30", "--private")
    return db


def test_lang_option_and_environment():
    assert run("scenario", "validate", str(DEMO_MANIFEST)).strip().endswith(": ok")
    assert run("--lang", "fr", "scenario", "validate", str(DEMO_MANIFEST)).strip().endswith(" : conforme")
    assert run("--lang", "ar", "scenario", "validate", str(DEMO_MANIFEST)).strip().endswith(": سليم")
    assert (
        run("scenario", "validate", str(DEMO_MANIFEST), env={"TRUCELINE_LANG": "fr"})
        .strip()
        .endswith("conforme")
    )
    assert (
        run("scenario", "validate", str(DEMO_MANIFEST), env={"LANG": "ar_LB.UTF-8"}).strip().endswith("سليم")
    )
    # The option wins over the environment, and the language ends with the command.
    assert (
        run("--lang", "fr", "scenario", "validate", str(DEMO_MANIFEST), env={"TRUCELINE_LANG": "ar"})
        .strip()
        .endswith("conforme")
    )
    assert language() == "en"


def test_unknown_language_is_refused():
    out = run("--lang", "xx", "scenario", "validate", str(DEMO_MANIFEST), code=2)
    assert "--lang" in out and "'xx'" in out


def test_scenario_show_and_list_in_french(demo_db):
    shown = run("--db", demo_db, "--lang", "fr", "scenario", "show")
    assert "  partie " in shown and "  zone " in shown and "  règle " in shown
    listed = run("--db", demo_db, "--lang", "fr", "scenario", "list")
    assert " incidents " in listed and "synthétiques" in listed
    # JSON is for programs: the same keys and values in every language.
    as_json = json.loads(run("--db", demo_db, "--lang", "ar", "scenario", "list", "--json"))
    assert as_json == json.loads(run("--db", demo_db, "scenario", "list", "--json"))


def test_arabic_brief_from_the_command_line(demo_db, tmp_path):
    out = tmp_path / "brief.pdf"
    said = run("--db", demo_db, "--lang", "ar", "--digits", "arab", "brief", "--out", str(out))
    assert "حادثة" in said and "بايت" in said
    assert any("\u0660" <= c <= "\u0669" for c in said)  # Eastern Arabic digits, as asked
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
        assert "الأرقام الرئيسية" in text and "Key figures" not in text


def test_french_snapshot_and_reclassify(demo_db, tmp_path):
    said = run(
        "--db", demo_db, "--lang", "fr", "snapshot", "--out", str(tmp_path / "map.png"), "--dpi", "150"
    )
    assert " incidents, " in said and " octets " in said
    said = run("--db", demo_db, "--lang", "fr", "reclassify")
    assert "incidents reclassés" in said and "verdicts modifiés" in said


def test_html_export_text_in_french_audit_in_english(demo_db):
    """The standalone map's surrounding text follows ``lang``; the audit log keeps its English record."""
    from geo.core.auth import OPERATOR
    from geo.core.filters import Filters
    from geo.services.exports import export_view
    from geo.store import open_store

    store = open_store(demo_db)
    try:
        french = export_view(store, "html", Filters(), actor=OPERATOR, lang="fr").data.decode("utf-8")
        english = export_view(store, "html", Filters(), actor=OPERATOR).data.decode("utf-8")
        assert "Filtres" in french and "du début à maintenant" in french
        assert "start to now" not in french
        assert "start to now" in english
        audit = store.frame(
            "SELECT after FROM audit_log WHERE action = 'export' ORDER BY entry_id DESC LIMIT 2"
        )
        assert all("start to now" in str(a) for a in audit["after"]), audit
    finally:
        store.close()
    assert language() == "en"
