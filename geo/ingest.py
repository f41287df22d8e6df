"""Pipelines that change the store: upload, reclassify, scenario load, undo, verification.

One upload is one transaction: read (in chunks) → validate → normalise → dedupe →
classify → store. Every row read ends in one bucket, accepted, rejected or duplicate,
and the transaction refuses to commit if the three do not add up to the rows read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo import readers
from geo._errors import InputError, NotFoundError, StoreError
from geo.auth import OPERATOR, Principal, require
from geo.classify import PreparedScenario, classify, prepare
from geo.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS, VERIFICATION_STATUSES, Scenario
from geo.store import Store, Tx

Progress = Callable[[int, int | None, str], None]
"""``progress(done, total, stage)``: rows done, rows expected (``None`` if unknown), stage name."""

NEAR_DUPLICATE_M = 500.0
NEAR_DUPLICATE_S = 3600.0
_HASH_COLUMNS = ("source", "occurred_at", "lon", "lat", "category", "actor", "fatalities", "description")


@dataclass
class UploadSummary:
    """What happened to every row of an upload."""

    batch_id: int
    file_name: str
    format: str
    encoding: str
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    near_duplicates: int = 0
    new_breaches: int = 0
    warnings: list[str] = field(default_factory=list)
    status: str = "committed"

    def as_json(self) -> dict[str, Any]:
        """The summary as the CLI prints it with ``--json``."""
        return asdict(self)


@dataclass(frozen=True)
class ReclassifySummary:
    """How many incidents were reclassified, and how many verdicts changed."""

    total: int
    changed: int


def _noop(done: int, total: int | None, stage: str) -> None:
    del done, total, stage


def content_hash(frame: pd.DataFrame) -> np.ndarray:
    """
    A stable 128-bit hash of each incident's content, as hex.

    Two rows with the same source, time, place (to 1e-6 degrees), category, actor,
    fatalities and description hash alike.
    """
    occurred = pd.to_datetime(frame["occurred_at"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    frame = frame.fillna({c: "" for c in ("source", "category", "actor", "description") if c in frame})
    parts = [
        frame["source"].astype(str),
        occurred,
        frame["lon"].round(6).astype(str),
        frame["lat"].round(6).astype(str),
        frame["category"].astype(str),
        frame["actor"].astype(str),
        frame["fatalities"].astype("Int64").astype(str).fillna(""),
        frame["description"].astype(str),
    ]
    joined = parts[0].fillna("")
    for part in parts[1:]:
        joined = joined + "\x1f" + part.fillna("")
    return np.array(
        [hashlib.blake2b(s.encode("utf-8"), digest_size=16).hexdigest() for s in joined], dtype=object
    )


def _file_digest(source: Path | bytes) -> str:
    digest = hashlib.sha256()
    if isinstance(source, bytes):
        digest.update(source)
    else:
        with Path(source).open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def _existing_duplicates(tx: Tx, frame: pd.DataFrame) -> np.ndarray:
    """Positions in ``frame`` whose key or content hash is already stored."""
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS upload_keys "
        "(pos BIGINT, source TEXT, source_event_id TEXT, content_hash TEXT)"
    )
    tx.execute("DELETE FROM upload_keys")
    keys = pd.DataFrame(
        {
            "pos": np.arange(len(frame)),
            "source": frame["source"].to_numpy(),
            "source_event_id": frame["source_event_id"].to_numpy(),
            "content_hash": frame["content_hash"].to_numpy(),
        }
    )
    tx.bulk_insert("upload_keys", keys)
    hits = tx.frame(
        "SELECT k.pos FROM upload_keys k JOIN incidents i "
        "ON i.source = k.source AND i.source_event_id = k.source_event_id "
        "UNION SELECT k.pos FROM upload_keys k JOIN incidents i ON i.content_hash = k.content_hash"
    )
    return hits["pos"].to_numpy(dtype=np.int64) if len(hits) else np.zeros(0, dtype=np.int64)


def _zone_links(ids: np.ndarray, zones: pd.Series) -> pd.DataFrame:
    codes, uniques = pd.factorize(zones.astype(object).fillna(""))
    pieces = []
    for code, value in enumerate(uniques):
        if value:
            rows = ids[codes == code]
            for zone_id in str(value).split(";"):
                pieces.append(pd.DataFrame({"zone_id": zone_id, "incident_id": rows}))
    return (
        pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=["zone_id", "incident_id"])
    )


def _near_duplicates(tx: Tx, new: pd.DataFrame, prep: PreparedScenario) -> pd.Series:
    """For each new incident, an earlier one from another source: same category, ±1 h, ≤ 500 m."""
    out = pd.Series(pd.NA, index=new.index, dtype="Int64")
    if new.empty:
        return out
    t = pd.to_datetime(new["occurred_at"], utc=True)
    pad = pd.Timedelta(seconds=NEAR_DUPLICATE_S)
    where = "occurred_at >= ? AND occurred_at <= ? AND incident_id < ?"
    params = [
        *tx.store.encode_times(pd.Series([t.min() - pad, t.max() + pad])),
        int(new["incident_id"].min()),
    ]
    old = tx.frame(
        f"SELECT incident_id, source, category, occurred_at, lon, lat FROM incidents WHERE {where}", params
    )
    pool = pd.concat(
        [old, new[["incident_id", "source", "category", "occurred_at", "lon", "lat"]]], ignore_index=True
    )
    if pool["source"].nunique() < 2:
        return out
    x, y = prep.projection.forward(pool["lon"].to_numpy(), pool["lat"].to_numpy())
    secs = pd.to_datetime(pool["occurred_at"], utc=True).to_numpy(dtype="datetime64[s]").view(np.int64)
    cat = pd.factorize(pool["category"])[0]
    scale = NEAR_DUPLICATE_M / NEAR_DUPLICATE_S
    points = np.column_stack([x, y, (secs - secs.min()) * scale, cat * 1e9])
    tree = cKDTree(points)
    first_new = len(old)
    pairs = tree.query_ball_point(points[first_new:], r=NEAR_DUPLICATE_M * np.sqrt(2) + 1e-6)
    ids = pool["incident_id"].to_numpy()
    sources = pool["source"].to_numpy()
    for offset, matches in enumerate(pairs):
        i = first_new + offset
        for j in sorted(matches, key=lambda k: ids[k]):
            if (
                ids[j] < ids[i]
                and sources[j] != sources[i]
                and np.hypot(x[i] - x[j], y[i] - y[j]) <= NEAR_DUPLICATE_M
                and abs(secs[i] - secs[j]) <= NEAR_DUPLICATE_S
            ):
                out.iloc[offset] = int(ids[j])
                break
    return out


def _require_scenario(store: Store) -> Scenario:
    scenario = store.scenario()
    if scenario is None:
        hint = "run `python -m geo scenario load PATH` or `python -m geo demo`"
        msg = f"{store.url}: no scenario loaded ({hint})"
        raise StoreError(msg)
    return scenario


def ingest_file(
    store: Store,
    source: Path | bytes,
    *,
    file_name: str | None = None,
    format: str = "auto",
    mapping: readers.ColumnMapping | None = None,
    source_name: str | None = None,
    actor: Principal = OPERATOR,
    progress: Progress = _noop,
    now: datetime | None = None,
) -> UploadSummary:
    """
    Upload one incident file as one batch, in one transaction.

    Parameters
    ----------
    store
        The store; it must hold a scenario.
    source
        A path, or the file's bytes.
    file_name
        The name to record (default: the path's name).
    format, mapping, source_name
        As for :func:`geo.readers.read_incidents`.
    actor
        Who uploads (needs the ``upload`` permission).
    progress
        Called after each chunk.
    now
        The present, for rejecting future dates (default: now).

    Returns
    -------
    UploadSummary

    Raises
    ------
    ReaderError
        When the file cannot be read at all. Bad rows are not errors.
    """
    require(actor, "upload")
    name = file_name or (Path(source).name if not isinstance(source, bytes) else "upload.csv")
    detected = readers.detect(source, format=format, mapping=mapping, name=name)
    scenario = _require_scenario(store)
    chunks = readers.read_incidents(
        source,
        format=detected.format,
        mapping=mapping,
        source_name=source_name,
        party_mapping=scenario.party_mapping,
        now=now,
        name=name,
        parties={p.id for p in scenario.parties},
        bbox=scenario_bounds(scenario),
    )
    return _upload(
        store,
        scenario,
        chunks,
        name=name,
        digest=_file_digest(source),
        fmt=detected.format,
        encoding=detected.encoding,
        warnings=list(detected.warnings),
        source_name=source_name or "",
        actor=actor,
        progress=progress,
    )


def scenario_bounds(scenario: Scenario) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the scenario's lines and zones, in degrees."""
    geoms = [ln.geometry for ln in scenario.lines] + [z.geometry for z in scenario.zones]
    west, south, east, north = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return float(west), float(south), float(east), float(north)


@dataclass
class _Chunk:
    frame: pd.DataFrame
    rejected: pd.DataFrame
    warnings: list[str]
    rows_read: int


def ingest_frame(
    store: Store,
    frame: pd.DataFrame,
    *,
    name: str,
    actor: Principal = OPERATOR,
    progress: Progress = _noop,
    chunk_rows: int = 100_000,
) -> UploadSummary:
    """
    Upload already-normalised incidents (``geo.model.INCIDENT_COLUMNS``) as one batch.

    Used for generated data such as the demo; files go through :func:`ingest_file`.
    """
    require(actor, "upload")
    scenario = _require_scenario(store)
    frame = frame.reset_index(drop=True).assign(line_no=np.arange(2, len(frame) + 2))
    empty = pd.DataFrame(
        {"line_no": pd.Series(dtype="int64"), "reason": pd.Series(dtype=str), "raw": pd.Series(dtype=str)}
    )
    chunks = (
        _Chunk(frame.iloc[i : i + chunk_rows], empty, [], len(frame.iloc[i : i + chunk_rows]))
        for i in range(0, len(frame), chunk_rows)
    )
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
    return _upload(
        store,
        scenario,
        chunks,
        name=name,
        digest=digest,
        fmt="frame",
        encoding="",
        warnings=[],
        source_name="",
        actor=actor,
        progress=progress,
    )


def _upload(
    store: Store,
    scenario: Scenario,
    chunks: Iterable[Any],
    *,
    name: str,
    digest: str,
    fmt: str,
    encoding: str,
    warnings: list[str],
    source_name: str,
    actor: Principal,
    progress: Progress,
) -> UploadSummary:
    prep = prepare(scenario)
    started = datetime.now(UTC)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        batch_id = tx.next_id("batches", "batch_id")
        summary = UploadSummary(batch_id, name, fmt, encoding, warnings=warnings)
        next_id = tx.next_id("incidents", "incident_id")
        accepted_parts: list[pd.DataFrame] = []
        for chunk in chunks:
            summary.rows_read += chunk.rows_read
            if len(chunk.rejected):
                rejected = chunk.rejected.assign(batch_id=batch_id)[["batch_id", "line_no", "reason", "raw"]]
                tx.bulk_insert("rejected_rows", rejected)
                summary.rejected += len(chunk.rejected)
            frame = chunk.frame.reset_index(drop=True)
            if not frame.empty:
                frame = _dedupe(tx, frame, summary)
            summary.warnings += _kept_warnings(chunk, frame)
            if frame.empty:
                progress(summary.rows_read, None, "read")
                continue
            frame = pd.concat([frame, classify(frame, prep)], axis=1)
            frame["incident_id"] = np.arange(next_id, next_id + len(frame), dtype=np.int64)
            next_id += len(frame)
            frame["batch_id"] = batch_id
            frame["ingested_at"] = started
            frame["near_duplicate_of"] = pd.array([pd.NA] * len(frame), dtype="Int64")
            tx.bulk_insert("incidents", frame[list(_STORED)])
            tx.bulk_insert("incident_zones", _zone_links(frame["incident_id"].to_numpy(), frame["zones"]))
            summary.accepted += len(frame)
            summary.new_breaches += int((frame["verdict"] == "breach").sum())
            accepted_parts.append(frame[["incident_id", "source", "category", "occurred_at", "lon", "lat"]])
            progress(summary.rows_read, None, "stored")
        if accepted_parts:
            _flag_near_duplicates(tx, pd.concat(accepted_parts, ignore_index=True), prep, summary)
        if summary.accepted + summary.rejected + summary.duplicate != summary.rows_read:
            msg = (
                f"{name}: internal error: accepted {summary.accepted} + rejected {summary.rejected} + "
                f"duplicate {summary.duplicate} != rows read {summary.rows_read}; nothing was stored"
            )
            raise StoreError(msg)
        tx.bulk_insert(
            "batches",
            pd.DataFrame(
                [
                    {
                        "batch_id": batch_id,
                        "user_name": actor.name,
                        "file_name": name,
                        "sha256": digest,
                        "format": fmt,
                        "encoding": encoding,
                        "source": source_name,
                        "rows_read": summary.rows_read,
                        "accepted": summary.accepted,
                        "rejected": summary.rejected,
                        "duplicate": summary.duplicate,
                        "near_duplicates": summary.near_duplicates,
                        "new_breaches": summary.new_breaches,
                        "warnings": json.dumps(summary.warnings[:1000]),
                        "status": "committed",
                        "started_at": started,
                        "finished_at": datetime.now(UTC),
                    }
                ]
            ),
        )
        tx.audit(
            actor,
            "upload",
            f"batch {batch_id}",
            {},
            {
                "file": name,
                "sha256": digest,
                "accepted": summary.accepted,
                "rejected": summary.rejected,
                "duplicate": summary.duplicate,
            },
        )
        tx.touch(rewrite=False)
    return summary


def _kept_warnings(chunk: Any, kept: pd.DataFrame) -> list[str]:
    """The chunk's row warnings, leaving out those of rows dropped as duplicates."""
    lines = getattr(chunk, "warning_lines", None)
    if not lines or "line_no" not in kept:
        return list(chunk.warnings)
    keep = set(kept["line_no"].tolist())
    return [w for w, line in zip(chunk.warnings, lines, strict=True) if line in keep]


def _dedupe(tx: Tx, frame: pd.DataFrame, summary: UploadSummary) -> pd.DataFrame:
    """Drop rows already stored, or repeated in the upload; count them."""
    frame["content_hash"] = content_hash(frame)
    missing_id = frame["source_event_id"].fillna("") == ""
    frame.loc[missing_id, "source_event_id"] = "sha:" + frame.loc[missing_id, "content_hash"].str[:20]
    dup = (
        (frame.duplicated(["source", "source_event_id"]) | frame.duplicated("content_hash")).to_numpy().copy()
    )
    dup[_existing_duplicates(tx, frame)] = True
    summary.duplicate += int(dup.sum())
    return frame[~dup].reset_index(drop=True)


def _flag_near_duplicates(tx: Tx, new: pd.DataFrame, prep: PreparedScenario, summary: UploadSummary) -> None:
    near = _near_duplicates(tx, new, prep).dropna()
    for incident_id, other in zip(new.loc[near.index, "incident_id"], near, strict=True):
        tx.execute(
            "UPDATE incidents SET near_duplicate_of = ? WHERE incident_id = ?", (int(other), int(incident_id))
        )
    summary.near_duplicates = len(near)
    if len(near):
        summary.warnings.append(
            f"{len(near)} incident(s) look like near-duplicates of another source's "
            "reports (same category, within 1 h and 500 m); kept and flagged"
        )


_STORED = (
    "incident_id",
    *INCIDENT_COLUMNS,
    "content_hash",
    "batch_id",
    "ingested_at",
    "near_duplicate_of",
    *CLASSIFICATION_COLUMNS,
)

_CLASSIFY_INPUT = (
    "incident_id",
    "occurred_at",
    "occurred_from",
    "occurred_to",
    "lon",
    "lat",
    "location_precision",
    "location_uncertainty_m",
    "category",
    "weapon_class",
    "party",
    "verdict",
)


def _reclassify_in(
    tx: Tx, scenario: Scenario, progress: Progress, chunk_rows: int = 200_000
) -> ReclassifySummary:
    prep = prepare(scenario)
    total = int(tx.scalar("SELECT COUNT(*) FROM incidents"))
    done = changed = 0
    last = 0
    tx.execute("DELETE FROM incident_zones")
    tx.execute(f"CREATE TEMP TABLE IF NOT EXISTS new_classification ({', '.join(CLASSIFICATION_UPDATE_DDL)})")
    while True:
        frame = tx.frame(
            f"SELECT {', '.join(_CLASSIFY_INPUT)} FROM incidents WHERE incident_id > ? "
            f"ORDER BY incident_id LIMIT {chunk_rows}",
            (last,),
        )
        if frame.empty:
            break
        last = int(frame["incident_id"].iloc[-1])
        cls = classify(frame, prep)
        changed += int(
            (cls["verdict"].astype(str).to_numpy() != frame["verdict"].astype(str).to_numpy()).sum()
        )
        update = pd.concat([frame[["incident_id"]], cls], axis=1)
        tx.execute("DELETE FROM new_classification")
        tx.bulk_insert("new_classification", update)
        sets = ", ".join(f"{c} = n.{c}" for c in CLASSIFICATION_COLUMNS)
        tx.execute(
            f"UPDATE incidents SET {sets} FROM new_classification n "
            "WHERE incidents.incident_id = n.incident_id"
        )
        tx.bulk_insert("incident_zones", _zone_links(frame["incident_id"].to_numpy(), cls["zones"]))
        done += len(frame)
        progress(done, total, "reclassified")
    tx.touch(rewrite=True)
    return ReclassifySummary(total=done, changed=changed)


CLASSIFICATION_UPDATE_DDL = (
    "incident_id BIGINT PRIMARY KEY",
    "zones TEXT",
    "nearest_line TEXT",
    "distance_m DOUBLE PRECISION",
    "side TEXT",
    "side_party TEXT",
    "attributed_party TEXT",
    "attribution TEXT",
    "verdict TEXT",
    "rules TEXT",
    "verdict_reason TEXT",
)


def reclassify(store: Store, *, actor: Principal = OPERATOR, progress: Progress = _noop) -> ReclassifySummary:
    """Recompute every stored classification against the stored scenario, in one transaction."""
    require(actor, "reclassify")
    scenario = _require_scenario(store)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        result = _reclassify_in(tx, scenario, progress)
        tx.audit(actor, "reclassify", "incidents", {}, {"total": result.total, "changed": result.changed})
    return result


def load_scenario_into_store(
    store: Store,
    scenario: Scenario,
    *,
    manifest: str = "",
    actor: Principal = OPERATOR,
    progress: Progress = _noop,
) -> ReclassifySummary:
    """Replace the stored scenario and reclassify every incident, in one transaction."""
    require(actor, "edit_scenario")
    before = store.scenario()
    with store.write() as tx:
        store.lock_for_ingest(tx)
        store.save_scenario(tx, scenario, manifest=manifest)
        result = _reclassify_in(tx, scenario, progress)
        tx.audit(actor, "scenario_load", scenario.name, _scenario_digest(before), _scenario_digest(scenario))
    return result


def _scenario_digest(scenario: Scenario | None) -> dict[str, Any]:
    if scenario is None:
        return {}
    return {
        "name": scenario.name,
        "zones": {
            z.id: {
                "kind": z.kind,
                "valid_from": str(z.valid_from),
                "valid_to": str(z.valid_to),
                "width_m": z.width_m,
                "side": z.side,
                "wkb_sha256": hashlib.sha256(z.geometry.wkb).hexdigest()[:16],
            }
            for z in scenario.zones
        },
        "rules": {
            r.id: {
                "zone": r.zone,
                "prohibits": list(r.prohibits),
                "parties": list(r.parties),
                "severity": r.severity,
                "text": r.text,
            }
            for r in scenario.rules
        },
    }


def delete_batch(store: Store, batch_id: int, *, actor: Principal = OPERATOR) -> int:
    """
    Undo an upload: remove its incidents and mark it deleted. Returns how many were removed.

    Analysts may undo their own uploads; admins any.
    """
    batch = store.batch(batch_id)
    if batch.user_name != actor.name or not actor.can("undo_own_batch"):
        require(actor, "undo_any_batch")
    if batch.status == "deleted":
        msg = f"batch {batch_id}: already deleted"
        raise NotFoundError(msg)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        removed = int(tx.scalar("SELECT COUNT(*) FROM incidents WHERE batch_id = ?", (batch_id,)))
        tx.execute(
            "DELETE FROM incident_zones WHERE incident_id IN "
            "(SELECT incident_id FROM incidents WHERE batch_id = ?)",
            (batch_id,),
        )
        tx.execute(
            "UPDATE incidents SET near_duplicate_of = NULL WHERE near_duplicate_of IN "
            "(SELECT incident_id FROM incidents WHERE batch_id = ?)",
            (batch_id,),
        )
        tx.execute("DELETE FROM incidents WHERE batch_id = ?", (batch_id,))
        tx.execute("UPDATE batches SET status = 'deleted' WHERE batch_id = ?", (batch_id,))
        tx.audit(
            actor,
            "batch_delete",
            f"batch {batch_id}",
            {"status": batch.status, "incidents": removed},
            {"status": "deleted", "incidents": 0},
        )
        tx.touch(rewrite=True)
    return removed


def set_verification(
    store: Store, incident_id: int, status: str, *, actor: Principal = OPERATOR, note: str = ""
) -> None:
    """Change an incident's verification status, recording who, when and why."""
    require(actor, "verify")
    if status not in VERIFICATION_STATUSES:
        msg = f"verification: must be one of {', '.join(VERIFICATION_STATUSES)}, got {status!r}"
        raise InputError(msg)
    old = str(store.incident(incident_id)["verification"])
    if old == status:
        return
    with store.write() as tx:
        tx.execute("UPDATE incidents SET verification = ? WHERE incident_id = ?", (status, int(incident_id)))
        tx.bulk_insert(
            "verification_log",
            pd.DataFrame(
                [
                    {
                        "incident_id": int(incident_id),
                        "old": old,
                        "new": status,
                        "user_name": actor.name,
                        "at": datetime.now(UTC),
                        "note": note,
                    }
                ]
            ),
        )
        tx.audit(
            actor,
            "verification",
            f"incident {incident_id}",
            {"verification": old},
            {"verification": status, "note": note},
        )
        tx.touch(rewrite=True)
