"""The audit log as a hash chain: appending, verifying, and the head kept outside the store.

Each entry carries the SHA-256 of its own canonical encoding, which includes the hash
of the entry before it (``prev_hash``; the first entry's is :data:`GENESIS`). Changing,
removing or inserting an entry anywhere breaks the chain from there on; removing
entries from the end is caught by the head the store records in ``meta`` with every
append, and, when ``TRUCELINE_AUDIT_HEAD`` names a file, by the head written there
after every commit (a file an attacker with the database alone cannot rewrite).

The canonical encoding of an entry is the UTF-8 of the compact JSON array
``[entry_id, at, user_name, action, target, before, after, scenario_id, prev_hash]``, with ``at``
as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds) and ``before``/``after`` the
JSON text stored; JSON escapes every control character, so no two entries share an
encoding.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from geo.store._base import Store
    from geo.store._tx import Tx

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""
HEAD_ENV = "TRUCELINE_AUDIT_HEAD"
"""The environment variable naming the file the chain's head is appended to."""
TRIGGERS: dict[str, frozenset[str]] = {
    "sqlite": frozenset({"audit_log_no_update", "audit_log_no_delete", "audit_log_append_only_insert"}),
    "postgis": frozenset({"audit_log_no_change", "audit_log_no_truncate", "audit_log_append_only_insert"}),
}
"""The triggers that refuse rewrites of the audit log, per dialect (their absence is reported)."""
_CHUNK = 50_000


