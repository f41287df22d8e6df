"""Issue 15 §2 "Briefings": chosen evidence images in the PDF, each with its SHA-256, without EXIF."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from geo._errors import InputError, NotFoundError, PermissionDeniedError
from geo.cli import cli
from geo.core.auth import Principal
from geo.core.filters import Filters
from geo.services.evidence import add_evidence, read_exif
from geo.services.exports import export_view
from geo.services.settings import set_setting
from tests.ingest.helpers import NOW
from tests.ingest.test_evidence import incident, jpeg  # noqa: F401  (the fixture)

ANA = Principal("ana", "analyst")
VIC = Principal("vic", "viewer")
POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdfimages") is not None


def pdf_text(path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    return " ".join(out.stdout.split())


@pytest.mark.skipif(not POPPLER, reason="pdftotext and pdfimages (poppler-utils) are not installed")
def test_the_briefing_prints_chosen_images_with_their_hash_and_no_exif(incident, tmp_path):  # noqa: F811
    store, iid = incident
    photo = jpeg(38.66, 127.05, "2026:06:28 08:00:00")  # 40 km off: flagged
    assert read_exif(photo)[1] is not None and b"Exif" in photo
    done = add_evidence(store, iid, photo, file_name="crater.jpg", actor=ANA, note="crater north of the post")
    pdf = export_view(store, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150, evidence=[done.sha256.upper()])
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf.data)
    text = pdf_text(path)
    assert f"SHA-256 (file as attached): {done.sha256}" in text
    assert f"Incident {iid} · crater.jpg · crater north of the post" in text
    assert "Printed without its EXIF metadata (location privacy); SHA-256 of this copy:" in text
    assert f"EXIF check: incident {iid}: taken 40.0 km from the incident's location" in text
    assert "Place names © GeoNames (CC BY 4.0)" in text  # the map page credits the places it shows
    # the embedded image: pdfimages writes JPEGs as they are stored in the PDF
    folder = tmp_path / "img"
    folder.mkdir()
    subprocess.run(["pdfimages", "-all", str(path), str(folder / "i")], check=True)
    jpegs = [p.read_bytes() for p in sorted(folder.glob("*.jpg"))]
    assert len(jpegs) == 1
    embedded = jpegs[0]
    assert b"Exif" not in embedded and read_exif(embedded) == (None, None, None)
    copy_sha = hashlib.sha256(embedded).hexdigest()
    assert copy_sha != done.sha256 and copy_sha in text
    audit = store.frame("SELECT target, after FROM audit_log WHERE action = 'evidence_get'")
    assert audit["target"].tolist() == [f"evidence {done.sha256}"]
    assert '"briefing"' in audit["after"].iloc[0]


def test_only_images_the_exporter_may_see(incident):  # noqa: F811
    store, iid = incident
    photo = add_evidence(store, iid, jpeg(38.3, 127.05, "2026:06:28 08:00:00"), file_name="p.jpg", actor=ANA)
    notes = add_evidence(store, iid, b"what the witness said\n", file_name="w.txt", actor=ANA)
    with pytest.raises(PermissionDeniedError, match="evidence_viewers"):
        export_view(store, "pdf", Filters(), actor=VIC, as_of=NOW, dpi=150, evidence=[photo.sha256])
    with pytest.raises(InputError, match=r"^evidence [0-9a-f]{64}: text/plain is not an image"):
        export_view(store, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150, evidence=[notes.sha256])
    with pytest.raises(InputError, match="not a SHA-256"):
        export_view(store, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150, evidence=["abc"])
    with pytest.raises(NotFoundError):
        export_view(store, "pdf", Filters(), actor=ANA, as_of=NOW, dpi=150, evidence=["0" * 64])
    with pytest.raises(InputError, match="only a PDF briefing"):
        export_view(store, "png", Filters(), actor=ANA, as_of=NOW, dpi=150, evidence=[photo.sha256])
    assert store.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'evidence_get'") == 0
    set_setting(store, "evidence_viewers", True)
    pdf = export_view(store, "pdf", Filters(), actor=VIC, as_of=NOW, dpi=150, evidence=[photo.sha256])
    assert pdf.data.startswith(b"%PDF")
    assert store.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'evidence_get'") == 1


@pytest.mark.skipif(not POPPLER, reason="pdftotext (poppler-utils) is not installed")
def test_the_command_line_prints_evidence_in_the_briefing(incident, loaded_url, tmp_path):  # noqa: F811
    if not loaded_url.startswith("sqlite"):
        pytest.skip("the command line is tested on the embedded store")
    store, iid = incident
    done = add_evidence(store, iid, jpeg(38.3, 127.05, "2026:06:28 08:00:00"), file_name="p.jpg", actor=ANA)
    out = tmp_path / "b.pdf"
    args = ["--db", loaded_url, "brief", "--out", str(out), "--evidence", done.sha256]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"SHA-256 (file as attached): {done.sha256}" in pdf_text(out)
    refused = CliRunner().invoke(cli, ["--db", loaded_url, "brief", "--out", str(out), "--evidence", "xyz"])
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
