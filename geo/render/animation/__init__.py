"""Animated briefings: the map image over time, as a GIF or an MP4.

- :func:`render_animation`: the frames of a timeline (:mod:`geo.core.timeline`) drawn by
  the offline map renderer, each with its dates, the legend with that frame's counts,
  the scale bar and, for synthetic data, the banner; the still parts are drawn once
  (:mod:`.stage`);
- :mod:`.encode`: GIF (Pillow) and MP4 (H.264 through PyAV, whose wheels bundle FFmpeg),
  each carrying its frames' dates in its metadata; :func:`read_info` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.core.timeline import Timeline
from geo.render.animation.encode import FORMATS, AnimationInfo, encode, frames_of, read_info
from geo.render.animation.stage import DEFAULT_DPI, MAX_DPI, MIN_DPI, SIZES, Stage
from geo.render.image.layout import Bbox
from geo.render.text import utc

__all__ = [
    "DEFAULT_DPI",
    "FORMATS",
    "MAX_DPI",
    "MIN_DPI",
    "SIZES",
    "AnimationInfo",
    "Progress",
    "describe",
    "frames_of",
    "read_info",
    "render_animation",
]

Progress = Callable[[int, int], None]
"""Called after each frame with the frames done and the frames in all."""


def describe(
    view: pd.DataFrame, timeline: Timeline, scenario: Scenario, filters: Filters, as_of: pd.Timestamp
) -> dict[str, Any]:
    """What an animation file says about itself: its frames' days, spans, windows and counts, and the view."""
    frames = timeline.frames
    counts = timeline.counts(view["occurred_at"])
    return {
        "software": "Truceline",
        "scenario": scenario.name,
        "synthetic": scenario.synthetic,
        "data_as_of": f"{as_of:%Y-%m-%dT%H:%M:%SZ}",
        "filters": filters.with_(since=None, until=None).to_query(),
        "step": timeline.step,
        "window_days": round(timeline.window.total_seconds() / 86400),
        "cumulative": timeline.cumulative,
        "frames": [f.key for f in frames],
        "spans": [f.span for f in frames],
        "since": [f"{f.since:%Y-%m-%dT%H:%M:%SZ}" for f in frames],
        "until": [f"{f.until:%Y-%m-%dT%H:%M:%SZ}" for f in frames],
        "incidents": counts.tolist(),
    }


def render_animation(
    view: pd.DataFrame,
    scenario: Scenario,
    timeline: Timeline,
    *,
    fmt: str,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    size: str = "16:9",
    dpi: int = DEFAULT_DPI,
    title: str | None = None,
    bbox: Bbox | None = None,
    seconds: float = 1.0,
    progress: Progress | None = None,
) -> bytes:
    """
    Render an animation of an incident view over a timeline.

    Parameters
    ----------
    view
        The incidents of the whole timeline (each frame shows those of its window).
    scenario
        The scenario (lines and zones are shown while in force).
    timeline
        The frames.
    fmt
        ``gif`` or ``mp4``.
    filters
        The filters of the view, printed on each frame with the frame's window.
    as_of
        When the data were current.
    size, dpi
        ``16:9`` or ``a4``; 72 to 200 dpi.
    title
        Default: the scenario's name.
    bbox
        The map extent, as for the snapshot.
    seconds
        How long each frame shows.
    progress
        Called after each frame is drawn.

    Returns
    -------
    bytes
        The GIF or MP4.
    """
    missing = [c for c in ("occurred_at", "lon", "lat", "verdict") if c not in view]
    if missing:
        msg = f"playback: view: missing column(s) {', '.join(missing)}"
        raise ValueError(msg)
    when = utc(as_of)
    stage = Stage(
        view, scenario, timeline, filters=filters, as_of=when, size=size, dpi=dpi, title=title, bbox=bbox
    )
    total = len(timeline.frames)

    def frames() -> Iterator[np.ndarray]:
        for frame in timeline.frames:
            pixels = stage.render(frame)
            if progress is not None:
                progress(frame.index + 1, total)
            yield pixels

    return encode(fmt, frames(), describe(view, timeline, scenario, filters, when), seconds=seconds)
