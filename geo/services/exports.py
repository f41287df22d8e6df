"""Exports of a filtered view from the store: PNG map, PDF briefing, standalone HTML, data files, animations.

Each export checks the ``export`` permission, reads the filtered incidents, renders, and
writes an audit entry naming the filters and the row count. The dashboard's Export page
and the ``snapshot``, ``brief``, ``export`` and ``playback`` commands all come through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import pandas as pd

from geo import clock
from geo._errors import InputError, StoreError
from geo.core.auth import Principal, require
from geo.core.compare import Comparison
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.core.timeline import Timeline, last_steps, timeline
from geo.i18n import _, language, use_language
from geo.io.writers import export_bytes
from geo.localize import Digits, use_digits
from geo.render.animation import DEFAULT_DPI, FORMATS, Progress, render_animation
from geo.render.image import render_map_png
from geo.render.pdf import history_since, render_briefing_pdf
from geo.render.pdf.evidence import EvidenceImage
from geo.render.text import describe_filters, localized
from geo.render.webmap import build_map, export_html
from geo.services.comparison import compare_store
from geo.services.evidence import briefing_images
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
ANIMATION_TYPES: dict[str, str] = dict(FORMATS)
"""The animation formats (:func:`export_animation`) and their media types."""


def _scenario(store: Store) -> Scenario:
    scenario = store.scenario()
    if scenario is None:
        msg = f"{store.url}: no scenario loaded"
        raise StoreError(msg)
    return scenario


def _audit(store: Store, actor: Principal, kind: str, filters: Filters, rows: int, size: int) -> None:
    with store.write() as tx:
        tx.audit(actor, "export", kind, {}, {"filters": filters.describe(), "rows": rows, "bytes": size})


def _before_after(
    store: Store, actor: Principal, filters: Filters, as_of: pd.Timestamp, at: datetime | None
) -> tuple[Comparison | None, list[str]]:
    """The briefing's before/after comparison and its caveats, or no comparison and why."""
    try:
        found = compare_store(
            store, actor=actor, at=at, filters=filters.with_(verdicts=()), as_of=as_of.to_pydatetime()
        )
    except InputError as err:
        return None, [_("No before/after comparison: {reason}").format(reason=str(err))]
    return found.comparison, found.notes


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
    size: Literal["a4", "16:9"] = "a4",
    dpi: int = 200,
    bbox: tuple[float, float, float, float] | None = None,
    title: str | None = None,
    compare_at: datetime | None = None,
    evidence: Sequence[str] = (),
    lang: str | None = None,
    digits: Digits | None = None,
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
    compare_at
        For the PDF: the date of its before/after table (default: the scenario's
        agreement date).
    evidence
        For the PDF: the SHA-256 of evidence images to print, each with its hash and
        without EXIF (:func:`geo.services.evidence.briefing_images`: only for those who may
        see evidence, and audited).
    lang
        The language of the PNG, the PDF and the HTML page's text, and of the scenario's
        names and rule quotes where its manifest translates them (``en``, ``ar``, ``fr``;
        default: the language of the run). The data files and the audit entry are not
        translated.
    digits
        ``latn`` (0-9) or ``arab`` (Eastern Arabic digits, in Arabic text only); default:
        the run's choice, else ``latn``.

    Returns
    -------
    ExportedFile
        The file and its incident count.
    """
    require(actor, "export")
    if evidence and kind != "pdf":
        msg = f"evidence: only a PDF briefing prints evidence images, not {kind}"
        raise InputError(msg)
    scenario = _scenario(store)
    when = pd.Timestamp(as_of or clock.now())
    images = briefing_images(store, evidence, actor=actor) if evidence else []
    view = store.query(filters)
    with use_language(lang or language()), use_digits(digits):
        data = _render(
            store, kind, view, scenario, filters, actor, when, size, dpi, bbox, title, compare_at, images
        )
    _audit(store, actor, kind, filters, len(view), len(data))
    return ExportedFile(data, len(view))


def _render(
    store: Store,
    kind: Kind,
    view: pd.DataFrame,
    scenario: Scenario,
    filters: Filters,
    actor: Principal,
    when: pd.Timestamp,
    size: Literal["a4", "16:9"],
    dpi: int,
    bbox: tuple[float, float, float, float] | None,
    title: str | None,
    compare_at: datetime | None,
    images: Sequence[EvidenceImage],
) -> bytes:
    """The file of one export, in the language of the run."""
    if kind == "png":
        data = render_map_png(
            view, scenario, filters=filters, as_of=when, bbox=bbox, size=size, dpi=dpi, title=title
        )
    elif kind == "pdf":
        history = store.query(filters.with_(since=history_since(filters, when).to_pydatetime(), until=None))
        comparison, notes = _before_after(store, actor, filters, when, compare_at)
        data = render_briefing_pdf(
            view,
            scenario,
            filters=filters,
            as_of=when,
            history=history,
            title=title,
            dpi=dpi,
            before_after=comparison,
            before_after_notes=notes,
            evidence=images,
        )
    elif kind == "html":
        described = describe_filters(filters)
        m = build_map(
            localized(scenario),
            view,
            title=title,
            data_as_of=when,
            time_window=described.split(_("; "))[0],
            filters={_("Filters"): described},
        )
        data = export_html(m).encode("utf-8")
    elif kind in ("csv", "geojson", "gpkg"):
        data = export_bytes(view, scenario, kind)
    else:
        msg = f"kind: must be one of {', '.join(MEDIA_TYPES)}, got {kind!r}"
        raise InputError(msg)
    return data


def file_name(kind: str, filters: Filters, as_of: datetime | None = None) -> str:
    """A file name that says what the export holds: ``truceline-20240607-1200-7d.pdf``."""
    when = pd.Timestamp(as_of or clock.now())
    span = ""
    if filters.since is not None:
        days = max(round(((filters.until or when) - pd.Timestamp(filters.since)).total_seconds() / 86400), 1)
        span = f"-{days}d"
    return f"truceline-{when:%Y%m%d-%H%M}{span}.{kind}"


def playback_timeline(
    store: Store,
    filters: Filters,
    *,
    step: str = "week",
    window_days: int | None = None,
    cumulative: bool = False,
    last: int | None = None,
    as_of: datetime | None = None,
) -> Timeline:
    """
    The frames of an animation of a view.

    The timeline ends at the filters' ``until`` (at most ``as_of``, default now) and
    starts ``last`` steps before that, else at the filters' ``since``, else at the first
    incident that passes the filters (the later of the two when both are given).

    Raises
    ------
    InputError
        Nothing to animate, or too many frames (see :func:`geo.core.timeline.timeline`).
    """
    when = pd.Timestamp(as_of or clock.now())
    end = min(pd.Timestamp(filters.until), when) if filters.until else when
    starts = []
    if last is not None:
        starts.append(last_steps(end, last, step))
    if filters.since is not None:
        starts.append(pd.Timestamp(filters.since))
    if not starts:
        first = store.query(filters, columns=["occurred_at"], limit=1, order="occurred_at ASC")
        if first.empty:
            msg = f"playback: no incident passes the filters ({filters.describe()})"
            raise InputError(msg)
        starts.append(pd.Timestamp(first["occurred_at"].iloc[0]))
    window = timedelta(days=window_days) if window_days else None
    return timeline(max(starts), end, step=step, window=window, cumulative=cumulative)


def export_animation(
    store: Store,
    fmt: str,
    filters: Filters,
    *,
    actor: Principal,
    step: str = "week",
    window_days: int | None = None,
    cumulative: bool = False,
    last: int | None = None,
    as_of: datetime | None = None,
    size: str = "16:9",
    dpi: int = DEFAULT_DPI,
    title: str | None = None,
    seconds: float = 1.0,
    progress: Progress | None = None,
    lang: str | None = None,
    digits: Digits | None = None,
) -> ExportedFile:
    """
    Render an animation (GIF or MP4) of the incidents that pass ``filters``, frame by frame.

    Parameters
    ----------
    store
        The store.
    fmt
        ``gif`` or ``mp4``.
    filters
        The view; its window bounds the timeline (see :func:`playback_timeline`).
    actor
        Who exports (needs ``export``); recorded in the audit log.
    step, window_days, cumulative, last
        The timeline: a frame per ``day`` or ``week``, showing the ``window_days`` ending
        with it (default: its step) or, ``cumulative``, everything since the start; the
        ``last`` steps only.
    as_of
        "Data as of" (default: now).
    size, dpi, title, seconds
        The frame size (``16:9`` or ``a4``) and resolution, the title, and how long each
        frame shows.
    progress
        Called after each frame with (frames done, frames in all).
    lang, digits
        The language of the frames' texts and their digits, as for :func:`export_view`.

    Returns
    -------
    ExportedFile
        The animation and the number of incidents it shows in all.
    """
    require(actor, "export")
    if fmt not in ANIMATION_TYPES:
        msg = f"playback: format: must be one of {', '.join(ANIMATION_TYPES)}, got {fmt!r}"
        raise InputError(msg)
    scenario = _scenario(store)
    when = pd.Timestamp(as_of or clock.now())
    frames = playback_timeline(
        store, filters, step=step, window_days=window_days, cumulative=cumulative, last=last, as_of=when
    )
    shown = filters.with_(since=frames.since.to_pydatetime(), until=frames.until.to_pydatetime())
    view = store.query(shown)
    with use_language(lang or language()), use_digits(digits):
        data = render_animation(
            view,
            localized(scenario),
            frames,
            fmt=fmt,
            filters=shown,
            as_of=when,
            size=size,
            dpi=dpi,
            title=title,
            seconds=seconds,
            progress=progress,
        )
    _audit(store, actor, fmt, shown, len(view), len(data))
    return ExportedFile(data, len(view))
