"""The Export page's animations: a GIF or MP4 of the view, frame by frame, with its frame dates, audited."""

from __future__ import annotations

import pandas as pd

from geo import clock
from geo.render.animation import read_info
from tests.dashboard.support import VIEWER, all_text, app, query, scalar, us


def in_frame(db: str, since: str, until: str) -> int:
    return int(
        scalar(
            db,
            "SELECT COUNT(*) FROM incidents WHERE occurred_at >= ? AND occurred_at < ?",
            (us(pd.Timestamp(since)), us(pd.Timestamp(until))),
        )
    )


def test_a_gif_by_day_of_the_7_day_window_then_an_mp4_by_week(db: str) -> None:
    at = app(VIEWER, page="export")
    at.radio(key="e_kind").set_value("gif").run()
    at.selectbox(key="e_step").set_value("day").run()
    at.select_slider(key="e_anim_dpi").set_value(100).run()
    at.button(key="e_go").click().run()
    assert not at.exception, all_text(at)
    kind, name, data, _ = at.session_state["e_file"]
    assert (kind, name[-4:]) == ("gif", ".gif")
    info = read_info(data)
    today = pd.Timestamp(clock.now()).floor("D")
    days = [today - pd.Timedelta(days=7 - k) for k in range(8)]
    assert info.frames == 8 and info.dates == [f"{d:%Y-%m-%d}" for d in days]
    since = info.description["since"]
    start = pd.Timestamp(clock.now()) - pd.Timedelta(days=7)
    assert abs(pd.Timestamp(since[0]) - start) < pd.Timedelta(
        minutes=1
    )  # the window's own start, not midnight
    for lo, hi, n in zip(since, info.description["until"], info.description["incidents"], strict=True):
        assert n == in_frame(db, lo, hi)
    assert "Frame 8 of 8 drawn" in [p.proto.text for p in at.get("progress")][-1]
    assert at.get("download_button")[0].proto.label == f"Download {name}"
    audit = query(db, "SELECT target FROM audit_log WHERE action = 'export'")
    assert audit[-1] == ("gif",)

    at.radio(key="e_kind").set_value("mp4").run()
    at.selectbox(key="e_step").set_value("week").run()
    assert "e_file" not in at.session_state  # prepared for other frames: not handed out
    at.button(key="e_go").click().run()
    assert not at.exception, all_text(at)
    kind, name, data, _ = at.session_state["e_file"]
    info = read_info(data)
    assert kind == "mp4" and info.frames == 2 and info.dates[0] == f"{days[0]:%Y-%m-%d}"
    assert at.get("video")
