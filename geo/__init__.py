"""Truceline: incidents joined to ceasefire lines, zones and rules.

The public API is listed in ``geo/_api.py``; each name is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from geo import _offline
from geo._api import EXPORTS, __all__  # noqa: F401 - __all__ is kept in one place

_offline.apply()  # before PROJ or GDAL load: no network from data, in every process

if TYPE_CHECKING:
    from geo._api import *  # noqa: F403

__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    module = EXPORTS.get(name)
    if module is None:
        msg = f"module 'geo' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *EXPORTS])
