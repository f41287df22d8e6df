"""Evidence on the Incident page: thumbnails, flags, EXIF-free downloads, audited views; access."""

from __future__ import annotations

import io

from PIL import Image

from geo.core.auth import Principal
from geo.services.evidence import add_evidence
from geo.services.settings import set_setting
from geo.store import open_store
from tests.dashboard.support import ANALYST, VIEWER, all_text, app, plain, query, scalar


def photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[306] = "2001:01:01 00:00:00"  # years away from any incident: flagged
    Image.new("RGB", (40, 30), colour).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def attach(url: str, incident: int, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("TRUCELINE_EVIDENCE", str(tmp_path / "evidence"))
    store = open_store(url)
    done = add_evidence(store, incident, photo((10, 120, 200)), file_name="<b>crater</b>.jpg",
                        actor=Principal("ana", "analyst"), note="seen from the road")  # fmt: skip
    store.close()
    return done.sha256


def test_an_analyst_sees_the_thumbnail_flags_and_a_download_without_exif(db, tmp_path, monkeypatch) -> None:
    incident = int(scalar(db, "SELECT MAX(incident_id) FROM incidents"))
    sha = attach(db, incident, tmp_path, monkeypatch)
    at = app(ANALYST, page="incident", query_params={"id": str(incident)})
    assert not at.exception, all_text(at)
    text = plain(all_text(at))
    assert "<b>crater</b>.jpg · image/jpeg" in text
    assert f"SHA-256 {sha} · seen from the road" in text
    assert "Check this file: taken " in text and "before the incident's time (EXIF time)" in text
    assert len(at.get("image")) == 1
    assert query(db, "SELECT action, target FROM audit_log WHERE action = 'evidence_view'") == [
        ("evidence_view", f"incident {incident}")
    ]
    at.run()  # a rerun is not another view
    assert len(query(db, "SELECT 1 FROM audit_log WHERE action = 'evidence_view'")) == 1


def test_viewers_see_evidence_only_where_the_store_allows_it(db, tmp_path, monkeypatch) -> None:
    incident = int(scalar(db, "SELECT MAX(incident_id) FROM incidents"))
    attach(db, incident, tmp_path, monkeypatch)
    at = app(VIEWER, page="incident", query_params={"id": str(incident)})
    assert not at.exception, all_text(at)
    assert "viewers see it only where the store allows it" in plain(all_text(at))
    assert "crater" not in plain(all_text(at))
    store = open_store(db)
    set_setting(store, "evidence_viewers", True)
    store.close()
    at = app(VIEWER, page="incident", query_params={"id": str(incident)})
    assert "<b>crater</b>.jpg" in plain(all_text(at))
    assert not any(f.label == "Attach" for f in at.button)
