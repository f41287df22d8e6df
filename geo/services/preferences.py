"""Each user's own interface preferences (language, digits), kept in the store."""

from __future__ import annotations

import json
from typing import Any

from geo.core.auth import Principal
from geo.i18n import DIGITS, LANGUAGES
from geo.store import Store

PREFERENCES: dict[str, frozenset[str]] = {"language": frozenset(LANGUAGES), "digits": frozenset(DIGITS)}
"""The preferences a user may save, with the values each accepts."""


def _key(user: str, name: str) -> str:
    return f"preference:{user}:{name}"


def get_preference(store: Store, user: str, name: str) -> str | None:
    """``user``'s saved ``name`` preference (see :data:`PREFERENCES`), or ``None``."""
    raw = store.meta(_key(user, name))
    if raw is None:
        return None
    value: Any = json.loads(raw)
    return value if isinstance(value, str) and value in PREFERENCES.get(name, frozenset()) else None


def set_preference(store: Store, actor: Principal, name: str, value: str) -> None:
    """
    Save one of the signed-in user's own preferences; audited.

    Raises
    ------
    ValueError
        For a preference or a value that does not exist.
    """
    if value not in PREFERENCES.get(name, frozenset()):
        raise ValueError(f"unknown {name!r} preference: {value!r}")
    before = get_preference(store, actor.name, name)
    if before == value:
        return
    with store.write() as tx:
        tx.meta_set(_key(actor.name, name), json.dumps(value))
        target = f"{actor.name}:{name}"
        tx.audit(actor, "preference", target, {"value": before}, {"value": value}, store_wide=True)
