"""Timelines: frames by day or week from the start day, sliding or cumulative windows, the last steps."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from geo import InputError
from geo.core.timeline import last_steps, timeline, utc_day

T = pd.Timestamp


def test_eight_weeks_make_eight_weekly_frames_whatever_the_weekday() -> None:
    start = T("2024-05-01T13:20:00Z")  # a Wednesday afternoon: the frames start that day
    tl = timeline(start, start + pd.Timedelta(weeks=8) - pd.Timedelta(hours=14), step="week")
    assert [f.key for f in tl.frames] == [
        f"{T('2024-05-01') + pd.Timedelta(weeks=k):%Y-%m-%d}" for k in range(8)
    ]
    third = tl.frames[2]
    assert (third.since, third.until) == (T("2024-05-15T00:00Z"), T("2024-05-22T00:00Z"))
    assert third.span == "2024-05-15 to 2024-05-21"
    assert tl.index_of("2024-05-15") == 2 and tl.index_of("2024-05-16") is None


def test_a_sliding_window_ends_with_its_step_and_never_reaches_before_the_start() -> None:
    tl = timeline("2024-01-01", "2024-01-10", step="day", window=timedelta(days=7))
    assert len(tl.frames) == 9
    first, fifth, last = tl.frames[0], tl.frames[4], tl.frames[-1]
    assert (first.since, first.until) == (T("2024-01-01T00:00Z"), T("2024-01-02T00:00Z"))
    assert (fifth.since, fifth.until) == (T("2024-01-01T00:00Z"), T("2024-01-06T00:00Z"))
    assert (last.since, last.until) == (T("2024-01-03T00:00Z"), T("2024-01-10T00:00Z"))
    assert last.span == "2024-01-09"
    # A window shorter than the step is the step.
    assert timeline("2024-01-01", "2024-01-15", step="week", window=timedelta(days=1)).window == timedelta(
        days=7
    )


def test_cumulative_frames_show_everything_since_the_start_and_a_cut_last_step_ends_at_the_end() -> None:
    tl = timeline("2024-01-01", "2024-01-18", step="week", cumulative=True)
    assert [(f.since, f.until) for f in tl.frames] == [
        (T("2024-01-01T00:00Z"), T("2024-01-08T00:00Z")),
        (T("2024-01-01T00:00Z"), T("2024-01-15T00:00Z")),
        (T("2024-01-01T00:00Z"), T("2024-01-18T00:00Z")),
    ]
    assert tl.frames[-1].span == "2024-01-15 to 2024-01-17"


def test_the_last_steps_end_with_the_day_holding_the_end() -> None:
    end = T("2026-07-01T03:30:00Z")
    start = last_steps(end, 8, "week")
    assert start == T("2026-05-07T00:00Z")
    tl = timeline(start, end, step="week")
    assert len(tl.frames) == 8 and tl.end == T("2026-07-02T00:00Z")
    assert utc_day(T("2026-07-02T00:00Z"), up=True) == T("2026-07-02T00:00Z")


def test_bad_timelines_are_refused_in_one_line() -> None:
    with pytest.raises(InputError, match="step: must be one of day, week"):
        timeline("2024-01-01", "2024-02-01", step="month")
    with pytest.raises(InputError, match="is empty"):
        timeline("2024-01-02", "2024-01-01")
    with pytest.raises(InputError, match=r"1,096 frames of a day .* at most 1,000"):
        timeline("2024-01-01", "2027-01-01", step="day")
    with pytest.raises(InputError, match="last: must be 1 or more"):
        last_steps("2024-01-01", 0, "day")
