"""Exports of a filtered view from the store: PNG map, PDF briefing, standalone HTML, data files.

Each export checks the ``export`` permission, reads the filtered incidents, renders, and
writes an audit entry naming the filters and the row count. The dashboard's Export page
and the ``snapshot``, ``brief`` and ``export`` commands all come through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pandas as pd

from geo import clock
from geo._errors import InputError, StoreError
from geo.core.auth import Principal, require
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.io.writers import export_bytes
from geo.render.image import render_map_png
from geo.render.pdf import history_since, render_briefing_pdf
from geo.render.webmap import build_map, export_html
from geo.store import Store

Kind = Literal["png", "pdf", "html", "csv", "geojson", "gpkg"]
MEDIA_TYPES: dict[str, str] = {
    "png": "image/png",
    "pdf": "application/pdf",
    "html": "text/html",
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}


def _scenario(store: Store) -> Scenario:
    scenario = store.scenario()
    if scenario is None:
        msg = f"{store.url}: no scenario loaded"
        raise StoreError(msg)
    return scenario


def _audit(store: Store, actor: Principal, kind: str, filters: Filters, rows: int, size: int) -> None:
    with store.write() as tx:
        tx.audit(actor, "export", kind, {}, {"filters": filters.describe(), "rows": rows, "bytes": size})


@dataclass(frozen=True)
class ExportedFile:
    """An export: the file's bytes, and how many incidents it holds."""

    data: bytes
    rows: int


def export_view(
    store: Store,
    kind: Kind,
    filters: Filters,
    *,
    actor: Principal,
    as_of: datetime | None = None,
    size: str = "a4",
    dpi: int = 200,
    bbox: tuple[float, float, float, float] | None = None,
    title: str | None = None,
) -> ExportedFile:
    """
    Render one export of the incidents that pass ``filters``.

    Parameters
    ----------
    store
        The store.
    kind
        ``png``, ``pdf``, ``html``, ``csv``, ``geojson`` or ``gpkg``.
    filters
        The view: time window and filters.
    actor
        Who exports (needs ``export``); recorded in the audit log.
    as_of
        "Data as of" (default: now).
    size, dpi, bbox, title
        For the PNG (and the PDF's map): ``a4`` or ``16:9``, 150-300 dpi, the map extent
        in lon/lat (default: the scenario with its incidents), and the title.

    Returns
    -------
    ExportedFile
        The file and its incident count.
    """
    require(actor, "export")
    scenario = _scenario(store)
    when = pd.Timestamp(as_of or clock.now())
    view = store.query(filters)
    if kind == "png":
        data = render_map_png(
            view, scenario, filters=filters, as_of=when, bbox=bbox, size=size, dpi=dpi, title=title
        )
    elif kind == "pdf":
        history = store.query(filters.with_(since=history_since(filters, when).to_pydatetime(), until=None))
        data = render_briefing_pdf(
            view, scenario, filters=filters, as_of=when, history=history, title=title, dpi=dpi
        )
    elif kind == "html":
        m = build_map(
            scenario,
            view,
            title=title,
            data_as_of=when,
            time_window=filters.describe().split(";")[0],
            filters={"Filters": filters.describe()},
        )
        data = export_html(m).encode("utf-8")
    elif kind in ("csv", "geojson", "gpkg"):
        data = export_bytes(view, scenario, kind)
    else:
        msg = f"kind: must be one of {', '.join(MEDIA_TYPES)}, got {kind!r}"
        raise InputError(msg)
    _audit(store, actor, kind, filters, len(view), len(data))
    return ExportedFile(data, len(view))


def file_name(kind: str, filters: Filters, as_of: datetime | None = None) -> str:
    """A file name that says what the export holds: ``truceline-20240607-1200-7d.pdf``."""
    when = pd.Timestamp(as_of or clock.now())
    span = ""
    if filters.since is not None:
        days = max(round(((filters.until or when) - pd.Timestamp(filters.since)).total_seconds() / 86400), 1)
        span = f"-{days}d"
    return f"truceline-{when:%Y%m%d-%H%M}{span}.{kind}"
