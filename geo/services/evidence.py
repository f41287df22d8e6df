"""Evidence attached to incidents: files kept by their SHA-256, checked, audited, and shared without EXIF.

- **Storage.** A file is stored once, however often it is attached, under its SHA-256 in
  the evidence directory (``TRUCELINE_EVIDENCE``; by default beside an embedded store's
  file, ``<store>.evidence/``, else ``var/evidence/``): ``ab/abcdef….bin``. The store
  keeps what the file is (type, size, EXIF time and place) and each attachment (incident,
  file name, note, who and when).
- **Limits.** At most ``TRUCELINE_EVIDENCE_MAX_MB`` megabytes (default 50). The type is
  detected from the content, never the name: JPEG, PNG, GIF, WebP, PDF, MP4/MOV, WebM and
  UTF-8 text; anything else is refused.
- **Image metadata.** A JPEG's EXIF time and GPS position are read at attachment and
  compared with the incident: a photo taken farther than :data:`MAX_DISTANCE_M` beyond
  the incident's location uncertainty, or more than :data:`MAX_GAP_S` outside its time
  window, is flagged.
- **Copies that leave the system** (:func:`shareable_copy`, the dashboard's download)
  have their EXIF removed, for location privacy; :func:`get_evidence` gives the exact
  file (its SHA-256 checked), for the record.
- **Briefings** (:func:`briefing_images`) print chosen images, without EXIF, each with
  its SHA-256.
- **Access.** Analysts and admins attach and see evidence; viewers see it only when the
  store's setting ``evidence_viewers`` allows it. Every attach, view and download is in the
  audit log (``evidence_add``, ``evidence_view``, ``evidence_get``).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import clock
from geo._errors import InputError, NotFoundError, PermissionDeniedError, StoreError
from geo._paths import VAR
from geo.core.auth import Principal, require
from geo.render.pdf.evidence import EvidenceImage
from geo.services.settings import get_setting
from geo.store import Store

DEFAULT_MAX_MB = 50.0
MAX_DISTANCE_M = 5_000.0
"""A photo placed farther than this beyond the incident's location uncertainty is flagged."""
MAX_GAP_S = 86_400.0
"""A photo taken more than this before or after the incident's time window is flagged."""
MEDIA_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "video/mp4",
    "video/webm",
    "text/plain",
)
"""The types evidence may have, detected from the content."""
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


@dataclass(frozen=True)
class Attached:
    """What :func:`add_evidence` did: the file's SHA-256, type, size, and whether it was stored anew."""

    sha256: str
    media_type: str
    size: int
    stored: bool
    flags: tuple[str, ...]


# -- where and how big ---------------------------------------------------------------------------------


def evidence_dir(store: Store) -> Path:
    """The evidence directory of a store (``TRUCELINE_EVIDENCE``, else beside its file, else ``var/``)."""
    configured = os.environ.get("TRUCELINE_EVIDENCE")
    if configured:
        return Path(configured)
    local = store.local_path()
    if local is not None:
        return local.with_name(local.name + ".evidence")
    return VAR / "evidence"


