"""Time steps through a view: the frames of a playback or an animated briefing.

A timeline runs from a start to an end in steps of a day or a week. The steps are whole
UTC days counted from the start's day (not calendar weeks), so that 8 weeks make 8
frames whatever the weekday. Each frame is named by the first day of its step, and
shows the incidents of ``[since, until)``:

- *sliding*: the ``window`` ending with the frame's step (a window shorter than the
  step is the step);
- *cumulative*: everything from the start to the end of the frame's step.

No frame shows anything before the start or from the end on: the first frame begins at
the start itself (10:30 on its day, say), and a last step cut short by the end is a
frame too, ending there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo._errors import InputError
from geo.i18n import _

STEPS: dict[str, timedelta] = {"day": timedelta(days=1), "week": timedelta(days=7)}
MAX_FRAMES = 1000
"""The most frames a timeline may have (a daily playback of almost three years)."""
_DAY = pd.Timedelta(days=1)


def utc_day(value: datetime | date | pd.Timestamp | str, *, up: bool = False) -> pd.Timestamp:
    """The start of the UTC day holding ``value`` (``up``: the next day start, unless it is one)."""
    ts = _utc(value)
    return ts.ceil("D") if up else ts.floor("D")


@dataclass(frozen=True)
class Frame:
    """One frame of a timeline."""

    index: int
    day: pd.Timestamp
    """The first day of the frame's step (UTC midnight): its name."""
    step_end: pd.Timestamp
    """The end of its step (exclusive)."""
    since: pd.Timestamp
    """The first instant shown."""
    until: pd.Timestamp
    """The first instant not shown (the end of its step, or the timeline's end)."""

    @property
    def key(self) -> str:
        """The frame's day as ``YYYY-MM-DD`` (what a link names it by)."""
        return f"{self.day:%Y-%m-%d}"

    @property
    def span(self) -> str:
        """The days of the frame's step: ``2024-06-03``, or ``2024-06-03 to 2024-06-09``."""
        last = self.step_end - _DAY
        return (
            self.key
            if last <= self.day
            else _("{first} to {last}").format(first=self.key, last=f"{last:%Y-%m-%d}")
        )


@dataclass(frozen=True)
class Timeline:
    """The frames from a start day to an end, and how they were made."""

    start: pd.Timestamp
    """The first day (UTC midnight)."""
    end: pd.Timestamp
    """The day start after the last day."""
    since: pd.Timestamp
    """The first instant any frame shows (the start itself)."""
    until: pd.Timestamp
    """The first instant no frame shows (the end itself)."""
    step: str
    window: timedelta
    cumulative: bool
    frames: tuple[Frame, ...]

    def index_of(self, key: str | None) -> int | None:
        """The position of the frame named ``key`` (``YYYY-MM-DD``), or ``None``."""
        for frame in self.frames:
            if frame.key == key:
                return frame.index
        return None

    def index_at(self, day: str | None) -> int | None:
        """The position of the frame whose step holds ``day`` (``YYYY-MM-DD``); ``None`` if none does."""
        try:
            when = utc_day(str(day))
        except ValueError:
            return None
        for frame in self.frames:
            if frame.day <= when < frame.step_end:
                return frame.index
        return None

    def counts(self, times: pd.Series) -> NDArray[np.int64]:
        """How many of ``times`` (UTC) each frame shows."""
        ns = np.sort(_ns(times))
        since = np.array([f.since.value for f in self.frames], dtype=np.int64)
        until = np.array([f.until.value for f in self.frames], dtype=np.int64)
        counts: NDArray[np.int64] = np.searchsorted(ns, until) - np.searchsorted(ns, since)
        return counts


def _ns(times: pd.Series) -> NDArray[np.int64]:
    naive = pd.to_datetime(times, utc=True).dt.tz_localize(None)
    return np.asarray(naive.to_numpy(dtype="datetime64[ns]").view(np.int64), dtype=np.int64)


def shows(frame: Frame, times: pd.Series) -> NDArray[np.bool_]:
    """Which of ``times`` (UTC) a frame shows."""
    ns = _ns(times)
    return np.asarray((ns >= frame.since.value) & (ns < frame.until.value), dtype=np.bool_)


def timeline(
    start: datetime | date | pd.Timestamp | str,
    end: datetime | date | pd.Timestamp | str,
    *,
    step: str = "week",
    window: timedelta | None = None,
    cumulative: bool = False,
    max_frames: int = MAX_FRAMES,
) -> Timeline:
    """
    The frames from ``start`` to ``end`` in steps of ``step``.

    Parameters
    ----------
    start
        The first instant shown; the steps count from its day's start (UTC).
    end
        The end, exclusive; the last step ends at it.
    step
        ``day`` or ``week``.
    window
        How much a sliding frame shows, ending with its step (default and minimum: the step).
    cumulative
        Each frame shows everything since ``start`` instead.
    max_frames
        Refuse a timeline of more frames.

    Returns
    -------
    Timeline

    Raises
    ------
    InputError
        An unknown step, an empty range, or too many frames.
    """
    if step not in STEPS:
        msg = f"playback: step: must be one of {', '.join(STEPS)}, got {step!r}"
        raise InputError(msg)
    first, last = utc_day(start), utc_day(end, up=True)
    lo, hi = _utc(start), _utc(end)
    if hi <= lo:
        msg = f"playback: the range {lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC is empty"
        raise InputError(msg)
    size = pd.Timedelta(STEPS[step])
    shown = max(pd.Timedelta(window), size) if window is not None else size
    count = -(-(last - first) // size)
    if count > max_frames:
        msg = (
            f"playback: {count:,} frames of a {step} from {first:%Y-%m-%d} to {last:%Y-%m-%d}: "
            f"at most {max_frames:,} (take a longer step or a shorter range)"
        )
        raise InputError(msg)
    frames = []
    for k in range(count):
        day = first + k * size
        step_end = min(day + size, last)
        until = min(step_end, hi)
        since = lo if cumulative else max(lo, step_end - shown)
        frames.append(Frame(k, day, step_end, since, until))
    return Timeline(first, last, lo, hi, step, shown.to_pytimedelta(), cumulative, tuple(frames))


def _utc(value: datetime | date | pd.Timestamp | str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def last_steps(end: datetime | date | pd.Timestamp | str, steps: int, step: str) -> pd.Timestamp:
    """The start of the last ``steps`` steps of ``step`` before ``end`` (taken on to its next day start)."""
    if step not in STEPS:
        msg = f"playback: step: must be one of {', '.join(STEPS)}, got {step!r}"
        raise InputError(msg)
    if steps < 1:
        msg = f"playback: last: must be 1 or more, got {steps}"
        raise InputError(msg)
    return utc_day(end, up=True) - steps * pd.Timedelta(STEPS[step])
