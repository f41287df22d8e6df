"""Issue 15 §2: evidence round trip, stored once, limits, EXIF checks, EXIF-free copies, access, audit."""

from __future__ import annotations

import hashlib
import io
import json
from fractions import Fraction

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from geo._errors import InputError, NotFoundError, PermissionDeniedError, StoreError
from geo.cli import cli
from geo.core.auth import Principal
from geo.services.evidence import (
    add_evidence,
    detect_type,
    evidence_dir,
    get_evidence,
    list_evidence,
    read_exif,
    shareable_copy,
)
from geo.services.ingest import ingest_file
from geo.services.settings import set_setting
from tests.ingest.helpers import NOW, template_text

ANA = Principal("ana", "analyst")
VIC = Principal("vic", "viewer")


def jpeg(lat: float, lon: float, when: str) -> bytes:
    """A small JPEG whose EXIF says it was taken at ``lat``, ``lon``, ``when`` (``YYYY:MM:DD HH:MM:SS``)."""
    img = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[306] = when
    exif.get_ifd(0x8769)[36867] = when

    def dms(v: float) -> tuple[Fraction, Fraction, Fraction]:
        v = abs(v)
        d, m = int(v), int((abs(v) - int(v)) * 60)
        return Fraction(d), Fraction(m), Fraction((v - d) * 3600 - m * 60).limit_denominator(10_000)

    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), dms(lat)
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), dms(lon)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def incident(loaded, tmp_path, monkeypatch) -> tuple[object, int]:
    monkeypatch.setenv("TRUCELINE_EVIDENCE", str(tmp_path / "evidence"))
    records = [
        {"event_id": "E-1", "occurred_at": "2026-06-28T08:00:00Z", "lat": "38.3", "lon": "127.05",
         "category": "artillery_fire", "location_precision": "exact", "description": "Shelling"}
    ]  # fmt: skip
    path = tmp_path / "one.csv"
    path.write_text(template_text(records)[0], encoding="utf-8")
    ingest_file(loaded, path, now=NOW)
    return loaded, int(loaded.query(columns=["incident_id"])["incident_id"].iloc[0])


def test_attach_list_get_round_trip_stores_a_file_once(incident):
    store, iid = incident
    photo = jpeg(38.3001, 127.0502, "2026:06:28 08:10:00")
    digest = hashlib.sha256(photo).hexdigest()
    first = add_evidence(store, iid, photo, file_name="shell.jpg", actor=ANA, note="crater")
    again = add_evidence(store, iid, photo, file_name="copy of shell.jpg", actor=ANA)
    assert (first.sha256, first.media_type, first.stored, first.flags) == (digest, "image/jpeg", True, ())
    assert again.stored is False
    files = list(evidence_dir(store).rglob("*.bin"))
    assert [f.name for f in files] == [f"{digest}.bin"]  # stored once
    listed = list_evidence(store, iid, actor=ANA)
    shown = listed[["sha256", "file_name", "note", "flags"]].values.tolist()
    assert shown == [[digest, "shell.jpg", "crater", ""]]
    data, kind = get_evidence(store, digest, actor=ANA)
    assert hashlib.sha256(data).hexdigest() == digest and kind == "image/jpeg"
    audit = store.frame("SELECT action FROM audit_log WHERE action LIKE 'evidence%' ORDER BY entry_id")
    assert audit["action"].tolist() == ["evidence_add", "evidence_add", "evidence_view", "evidence_get"]


def test_a_photo_taken_far_away_or_days_later_is_flagged(incident):
    store, iid = incident
    far = add_evidence(store, iid, jpeg(38.66, 127.05, "2026:06:28 08:00:00"), file_name="far.jpg", actor=ANA)
    assert len(far.flags) == 1 and far.flags[0].startswith("taken 40.0 km from the incident's location")
    later = jpeg(38.3, 127.05, "2026:07:01 08:00:00")
    late = add_evidence(store, iid, later, file_name="late.jpg", actor=ANA)
    assert late.flags == ("taken 3.0 days after the incident's time (EXIF time)",)
    flags = list_evidence(store, iid, actor=ANA, audit=False).set_index("file_name")["flags"]
    assert flags["far.jpg"].startswith("taken 40.0 km")
    assert flags["late.jpg"].startswith("taken 3.0 days after")


