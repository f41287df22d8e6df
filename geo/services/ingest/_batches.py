"""Changes to what was uploaded: undo an upload, set an incident's verification or grading, review a link."""

from __future__ import annotations

import json

import pandas as pd

from geo import clock
from geo._errors import InputError, NotFoundError
from geo.core.auth import OPERATOR, Principal, require
from geo.core.duplicates import LINK_STATUSES, UNREVIEWED
from geo.core.grading import CREDIBILITY, RELIABILITY
from geo.core.model import VERIFICATION_STATUSES
from geo.services.alerts._queue import drop_batch_alerts
from geo.store import Store, Tx


def delete_batch(store: Store, batch_id: int, *, actor: Principal | None = OPERATOR) -> int:
    """
    Undo an upload: remove its incidents and mark it deleted. Returns how many were removed.

    Analysts may undo their own uploads; admins any.
    """
    batch = store.batch(batch_id)
    if actor is None or batch.user_name != actor.name or not actor.can("undo_own_batch"):
        actor = require(actor, "undo_any_batch")
    if batch.status == "deleted":
        msg = f"batch {batch_id}: already deleted"
        raise NotFoundError(msg)
    with store.write() as tx:
        store.lock_for_ingest(tx)
        # store.batch() found it in this scenario: its incidents are this scenario's.
        removed = int(tx.scalar("SELECT COUNT(*) FROM incidents WHERE batch_id = ?", (batch_id,)))
        tx.execute(
            "DELETE FROM incident_zones WHERE incident_id IN "
            "(SELECT incident_id FROM incidents WHERE batch_id = ?)",
            (batch_id,),
        )
        mine = "IN (SELECT incident_id FROM incidents WHERE batch_id = ?)"
        unlinked = tx.execute(
            f"DELETE FROM incident_links WHERE incident_id {mine} OR other_id {mine}", (batch_id, batch_id)
        ).rowcount
        if unlinked:
            store.regroup(tx)
        drop_batch_alerts(tx, batch_id)  # an undone upload's alerts not yet sent never go out
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
    old = str(store.incident(incident_id)["verification"])  # NotFoundError outside this scenario
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
                        "at": clock.now(),
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


def set_grading(
    store: Store,
    incident_id: int,
    source_reliability: str,
    info_credibility: str,
    *,
    actor: Principal = OPERATOR,
    note: str = "",
) -> None:
    """
    Grade a report on the Admiralty scale, recording who, when and why (audited as ``grading``).

    Parameters
    ----------
    store
        The store.
    incident_id
        The report.
    source_reliability, info_credibility
        ``A``–``F`` and ``1``–``6`` (:mod:`geo.core.grading`); ``""`` leaves it ungraded.
    actor
        Who grades (needs the ``verify`` permission).
    note
        Why, in a sentence.
    """
    require(actor, "verify")
    reliability, credibility = str(source_reliability).strip().upper(), str(info_credibility).strip()
    problems = [
        f"{name}: must be one of {', '.join(grades)} or empty, got {value!r}"
        for name, value, grades in (
            ("source_reliability", reliability, RELIABILITY),
            ("info_credibility", credibility, CREDIBILITY),
        )
        if value not in ("", *grades)
    ]
    if problems:
        msg = f"incident {incident_id}: " + "; ".join(problems)
        raise InputError(msg)
    row = store.incident(incident_id)
    old = {name: str(row[name]) for name in ("source_reliability", "info_credibility")}
    new = {"source_reliability": reliability, "info_credibility": credibility}
    if old == new:
        return
    with store.write() as tx:
        tx.execute(
            "UPDATE incidents SET source_reliability = ?, info_credibility = ? WHERE incident_id = ?",
            (reliability, credibility, int(incident_id)),
        )
        tx.audit(actor, "grading", f"incident {incident_id}", old, {**new, "note": note})
        tx.touch(rewrite=True)


