"""The review queue of possible duplicates: pairs of linked reports, side by side, and the decisions on them.

A pair is a link of :mod:`geo.core.duplicates`: a later report and an earlier one that may
be the same event (another source's report of it, or one source's identical report under
another id). Reviewers see a page of pairs at a time, by status, and decide "same event"
or "different events"; every decision is audited and can be undone
(:func:`geo.services.ingest.set_link_status`, :func:`geo.services.ingest.undo_link_review`).
Nothing is deleted: the decisions only change which reports count once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from geo._errors import InputError
from geo.core.auth import Principal, require
from geo.core.duplicates import DIFFERENT_EVENTS, LINK_KINDS, SAME_EVENT, UNREVIEWED
from geo.services.ingest import set_link_status, undo_link_review
from geo.store import Store

REVIEW_STATUSES: dict[str, str] = {
    "pending": UNREVIEWED,
    "confirmed": SAME_EVENT,
    "rejected": DIFFERENT_EVENTS,
}
"""The queue's names for the links' review statuses."""
DECISIONS: dict[str, str] = {"same": SAME_EVENT, "different": DIFFERENT_EVENTS}
"""A reviewer's two decisions, by name."""
MAX_PER_PAGE = 200
"""The most pairs one page holds."""
SIDE_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "source",
    "source_event_id",
    "occurred_at",
    "occurred_from",
    "occurred_to",
    "lon",
    "lat",
    "location_precision",
    "location_uncertainty_m",
    "location_name",
    "category",
    "actor",
    "attributed_party",
    "fatalities",
    "verdict",
    "verdict_note",
    "verification",
    "source_reliability",
    "info_credibility",
    "description",
)
"""What a pair shows of each of its reports (``later_*`` and ``earlier_*`` in :attr:`ReviewPage.pairs`)."""


@dataclass(frozen=True)
class ReviewPage:
    """
    One page of the review queue.

    Attributes
    ----------
    pairs
        One row per pair: the link's ``kind``, ``status``, ``distance_m``, ``gap_s``,
        ``reviewed_by``, ``reviewed_at``, ``note``, then :data:`SIDE_COLUMNS` of the later
        report prefixed ``later_`` and of the earlier one prefixed ``earlier_``.
    status
        The queue's status name (a key of :data:`REVIEW_STATUSES`).
    page, pages
        This page's number (from 1) and how many there are.
    total
        Pairs with this status.
    counts
        Pairs by status name, for every status.
    """

    pairs: pd.DataFrame
    status: str
    page: int
    pages: int
    total: int
    counts: dict[str, int]


def review_status(name: str) -> str:
    """The stored link status of a queue name (``pending``, ``confirmed``, ``rejected``) or stored name."""
    if name in REVIEW_STATUSES:
        return REVIEW_STATUSES[name]
    if name in REVIEW_STATUSES.values():
        return name
    msg = f"status: must be one of {', '.join(REVIEW_STATUSES)}, got {name!r}"
    raise InputError(msg)


def status_name(status: str) -> str:
    """The queue name of a stored link status."""
    return {v: k for k, v in REVIEW_STATUSES.items()}.get(status, status)


def review_queue(
    store: Store,
    *,
    actor: Principal,
    status: str = "pending",
    kind: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> ReviewPage:
    """
    A page of the pairs to review, newest first, each with both reports.

    Parameters
    ----------
    store
        The store.
    actor
        Who reviews (needs the ``verify`` permission: analysts and admins).
    status
        ``pending``, ``confirmed`` or ``rejected``.
    kind
        Only links of this kind (``cross_source`` or ``same_source_lookalike``).
    page
        The page, from 1; past the last, the last.
    per_page
        Pairs per page (1 to :data:`MAX_PER_PAGE`).

    Returns
    -------
    ReviewPage
    """
    require(actor, "verify")
    stored = review_status(status)
    if kind is not None and kind not in LINK_KINDS:
        msg = f"kind: must be one of {', '.join(LINK_KINDS)}, got {kind!r}"
        raise InputError(msg)
    if not 1 <= int(per_page) <= MAX_PER_PAGE:
        msg = f"per_page: must be 1 to {MAX_PER_PAGE}, got {per_page}"
        raise InputError(msg)
    by_status = store.link_counts(kind=kind)
    counts = {name: by_status.get(value, 0) for name, value in REVIEW_STATUSES.items()}
    total = counts[status_name(stored)]
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, int(page)), pages)
    links = store.links(
        status=stored, kind=kind, limit=per_page, offset=(page - 1) * per_page, newest_first=True
    )
    return ReviewPage(_pairs(store, links), status_name(stored), page, pages, total, counts)


def _pairs(store: Store, links: pd.DataFrame) -> pd.DataFrame:
    """The links with both reports' columns beside them."""
    ids = sorted({*links["incident_id"].astype(int), *links["other_id"].astype(int)})
    reports = store.incidents_by_id(ids) if ids else pd.DataFrame(columns=list(SIDE_COLUMNS))
    side = reports[list(SIDE_COLUMNS)]
    later = side.add_prefix("later_")
    earlier = side.add_prefix("earlier_")
    out = links.merge(later, left_on="incident_id", right_on="later_incident_id", how="left").merge(
        earlier, left_on="other_id", right_on="earlier_incident_id", how="left"
    )
    keep = ["kind", "status", "distance_m", "gap_s", "reviewed_by", "reviewed_at", "note"]
    return out[keep + list(later.columns) + list(earlier.columns)].reset_index(drop=True)


def decide(
    store: Store, incident_id: int, other_id: int, decision: str, *, actor: Principal, note: str = ""
) -> None:
    """
    Record a reviewer's decision on a pair: ``same`` event or ``different`` events.

    Audited, and the counts follow at once (:func:`geo.services.ingest.set_link_status`).
    """
    if decision not in DECISIONS:
        msg = f"decision: must be one of {', '.join(DECISIONS)}, got {decision!r}"
        raise InputError(msg)
    set_link_status(store, incident_id, other_id, DECISIONS[decision], actor=actor, note=note)


def undo(store: Store, incident_id: int, other_id: int, *, actor: Principal) -> str:
    """Undo the last decision on a pair; returns the queue name of the status restored."""
    return status_name(undo_link_review(store, incident_id, other_id, actor=actor))


def pair_history(store: Store, incident_id: int, other_id: int, *, actor: Principal) -> pd.DataFrame:
    """
    Every decision and undo on a pair, oldest first (needs the ``verify`` permission).

    Columns ``at``, ``user_name``, ``action``, ``before`` and ``after`` (JSON).
    """
    require(actor, "verify")
    a, b = sorted((int(incident_id), int(other_id)))
    return store.frame(
        "SELECT at, user_name, action, before, after FROM audit_log WHERE target = ? "
        "AND action IN ('link_review', 'link_review_undo') ORDER BY entry_id",
        (f"incidents {a} and {b}",),
    )