def test_copies_that_leave_the_system_have_no_exif(incident):
    store, iid = incident
    photo = jpeg(38.3, 127.05, "2026:06:28 08:00:00")
    done = add_evidence(store, iid, photo, file_name="p.jpg", actor=ANA)
    copy, kind = shareable_copy(store, done.sha256, actor=ANA)
    assert kind == "image/jpeg"
    assert read_exif(photo)[1] is not None
    assert read_exif(copy) == (None, None, None) and b"Exif" not in copy
    assert Image.open(io.BytesIO(copy)).size == (32, 24)


def test_limits_types_and_access(incident, monkeypatch):
    store, iid = incident
    monkeypatch.setenv("TRUCELINE_EVIDENCE_MAX_MB", "0.001")
    with pytest.raises(InputError, match=r"^big\.pdf: 1,001 bytes is over the evidence limit of 1,000 bytes"):
        add_evidence(store, iid, b"%PDF-" + b"x" * 996, file_name="big.pdf", actor=ANA)
    monkeypatch.delenv("TRUCELINE_EVIDENCE_MAX_MB")
    with pytest.raises(InputError, match=r"^photo\.jpg: refused type \(evidence may be image/jpeg"):
        add_evidence(store, iid, b"PK\x03\x04 a zip named like a photo", file_name="photo.jpg", actor=ANA)
    assert detect_type(b"plain notes\n") == "text/plain" and detect_type(b"\x00\x01") is None
    with pytest.raises(PermissionDeniedError):
        add_evidence(store, iid, b"notes", file_name="n.txt", actor=VIC)
    done = add_evidence(store, iid, b"notes", file_name="n.txt", actor=ANA)
    with pytest.raises(PermissionDeniedError, match="evidence_viewers"):
        list_evidence(store, iid, actor=VIC)
    set_setting(store, "evidence_viewers", True)
    assert list_evidence(store, iid, actor=VIC)["sha256"].tolist() == [done.sha256]
    with pytest.raises(NotFoundError):
        get_evidence(store, "0" * 64, actor=ANA)
    stored = next(evidence_dir(store).rglob(f"{done.sha256}.bin"))
    stored.write_bytes(b"tampered")
    with pytest.raises(StoreError, match="evidence file altered"):
        get_evidence(store, done.sha256, actor=ANA)


def test_the_command_line_adds_lists_and_gets(incident, loaded_url, tmp_path):
    if not loaded_url.startswith("sqlite"):
        pytest.skip("the command line is tested on the embedded store")
    iid = incident[1]
    photo = tmp_path / "far.jpg"
    photo.write_bytes(jpeg(38.66, 127.05, "2026:06:28 08:00:00"))
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    runner = CliRunner()

    def run(*args: str) -> object:
        return runner.invoke(cli, ["--db", loaded_url, "evidence", *args])

    added = run("add", str(iid), str(photo), "--note", "from a resident")
    assert added.exit_code == 0, added.output
    assert f"{digest} image/jpeg" in added.output and "flagged: taken 40.0 km" in added.output
    listed = json.loads(run("list", str(iid), "--json").output)
    assert [r["sha256"] for r in listed] == [digest] and listed[0]["flags"].startswith("taken 40.0 km")
    out = tmp_path / "got.jpg"
    assert run("get", digest, "--out", str(out)).exit_code == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    stripped = tmp_path / "shared.jpg"
    assert "(EXIF removed)" in run("get", digest, "--out", str(stripped), "--strip").output
    assert read_exif(stripped.read_bytes()) == (None, None, None)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02")
    refused = run("add", str(iid), str(junk))
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert refused.output.startswith("Error: junk.bin: refused type")
    assert pd.Timestamp(listed[0]["added_at"]).year == 2026


def test_another_ceasefire_cannot_read_this_ones_evidence(incident):
    from geo.services.packs import load_pack

    store, iid = incident
    photo = jpeg(38.3001, 127.0502, "2026:06:28 08:10:00")
    digest = add_evidence(store, iid, photo, file_name="shell.jpg", actor=ANA).sha256
    load_pack(store, "lebanon-2024", n=10)
    other = store.using("lebanon-2024")
    with pytest.raises(NotFoundError, match="not found"):
        get_evidence(other, digest, actor=ANA)
    assert get_evidence(store, digest, actor=ANA)[0] == photo
