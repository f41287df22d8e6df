"""The store: one interface, two backends (SQLite file by default, PostGIS by URL).

``TRUCELINE_DB`` chooses: ``sqlite:///path/to/file.db`` (the default lives in ``var/``
in the checkout, ignored by git) or ``postgresql://user@host/db``.
"""

from __future__ import annotations

import os

from geo._errors import StoreError
from geo._paths import VAR
from geo.store._base import Store
from geo.store._columns import COMPACT_COLUMNS, FOLDED_COLUMNS, INCIDENT_COLUMNS_STORED
from geo.store._incidents import Batch
from geo.store._schema import SCHEMA_VERSION
from geo.store._tx import Tx

DEFAULT_PATH = VAR / "truceline.db"

__all__ = [
    "COMPACT_COLUMNS",
    "FOLDED_COLUMNS",
    "INCIDENT_COLUMNS_STORED",
    "SCHEMA_VERSION",
    "Batch",
    "Store",
    "Tx",
    "default_url",
    "open_store",
]


def default_url() -> str:
    """``TRUCELINE_DB``, or the SQLite file under ``var/`` in the checkout."""
    return os.environ.get("TRUCELINE_DB") or f"sqlite:///{DEFAULT_PATH}"


def open_store(url: str | None = None) -> Store:
    """
    Open (creating or migrating as needed) the store at ``url``.

    Parameters
    ----------
    url
        ``sqlite:///path`` or ``postgresql://…``; default :func:`default_url`.

    Returns
    -------
    Store
    """
    url = url or default_url()
    if url.startswith(("postgresql://", "postgres://")):
        from geo.store._postgis import PostGISStore

        return PostGISStore(url)
    if url.startswith("sqlite:///") or "://" not in url:
        from geo.store._sqlite import SQLiteStore

        return SQLiteStore(url)
    msg = f"{url}: unsupported store URL (use sqlite:///path or postgresql://...)"
    raise StoreError(msg)
