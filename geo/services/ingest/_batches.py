"""Changes to what was uploaded: undo an upload, set an incident's verification, review a link."""

from __future__ import annotations

import pandas as pd

from geo import clock
from geo._errors import InputError, NotFoundError
from geo.core.auth import OPERATOR, Principal, require
from geo.core.duplicates import LINK_STATUSES, UNREVIEWED
from geo.core.model import VERIFICATION_STATUSES
from geo.store import Store


def delete_batch(store: Store, batch_id: int, *, actor: Principal | None = OPERATOR) -> int:
    """
    Undo an upload: remove its incidents and mark it deleted. Returns how many were removed.

    Analysts may undo their own uploads; admins any.
    """
    batch = store.batch(batch_id)
    if actor is None or batch.user_name != actor.name or not actor.can("undo_own_batch"):
        require(actor, "undo_any_batch")
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
        old = tx.scalar(
            "SELECT status FROM incident_links WHERE incident_id = ? AND other_id = ?", (later, earlier)
        )
        if old is None:
            msg = f"incidents {earlier} and {later}: not linked"
            raise NotFoundError(msg)
        if old == status:
            return
        reviewed = status != UNREVIEWED
        tx.execute(
            "UPDATE incident_links SET status = ?, reviewed_by = ?, reviewed_at = ?, note = ? "
            "WHERE incident_id = ? AND other_id = ?",
            (
                status,
                actor.name if reviewed else "",
                store.encode_times(pd.Series([clock.now()]))[0] if reviewed else None,
                note,
                later,
                earlier,
            ),
        )
        store.regroup(tx)
        tx.audit(
            actor,
            "link_review",
            f"incidents {earlier} and {later}",
            {"status": old},
            {"status": status, "note": note},
        )
        tx.touch(rewrite=False)