def max_bytes() -> int:
    """The largest file accepted (``TRUCELINE_EVIDENCE_MAX_MB``, default 50 MB)."""
    try:
        mb = float(os.environ.get("TRUCELINE_EVIDENCE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1_000_000)


def _path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / f"{sha256}.bin"


# -- what a file is --------------------------------------------------------------------------------------


def detect_type(data: bytes) -> str | None:
    """The media type of a file from its first bytes (one of :data:`MEDIA_TYPES`), else ``None``."""
    head = data[:16]
    signatures = (
        (head.startswith(b"\xff\xd8\xff"), "image/jpeg"),
        (head.startswith(b"\x89PNG\r\n\x1a\n"), "image/png"),
        (head[:6] in (b"GIF87a", b"GIF89a"), "image/gif"),
        (head[:4] == b"RIFF" and head[8:12] == b"WEBP", "image/webp"),
        (head.startswith(b"%PDF-"), "application/pdf"),
        (head[4:8] == b"ftyp", "video/mp4"),
        (head.startswith(b"\x1a\x45\xdf\xa3"), "video/webm"),
    )
    found = next((kind for hit, kind in signatures if hit), None)
    if found is not None or not data or data.translate(None, _TEXT_BYTES)[:1]:
        return found  # a control character other than white space: not text
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


_TEXT_BYTES = bytes([9, 10, 12, 13, *range(0x20, 0x7F), *range(0x80, 0x100)])
"""The bytes UTF-8 text may hold (no control characters but tab, line breaks and form feed)."""


def _ratio(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return float("nan")


def read_exif(data: bytes) -> tuple[pd.Timestamp | None, float | None, float | None]:
    """
    A JPEG's EXIF time and GPS position (lon, lat); ``None`` for what it does not hold.

    The time is ``DateTimeOriginal``, else ``DateTime``, read as UTC unless EXIF gives its offset.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError, struct.error):
        return None, None, None
    when = None
    sub = exif.get_ifd(0x8769)
    text = sub.get(36867) or exif.get(306)
    offset = sub.get(36881) or ""
    if text:
        try:
            fmt = "%Y:%m:%d %H:%M:%S%z" if offset else "%Y:%m:%d %H:%M:%S"
            ts = pd.to_datetime(str(text).strip() + str(offset).strip(), format=fmt)
            when = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        except ValueError:
            when = None
    return when, *_gps(exif.get_ifd(0x8825))


def _gps(gps: Mapping[int, Any]) -> tuple[float | None, float | None]:
    """Longitude and latitude from an EXIF GPS directory, or ``None`` when absent or invalid."""
    if 2 not in gps or 4 not in gps:
        return None, None
    try:
        lat_dms = [_ratio(v) for v in gps[2]]
        lon_dms = [_ratio(v) for v in gps[4]]
        lat = (lat_dms[0] + lat_dms[1] / 60 + lat_dms[2] / 3600) * (-1 if gps.get(1) == "S" else 1)
        lon = (lon_dms[0] + lon_dms[1] / 60 + lon_dms[2] / 3600) * (-1 if gps.get(3) == "W" else 1)
    except (IndexError, TypeError):
        return None, None
    if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None, None
    return lon, lat


def strip_exif(data: bytes, media_type: str) -> bytes:
    """
    A copy without EXIF (and XMP): a JPEG's APP1 segments and a PNG's ``eXIf`` chunk removed.

    Lossless: the image data are copied as they are. Other types are returned unchanged.
    """
    if media_type == "image/jpeg":
        out = bytearray(data[:2])
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            if marker == 0xDA:  # start of scan: the rest is image data
                break
            length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
            if marker != 0xE1:
                out += data[pos : pos + 2 + length]
            pos += 2 + length
        out += data[pos:]
        return bytes(out)
    if media_type == "image/png":
        out = bytearray(data[:8])
        pos = 8
        while pos + 8 <= len(data):
            length = struct.unpack(">I", data[pos : pos + 4])[0]
            kind = data[pos + 4 : pos + 8]
            end = pos + 12 + length
            if kind != b"eXIf":
                out += data[pos:end]
            pos = end
        return bytes(out)
    return data


# -- access ---------------------------------------------------------------------------------------------


def _may_see(store: Store, actor: Principal) -> None:
    if actor.can("verify"):
        return
    require(actor, "view")
    if not get_setting(store, "evidence_viewers", default=False):
        msg = f"{actor.name}: evidence: viewers may not see evidence in this store (setting evidence_viewers)"
        raise PermissionDeniedError(msg)


# -- operations -----------------------------------------------------------------------------------------


def add_evidence(
    store: Store, incident_id: int, data: bytes, *, file_name: str, actor: Principal, note: str = ""
) -> Attached:
    """
    Attach a file to an incident: checked, stored once by its SHA-256, audited.

    Raises
    ------
    InputError
        Too large, empty, or of a refused type (one line, naming the file).
    NotFoundError
        No such incident.
    """
    require(actor, "verify")
    limit = max_bytes()
    if not data:
        msg = f"{file_name}: empty file"
        raise InputError(msg)
    if len(data) > limit:
        msg = f"{file_name}: {len(data):,} bytes is over the evidence limit of {limit:,} bytes"
        raise InputError(msg)
    media_type = detect_type(data)
    if media_type is None:
        msg = (
            f"{file_name}: refused type (evidence may be {', '.join(MEDIA_TYPES)}; detected from the content)"
        )
        raise InputError(msg)
    incident = store.incident(incident_id)
    sha256 = hashlib.sha256(data).hexdigest()
    when, lon, lat = read_exif(data) if media_type == "image/jpeg" else (None, None, None)
    root = evidence_dir(store)
    target = _path(root, sha256)
    stored = not target.exists()
    if stored:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(target)
        except OSError as err:
            msg = f"{root}: cannot store evidence: {err.strerror or err}"
            raise StoreError(msg) from err
    now = clock.now()
    with store.write() as tx:
        known = tx.scalar("SELECT COUNT(*) FROM evidence WHERE sha256 = ?", (sha256,))
        if not known:
            tx.bulk_insert(
                "evidence",
                pd.DataFrame(
                    [{"sha256": sha256, "media_type": media_type, "size": len(data), "stored_at": now,
                      "exif_time": when, "exif_lon": lon, "exif_lat": lat}]
                ).astype({"exif_lon": "float64", "exif_lat": "float64", "exif_time": "datetime64[us, UTC]"}),
            )  # fmt: skip
        already = tx.scalar(
            "SELECT COUNT(*) FROM incident_evidence WHERE incident_id = ? AND sha256 = ?",
            (int(incident_id), sha256),
        )
        if not already:
            tx.bulk_insert(
                "incident_evidence",
                pd.DataFrame(
                    [{"incident_id": int(incident_id), "sha256": sha256, "file_name": file_name, "note": note,
                      "added_by": actor.name, "added_at": now}]
                ),
            )  # fmt: skip
        tx.audit(
            actor,
            "evidence_add",
            f"incident {incident_id}",
            {},
            {
                "sha256": sha256,
                "file_name": file_name,
                "media_type": media_type,
                "size": len(data),
                "note": note,
            },
        )
    flags = mismatch_flags(incident, when, lon, lat)
    return Attached(sha256, media_type, len(data), stored, flags)


def mismatch_flags(
    incident: pd.Series, when: pd.Timestamp | None, lon: float | None, lat: float | None
) -> tuple[str, ...]:
    """Why a photo's EXIF does not fit its incident: too far from its place, or from its time."""
    from pyproj import Geod

    flags = []
    if lon is not None and lat is not None and not (pd.isna(lon) or pd.isna(lat)):
        _, _, distance = Geod(ellps="WGS84").inv(float(incident["lon"]), float(incident["lat"]), lon, lat)
        radius = incident.get("location_uncertainty_m")
        radius = 0.0 if radius is None or pd.isna(radius) else float(radius)
        if distance > radius + MAX_DISTANCE_M:
            flags.append(f"taken {distance / 1000:,.1f} km from the incident's location (EXIF GPS)")
    if when is not None and not pd.isna(when):
        start, end = pd.Timestamp(incident["occurred_from"]), pd.Timestamp(incident["occurred_to"])
        gap = max((start - when).total_seconds(), (when - end).total_seconds(), 0.0)
        if gap > MAX_GAP_S:
            side = "before" if when < start else "after"
            flags.append(f"taken {gap / 86400:,.1f} days {side} the incident's time (EXIF time)")
    return tuple(flags)


def list_evidence(store: Store, incident_id: int, *, actor: Principal, audit: bool = True) -> pd.DataFrame:
    """
    The evidence of an incident, oldest first; audited (``evidence_view``) unless ``audit`` is false.

    Columns ``sha256``, ``file_name``, ``media_type``, ``size``, ``note``, ``added_by``,
    ``added_at``, ``exif_time``, ``exif_lon``, ``exif_lat`` and ``flags`` (why its EXIF does
    not fit the incident, ``; ``-joined).
    """
    _may_see(store, actor)
    incident = store.incident(incident_id)
    found = store.frame(
        "SELECT a.sha256, a.file_name, e.media_type, e.size, a.note, a.added_by, a.added_at, e.exif_time, "
        "e.exif_lon, e.exif_lat FROM incident_evidence a JOIN evidence e ON e.sha256 = a.sha256 "
        "WHERE a.incident_id = ? ORDER BY a.added_at, a.sha256",
        (int(incident_id),),
    )
    found["flags"] = [
        "; ".join(mismatch_flags(incident, None if pd.isna(t) else pd.Timestamp(t), x, y))
        for t, x, y in zip(found["exif_time"], found["exif_lon"], found["exif_lat"], strict=True)
    ]
    if audit:
        with store.write() as tx:
            tx.audit(actor, "evidence_view", f"incident {incident_id}", {}, {"files": len(found)})
    return found


def get_evidence(store: Store, sha256: str, *, actor: Principal, audit: bool = True) -> tuple[bytes, str]:
    """
    A stored file, exactly as attached (its SHA-256 checked), and its type. Audited (``evidence_get``).

    Raises
    ------
    NotFoundError
        No evidence with this SHA-256.
    StoreError
        The file is missing from the evidence directory, or its content no longer matches.
    """
    _may_see(store, actor)
    sha256 = str(sha256).strip().lower()
    media_type = store.scalar(  # only evidence attached in the scenario shown: ceasefires stay apart
        "SELECT e.media_type FROM evidence e WHERE e.sha256 = ? AND EXISTS (SELECT 1 "
        "FROM incident_evidence a JOIN incidents i ON i.incident_id = a.incident_id "
        "WHERE a.sha256 = e.sha256 AND i.scenario_id = ?)",
        (sha256, store.scenario_id),
    )
    if media_type is None:
        msg = f"evidence {sha256}: not found"
        raise NotFoundError(msg)
    path = _path(evidence_dir(store), sha256)
    try:
        data = path.read_bytes()
    except OSError as err:
        msg = f"{path}: evidence file missing ({err.strerror or err})"
        raise StoreError(msg) from err
    if hashlib.sha256(data).hexdigest() != sha256:
        msg = f"{path}: evidence file altered: its SHA-256 no longer matches"
        raise StoreError(msg)
    if audit:
        with store.write() as tx:
            tx.audit(
                actor, "evidence_get", f"evidence {sha256}", {}, {"media_type": media_type, "size": len(data)}
            )
    return data, str(media_type)


def shareable_copy(store: Store, sha256: str, *, actor: Principal, audit: bool = True) -> tuple[bytes, str]:
    """
    A copy to hand out: the file without its EXIF (location privacy), and its type.

    Audited (``evidence_get``) unless ``audit`` is false: a page that prepares a download
    audits it when it is taken (:func:`record_download`).
    """
    data, media_type = get_evidence(store, sha256, actor=actor, audit=audit)
    return strip_exif(data, media_type), media_type


def record_download(store: Store, sha256: str, *, actor: Principal) -> None:
    """Audit a download prepared earlier (``evidence_get``)."""
    _may_see(store, actor)
    with store.write() as tx:
        tx.audit(actor, "evidence_get", f"evidence {sha256}", {}, {"copy": "without EXIF"})


def briefing_images(store: Store, sha256s: Sequence[str], *, actor: Principal) -> list[EvidenceImage]:
    """
    The evidence images chosen for a briefing: copies without EXIF, with their SHA-256 and attachments.

    Only evidence attached to an incident of the scenario shown, and only for those who may
    see evidence (:func:`get_evidence`). Every image is checked before any is audited:
    one ``evidence_get`` entry per image (``{"copy": "without EXIF", "in": "briefing"}``).

    Raises
    ------
    InputError
        A SHA-256 that is not 64 hexadecimal digits, or evidence that is not an image.
    NotFoundError
        No such evidence in this scenario.
    """
    _may_see(store, actor)
    chosen = list(dict.fromkeys(str(s).strip().lower() for s in sha256s))
    bad = [s for s in chosen if len(s) != 64 or any(c not in "0123456789abcdef" for c in s)]
    if bad:
        msg = f"evidence {bad[0]}: not a SHA-256 (64 hexadecimal digits)"
        raise InputError(msg)
    out = []
    for sha in chosen:
        data, media_type = get_evidence(store, sha, actor=actor, audit=False)
        if media_type not in IMAGE_TYPES:
            msg = f"evidence {sha}: {media_type} is not an image (a briefing prints images only)"
            raise InputError(msg)
        found = store.frame(
            "SELECT a.incident_id, a.file_name, a.note, e.exif_time, e.exif_lon, e.exif_lat "
            "FROM incident_evidence a JOIN incidents i ON i.incident_id = a.incident_id "
            "JOIN evidence e ON e.sha256 = a.sha256 "
            "WHERE a.sha256 = ? AND i.scenario_id = ? ORDER BY a.added_at, a.incident_id",
            (sha, store.scenario_id),
        )
        flags: list[str] = []
        for row in found.itertuples():
            when = None if pd.isna(row.exif_time) else pd.Timestamp(row.exif_time)
            iid = int(row.incident_id)
            found_flags = mismatch_flags(store.incident(iid), when, row.exif_lon, row.exif_lat)
            flags += [f"incident {iid}: {flag}" for flag in found_flags]
        first = found.iloc[0]
        out.append(
            EvidenceImage(
                sha256=sha,
                media_type=media_type,
                data=strip_exif(data, media_type),
                file_name=str(first["file_name"]),
                note=str(first["note"] or ""),
                incidents=tuple(dict.fromkeys(int(i) for i in found["incident_id"])),
                flags=tuple(flags),
            )
        )
    with store.write() as tx:
        for item in out:
            what = {"copy": "without EXIF", "in": "briefing"}
            tx.audit(actor, "evidence_get", f"evidence {item.sha256}", {}, what)
    return out


def images_of(store: Store, incident_ids: Sequence[int], *, actor: Principal) -> pd.DataFrame:
    """
    The evidence images attached to ``incident_ids`` (of the scenario shown), to choose from for a briefing.

    Columns ``sha256``, ``file_name``, ``note`` and ``incident_id``, one row per attachment,
    oldest first. Audited (``evidence_view``, the number of files listed).
    """
    _may_see(store, actor)
    ids = sorted({int(i) for i in incident_ids})
    found = store.frame(
        "SELECT a.sha256, a.file_name, a.note, a.incident_id, e.media_type FROM incident_evidence a "
        "JOIN incidents i ON i.incident_id = a.incident_id JOIN evidence e ON e.sha256 = a.sha256 "
        "WHERE i.scenario_id = ? ORDER BY a.added_at, a.sha256",
        (store.scenario_id,),
    )
    found = found[found["incident_id"].astype(int).isin(ids) & found["media_type"].isin(IMAGE_TYPES)]
    found = found.drop(columns="media_type").reset_index(drop=True)
    with store.write() as tx:
        tx.audit(actor, "evidence_view", "briefing evidence", {}, {"files": int(found["sha256"].nunique())})
    return found