def set_link_status(
    store: Store,
    incident_id: int,
    other_id: int,
    status: str,
    *,
    actor: Principal = OPERATOR,
    note: str = "",
) -> None:
    """
    Review a link between two reports: ``same_event``, ``different_events`` or back to ``unreviewed``.

    The link records who reviewed it and when, the audit log keeps every change, and the
    groups that counts of incidents count once follow at once (:func:`geo.core.duplicates.groups`).

    Parameters
    ----------
    store
        The store.
    incident_id, other_id
        The two linked incidents, in either order.
    status
        One of :data:`geo.core.duplicates.LINK_STATUSES`.
    actor
        Who reviews (needs the ``verify`` permission).
    note
        Why, in a sentence.
    """
    require(actor, "verify")
    if status not in LINK_STATUSES:
        msg = f"status: must be one of {', '.join(LINK_STATUSES)}, got {status!r}"
        raise InputError(msg)
    later, earlier = max(int(incident_id), int(other_id)), min(int(incident_id), int(other_id))
    with store.write() as tx:
        store.lock_for_ingest(tx)
        old = _link_state(tx, later, earlier)
        if old["status"] == status:
            return
        reviewed = status != UNREVIEWED
        new = {
            "status": status,
            "reviewed_by": actor.name if reviewed else "",
            "reviewed_at": clock.now().isoformat() if reviewed else "",
            "note": note,
        }
        _write_link_state(tx, later, earlier, new, "link_review", old, actor)


def undo_link_review(store: Store, incident_id: int, other_id: int, *, actor: Principal = OPERATOR) -> str:
    """
    Undo the last review decision on a link that is not undone yet; returns the status restored.

    The link gets back its status, reviewer, time and note from before that decision, read
    from the audit log (``link_review`` entries, each ``link_review_undo`` entry taking
    one back), so successive undos step back through the link's history. The undo is
    audited and the groups follow at once, as for a decision.

    Parameters
    ----------
    store
        The store.
    incident_id, other_id
        The two linked incidents, in either order.
    actor
        Who undoes (needs the ``verify`` permission).
    """
    require(actor, "verify")
    later, earlier = max(int(incident_id), int(other_id)), min(int(incident_id), int(other_id))
    with store.write() as tx:
        store.lock_for_ingest(tx)
        current = _link_state(tx, later, earlier)
        entries = tx.frame(
            "SELECT action, before FROM audit_log WHERE target = ? AND action IN ('link_review', "
            "'link_review_undo') ORDER BY entry_id",
            (_link_target(earlier, later),),
        )
        stack: list[dict[str, str]] = []
        for action, before in zip(entries["action"], entries["before"], strict=True):
            if action == "link_review":
                stack.append(json.loads(str(before)))
            elif stack:
                stack.pop()
        if not stack:
            msg = f"incidents {earlier} and {later}: no review decision to undo"
            raise NotFoundError(msg)
        previous = stack[-1]
        restored = {
            "status": str(previous.get("status", UNREVIEWED)),
            "reviewed_by": str(previous.get("reviewed_by", "")),
            "reviewed_at": str(previous.get("reviewed_at", "")),
            "note": str(previous.get("note", "")),
        }
        if restored["status"] != UNREVIEWED and not restored["reviewed_by"]:  # audited before these were kept
            restored |= {"reviewed_by": actor.name, "reviewed_at": clock.now().isoformat()}
        _write_link_state(tx, later, earlier, restored, "link_review_undo", current, actor)
    return restored["status"]


def _link_target(earlier: int, later: int) -> str:
    return f"incidents {earlier} and {later}"


def _link_state(tx: Tx, later: int, earlier: int) -> dict[str, str]:
    """A link's review state, as the audit log keeps it; raises when the two are not linked."""
    found = tx.frame(
        "SELECT status, reviewed_by, reviewed_at, note FROM incident_links "
        "WHERE incident_id = ? AND other_id = ?",
        (later, earlier),
    )
    if found.empty:
        msg = f"incidents {earlier} and {later}: not linked"
        raise NotFoundError(msg)
    row = found.iloc[0]
    at = row["reviewed_at"]
    return {
        "status": str(row["status"]),
        "reviewed_by": str(row["reviewed_by"] or ""),
        "reviewed_at": "" if pd.isna(at) else pd.Timestamp(at).isoformat(),
        "note": str(row["note"] or ""),
    }


def _write_link_state(
    tx: Tx,
    later: int,
    earlier: int,
    state: dict[str, str],
    action: str,
    old: dict[str, str],
    actor: Principal,
) -> None:
    """Set a link's review state, regroup, audit ``action`` (old and new state) and record the change."""
    store = tx.store
    at = (
        store.encode_times(pd.Series([pd.Timestamp(state["reviewed_at"])]))[0]
        if state["reviewed_at"]
        else None
    )
    tx.execute(
        "UPDATE incident_links SET status = ?, reviewed_by = ?, reviewed_at = ?, note = ? "
        "WHERE incident_id = ? AND other_id = ?",
        (state["status"], state["reviewed_by"], at, state["note"], later, earlier),
    )
    store.regroup(tx)
    tx.audit(actor, action, _link_target(earlier, later), old, state)
    tx.touch(rewrite=False)
