"""Who may do what: roles, permissions, and the check every service call makes.

Roles nest: a viewer may view and export; an analyst may also upload, set verification
status and undo their own uploads; an admin may also edit the scenario, undo any upload,
manage users and read the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from geo._errors import PermissionDeniedError

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "admin")

PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset({"viewer", "analyst", "admin"}),
    "export": frozenset({"viewer", "analyst", "admin"}),
    "upload": frozenset({"analyst", "admin"}),
    "verify": frozenset({"analyst", "admin"}),
    "undo_own_batch": frozenset({"analyst", "admin"}),
    "undo_any_batch": frozenset({"admin"}),
    "edit_scenario": frozenset({"admin"}),
    "reclassify": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
    "view_audit": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Principal:
    """Someone acting: a user name and a role."""

    name: str
    role: Role

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission``."""
        return self.role in PERMISSIONS[permission]


OPERATOR = Principal("cli", "admin")
"""The local operator: whoever can run ``python -m geo`` on the store's machine."""


def require(principal: Principal | None, permission: str) -> Principal:
    """
    Return ``principal`` if it may do ``permission``; raise otherwise.

    Raises
    ------
    PermissionDeniedError
        With one line naming the user, role and permission.
    """
    if permission not in PERMISSIONS:
        msg = f"unknown permission {permission!r}"
        raise ValueError(msg)
    if principal is None:
        msg = f"anonymous: not signed in: {permission} needs a signed-in user"
        raise PermissionDeniedError(msg)
    if not principal.can(permission):
        msg = f"{principal.name} ({principal.role}): not allowed to {permission.replace('_', ' ')}"
        raise PermissionDeniedError(msg)
    return principal
