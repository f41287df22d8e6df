"""The audit trail: its entries, and the check that none was changed, removed or slipped in."""

from __future__ import annotations

from geo.core.auth import OPERATOR, Principal, require
from geo.store import Store
from geo.store._audit import AuditCheck, verify

__all__ = ["AuditCheck", "verify_audit"]


def verify_audit(store: Store, *, actor: Principal = OPERATOR) -> AuditCheck:
    """
    Check the audit log's hash chain, its count and head, and the triggers refusing rewrites.

    Parameters
    ----------
    store
        The store whose log is checked.
    actor
        Who asks (needs ``view_audit``).

    Returns
    -------
    AuditCheck
        ``ok`` when everything holds; otherwise ``problems``, the first naming the first
        broken entry, and ``broken_entry``.
    """
    require(actor, "view_audit")
    return verify(store)
