"""Where Truceline finds its shipped files and keeps its own: one place, so modules can move."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: ``geo/``, ``dashboard/`` and ``data/`` sit side by side in it."""
DATA = Path(os.environ.get("TRUCELINE_DATA") or ROOT / "data")
"""Shipped data (scenarios, basemap, fonts, vocabulary); ``TRUCELINE_DATA`` points elsewhere."""
VENDOR = ROOT / "dashboard" / "static" / "vendor"
"""The map's shipped scripts and styles (Leaflet and friends)."""
VAR = ROOT / "var"
"""The default home of the embedded store (git-ignored)."""
