"""Dashboard settings and saved column mappings, kept in the store; changes are audited."""

from __future__ import annotations

import json
from typing import Any

from geo.core.auth import OPERATOR, Principal, require
from geo.core.names import check_name
from geo.store import Store


def get_setting(store: Store, key: str, default: Any = None) -> Any:
    """A dashboard setting kept in the store (``public_read``, ``refresh_seconds``, …)."""
    raw = store.meta(f"setting:{key}")
    return default if raw is None else json.loads(raw)


def set_setting(store: Store, key: str, value: Any, *, actor: Principal = OPERATOR) -> None:
    """Change a dashboard setting (admins only); audited."""
    require(actor, "manage_users")
    before = get_setting(store, key)
    with store.write() as tx:
        tx.meta_set(f"setting:{key}", json.dumps(value))
        tx.audit(actor, "setting", key, {"value": before}, {"value": value}, store_wide=True)


def saved_mappings(store: Store) -> dict[str, dict[str, Any]]:
    """Column mappings saved from the upload page, by name."""
    frame = store.frame("SELECT key, value FROM meta WHERE key LIKE 'mapping:%' ORDER BY key")
    return {
        str(key).removeprefix("mapping:"): json.loads(value) for key, value in frame.itertuples(index=False)
    }


def save_mapping(store: Store, name: str, mapping: dict[str, Any], *, actor: Principal) -> None:
    """Save a column mapping under ``name`` (analysts and admins); audited."""
    require(actor, "upload")
    check_name("mapping name", name)
    with store.write() as tx:
        tx.meta_set(f"mapping:{name}", json.dumps(mapping))
        tx.audit(actor, "mapping_saved", name, {}, {"columns": mapping.get("columns", {})})
