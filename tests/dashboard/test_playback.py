"""The live map's playback: a link opens its frame, the step buttons move it, each frame draws its incidents.

Every expected number is counted from the store file with plain SQL.
"""

from __future__ import annotations

import re

import pandas as pd

from geo import clock
from tests.dashboard.support import (
    VIEWER,
    all_text,
    app,
    map_args,
    marker_payloads,
    scalar,
    us,
)


def day_count(db: str, first: pd.Timestamp, days: int, *, since: pd.Timestamp | None = None) -> int:
    """Incidents in ``days`` days from ``first`` (from ``since`` when later: the window's own start)."""
    start = max(first, since) if since is not None else first
    return int(
        scalar(
            db,
            "SELECT COUNT(*) FROM incidents WHERE occurred_at >= ? AND occurred_at < ?",
            (us(start), us(first + pd.Timedelta(days=days))),
        )
    )


def drawn(at: object) -> int:
    args = map_args(at)
    return sum(len(p["lat"]) for p in marker_payloads(args["feature_group"] or ""))


def frame_caption(at: object) -> str:
    found = [c.value for c in at.caption if c.value.startswith("**Frame ")]
    assert len(found) == 1, all_text(at)
    return found[0]


def test_a_link_opens_its_frame_and_the_step_buttons_move_it(db: str) -> None:
    today = pd.Timestamp(clock.now()).floor("D")
    first = (pd.Timestamp(clock.now()) - pd.Timedelta(days=30)).floor("D")
    day = today - pd.Timedelta(days=10)
    at = app(
        VIEWER,
        query_params={"window": "30d", "frame": f"{day:%Y-%m-%d}", "frame_step": "day", "frame_window": "0"},
    )
    assert not at.exception, all_text(at)
    assert at.radio(key="m_mode").value == "playback"
    frames = (today - first).days + 1
    assert frame_caption(at).startswith(f"**Frame {(day - first).days + 1} of {frames}: {day:%Y-%m-%d}**")
    assert drawn(at) == day_count(db, day, 1) > 0
    assert at.query_params["frame"] == f"{day:%Y-%m-%d}"
    assert "incidents match" not in all_text(at)  # the live caption and KPIs are not shown

    at.button(key="p_forward").click().run()
    nxt = day + pd.Timedelta(days=1)
    assert frame_caption(at).startswith(f"**Frame {(nxt - first).days + 1} of {frames}: {nxt:%Y-%m-%d}**")
    assert drawn(at) == day_count(db, nxt, 1)
    assert at.query_params["frame"] == f"{nxt:%Y-%m-%d}"
    at.button(key="p_back").click().run()
    at.button(key="p_back").click().run()
    assert at.query_params["frame"] == f"{day - pd.Timedelta(days=1):%Y-%m-%d}"


def test_weekly_sliding_and_cumulative_frames_count_their_days(db: str) -> None:
    since = pd.Timestamp(clock.now()) - pd.Timedelta(days=30)  # incidents keep an hour away from it
    first = since.floor("D")
    at = app(VIEWER, query_params={"window": "30d", "frame": f"{first:%Y-%m-%d}", "frame_step": "week"})
    assert not at.exception, all_text(at)
    assert frame_caption(at).startswith(f"**Frame 1 of 5: {first:%Y-%m-%d} to ")
    assert drawn(at) == day_count(db, first, 7, since=since)  # the first frame starts with the window
    at.selectbox(key="p_window").set_value(30).run()
    at.button(key="p_forward").click().run()
    assert drawn(at) == day_count(db, first, 14, since=since)  # a 30-day window cannot reach before it
    at.selectbox(key="p_show").set_value("cumulative").run()
    at.button(key="p_forward").click().run()
    assert drawn(at) == day_count(db, first, 21, since=since)
    assert at.query_params["frame_show"] == "cumulative" and at.query_params["frame_window"] == "30"


def test_play_toggles_and_going_live_takes_the_frame_out_of_the_url(db: str) -> None:
    at = app(VIEWER)
    assert at.radio(key="m_mode").value == "live"
    at.radio(key="m_mode").set_value("playback").run()
    assert not at.exception, all_text(at)
    assert re.match(r"\*\*Frame 8 of 8: ", frame_caption(at))  # the last frame of the 7-day window
    assert at.query_params["frame"]
    play = at.button(key="p_play")
    assert play.label == "Play"
    play.click().run()
    assert at.button(key="p_play").label == "Pause"
    at.radio(key="m_mode").set_value("live").run()
    assert "frame" not in at.query_params
    assert "incidents match" in all_text(at)


def test_frames_are_hex_cells_throughout_when_the_fullest_frame_is_too_big_for_markers(db: str) -> None:
    from dashboard import live_view
    from geo.core.filters import Filters
    from geo.core.timeline import timeline
    from geo.store import open_store

    store = open_store(db)
    view = store.query(Filters())
    frames = timeline(view["occurred_at"].min(), clock.now(), step="week")
    assert not live_view.playback_cells(view, frames)
    big = pd.concat([view] * 30, ignore_index=True)  # the fullest week now holds over 3000
    assert live_view.playback_cells(big, frames)
    layers = live_view.frame_layers(
        store, live_view.frame_view(big, frames.frames[0]), store.scenario(), cells=True
    )
    drawn_as = {type(child).__name__ for layer in layers for child in layer._children.values()}
    assert drawn_as == {"HexCells"}
    store.close()