def at_text(at: datetime | pd.Timestamp) -> str:
    """An entry's time as the canonical encoding writes it (UTC, microseconds)."""
    t = pd.Timestamp(at)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return str(t.floor("us").strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def entry_hash(
    entry_id: int,
    at: datetime | pd.Timestamp,
    user_name: str,
    action: str,
    target: str,
    before: str,
    after: str,
    scenario_id: str,
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of an entry's canonical encoding (see the module's docstring)."""
    fields = [int(entry_id), at_text(at), user_name, action, target, before, after, scenario_id, prev_hash]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def head_file() -> Path | None:
    """The file ``TRUCELINE_AUDIT_HEAD`` names, if set."""
    value = os.environ.get(HEAD_ENV, "").strip()
    return Path(value) if value else None


def append(tx: Tx, entry: dict[str, Any]) -> None:
    """
    Append one entry to the chain.

    ``entry`` holds ``at``, ``user_name``, ``action``, ``target``, ``before``, ``after``
    and ``scenario_id``.

    The caller holds the audit lock (:meth:`geo.store.Store.lock_for_ingest`), so the
    last entry read here is still the last at commit. The new head goes to ``meta``
    now and, after the commit, to the head file.
    """
    last = tx.execute("SELECT entry_id, entry_hash FROM audit_log ORDER BY entry_id DESC LIMIT 1").fetchone()
    entry_id = 1 if last is None else int(last[0]) + 1
    prev = GENESIS if last is None else str(last[1])
    at = pd.Timestamp(entry["at"]).tz_convert("UTC").floor("us")
    digest = entry_hash(
        entry_id,
        at,
        entry["user_name"],
        entry["action"],
        entry["target"],
        entry["before"],
        entry["after"],
        entry["scenario_id"],
        prev,
    )
    row = {**entry, "entry_id": entry_id, "at": at, "prev_hash": prev, "entry_hash": digest}
    tx.bulk_insert("audit_log", pd.DataFrame([row]))
    tx.meta_set("audit_head", f"{entry_id}:{digest}")
    path = head_file()
    if path is not None:
        tx.after_commit(lambda: write_head(path, entry_id, digest))


def write_head(path: Path, entry_id: int, digest: str) -> None:
    """Append ``entry_id digest`` to the head file (one line per audited commit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="ascii") as out:
        out.write(f"{entry_id} {digest}\n")
        out.flush()
        os.fsync(out.fileno())


def read_head(path: Path) -> tuple[int, str] | None:
    """The highest entry the head file records, or ``None`` when it records none."""
    best: tuple[int, str] | None = None
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and (best is None or int(parts[0]) > best[0]):
            best = (int(parts[0]), parts[1])
    return best


def rechain(tx: Tx) -> None:
    """Compute every entry's hashes from the first (the migration that introduces the chain)."""
    prev, last = GENESIS, 0
    for chunk in _chunks(tx.frame):
        for row in chunk.itertuples(index=False):
            digest = _row_hash(row, prev)
            tx.execute(
                "UPDATE audit_log SET prev_hash = ?, entry_hash = ? WHERE entry_id = ?",
                (prev, digest, int(row.entry_id)),
            )
            prev, last = digest, int(row.entry_id)
    if last:
        tx.meta_set("audit_head", f"{last}:{prev}")


def _row_hash(row: Any, prev: str) -> str:
    """:func:`entry_hash` of a stored entry (a row of :func:`_chunks`) after ``prev``."""
    fields = (row.at, row.user_name, row.action, row.target, row.before, row.after, row.scenario_id)
    return entry_hash(int(row.entry_id), *fields, prev)


def _chunks(read: Any) -> Iterator[pd.DataFrame]:
    after = -1
    while True:
        chunk = read(
            "SELECT entry_id, at, user_name, action, target, before, after, scenario_id, prev_hash, "
            "entry_hash "
            f"FROM audit_log WHERE entry_id > ? ORDER BY entry_id LIMIT {_CHUNK}",
            (after,),
        )
        if chunk.empty:
            return
        yield chunk
        after = int(chunk["entry_id"].iloc[-1])


@dataclass(frozen=True)
class AuditCheck:
    """
    What :func:`verify` found.

    ``problems`` is empty when the chain holds; otherwise its first line names the first
    broken entry (``broken_entry``), or what else is wrong (a missing trigger, a head
    that does not match).
    """

    entries: int
    head_id: int
    head_hash: str
    problems: list[str] = field(default_factory=list)
    broken_entry: int | None = None
    head_file: str = ""

    @property
    def ok(self) -> bool:
        """Whether the chain, its count, its head and the triggers all hold."""
        return not self.problems


def verify(store: Store) -> AuditCheck:
    """
    Check the audit log: every hash, the links between entries, the ids, the recorded heads, the triggers.

    Returns
    -------
    AuditCheck
        The number of entries, the last one's id and hash, and one line per problem,
        the first broken entry first.
    """
    problems: list[str] = []
    broken: int | None = None
    prev, expected_id, count, last_hash = GENESIS, 1, 0, GENESIS
    for chunk in _chunks(store.frame):
        for row in chunk.itertuples(index=False):
            entry_id = int(row.entry_id)
            count += 1
            if broken is None:
                if entry_id != expected_id:
                    broken = expected_id
                    gone = f"{expected_id}" + ("" if entry_id == expected_id + 1 else f"-{entry_id - 1}")
                    problems.append(f"entry {gone}: missing (removed from the log)")
                elif str(row.prev_hash) != prev:
                    broken = entry_id
                    problems.append(f"entry {entry_id}: does not follow entry {entry_id - 1} (prev_hash)")
                elif str(row.entry_hash) != _row_hash(row, prev):
                    broken = entry_id
                    problems.append(f"entry {entry_id}: changed after it was written (hash differs)")
            prev = str(row.entry_hash)
            expected_id = entry_id + 1
            last_hash = prev
    head_id = expected_id - 1
    recorded = store.meta("audit_head")
    if recorded is not None and recorded != f"{head_id}:{last_hash}":
        rec_id = recorded.split(":", 1)[0]
        problems.append(
            f"the log ends at entry {head_id}, but the store recorded entry {rec_id} as its last "
            "(entries removed from the end, or the head rewritten)"
        )
    path = head_file()
    if path is not None:
        problems += _check_head_file(path, head_id, store)
    missing = sorted(TRIGGERS[store.dialect] - _triggers(store))
    if missing:
        problems.append(f"the trigger(s) refusing rewrites are missing: {', '.join(missing)}")
    return AuditCheck(
        entries=count,
        head_id=head_id,
        head_hash=last_hash,
        problems=problems,
        broken_entry=broken,
        head_file=str(path) if path else "",
    )


def _check_head_file(path: Path, head_id: int, store: Store) -> list[str]:
    if not path.is_file():
        if head_id == 0:
            return []
        return [f"{path}: no head file ({HEAD_ENV}); it is written at the next audited change"]
    recorded = read_head(path)
    if recorded is None:
        return [f"{path}: the head file records no entry"]
    rec_id, rec_hash = recorded
    if rec_id > head_id:
        return [f"{path}: records entry {rec_id}, but the log ends at entry {head_id} (entries removed)"]
    stored = store.scalar("SELECT entry_hash FROM audit_log WHERE entry_id = ?", (rec_id,))
    if stored != rec_hash:
        return [f"{path}: entry {rec_id} is not the one the head file recorded (the log was rewritten)"]
    return []


def _triggers(store: Store) -> set[str]:
    if store.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
    else:
        sql = (
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND NOT tgisinternal AND tgenabled <> 'D'"
        )
    return {str(name) for name in store.frame(sql).iloc[:, 0]}
