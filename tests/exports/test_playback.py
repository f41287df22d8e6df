"""Animated briefings: the CLI writes GIF and MP4 files whose frames are dated, in order, and differ.

Each file is read back (Pillow, PyAV) for its frame count and the frame dates it carries;
the incidents per frame are counted again with plain SQL on the store file.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geo import clock
from geo.cli import cli
from geo.core.filters import Filters
from geo.core.timeline import timeline
from geo.render.animation import frames_of, read_info
from geo.render.animation.encode import encode
from geo.render.animation.stage import Stage
from geo.render.palette import SYNTHETIC_COLOUR, rgb
from geo.store import open_store


def run(db: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('playback') / 'demo.db'}"
    run(db, "demo", "--n", "2000", "--days", "120", "--end", "2026-06-30", "--private")
    return db


def sql_count(db: str, since: str, until: str, where: str = "1 = 1") -> int:
    path = db.removeprefix("sqlite:///")
    lo, hi = (pd.Timestamp(t).value // 1000 for t in (since, until))
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        value = conn.execute(
            f"SELECT COUNT(*) FROM incidents WHERE occurred_at >= ? AND occurred_at < ? AND {where}", (lo, hi)
        ).fetchone()[0]
    conn.close()
    return int(value)


@pytest.mark.parametrize("suffix", ["gif", "mp4"])
def test_the_last_8_weeks_by_week_make_8_frames_dated_in_order(
    demo_db: str, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"weeks.{suffix}"
    printed = run(demo_db, "playback", "--out", str(out), "--step", "week", "--last", "8")
    data = out.read_bytes()
    info = read_info(data)
    end = pd.Timestamp(clock.now()).ceil("D")
    expected = [f"{end - pd.Timedelta(weeks=8 - k):%Y-%m-%d}" for k in range(8)]
    assert info.frames == 8
    assert info.dates == expected
    assert info.description["step"] == "week" and info.description["synthetic"] is True
    assert printed.startswith(f"{out}: 8 frames, {expected[0]} to {expected[-1]}")
    spans = list(zip(info.description["since"], info.description["until"], strict=True))
    assert all(pd.Timestamp(b) - pd.Timestamp(a) == pd.Timedelta(weeks=1) for a, b in spans[:-1])
    assert pd.Timestamp(spans[-1][1]) <= pd.Timestamp(clock.now())  # the last frame ends at the data's end
    for (since, until), n in zip(spans, info.description["incidents"], strict=True):
        assert n == sql_count(demo_db, since, until)
    pixels = list(frames_of(data))
    assert len(pixels) == 8
    height, width, _ = pixels[0].shape
    assert (width, height) == (1600, 900)
    for a, b in itertools.pairwise(pixels):
        assert np.abs(a.astype(int) - b.astype(int)).max() > 64  # a new date and new incidents each time
    banner = np.array(rgb(SYNTHETIC_COLOUR))
    for frame in pixels:  # the synthetic-data band across the top of every frame
        assert np.abs(np.median(frame[4:30, 40:-40].reshape(-1, 3), axis=0) - banner).max() < 25


def test_filters_windows_and_cumulative_frames_are_honoured(demo_db: str, tmp_path: Path) -> None:
    out = tmp_path / "north.gif"
    run(
        demo_db,
        "playback",
        "--out",
        str(out),
        "--step",
        "day",
        "--window",
        "7",
        "--since",
        "2026-06-01",
        "--until",
        "2026-06-11",
        "--party",
        "north",
        "--seconds",
        "0.5",
        "--dpi",
        "72",
    )
    info = read_info(out.read_bytes())
    assert info.frames == 10 and info.dates[0] == "2026-06-01" and info.dates[-1] == "2026-06-10"
    assert info.description["window_days"] == 7 and info.description["filters"] == {"parties": "north"}
    for since, until, n in zip(
        info.description["since"], info.description["until"], info.description["incidents"], strict=True
    ):
        assert since >= "2026-06-01" and until <= "2026-06-11T00:00:00Z"
        assert n == sql_count(demo_db, since, until, "attributed_party = 'north'")
    out = tmp_path / "all.mp4"
    run(
        demo_db,
        "playback",
        "--out",
        str(out),
        "--since",
        "2026-06-01",
        "--until",
        "2026-06-22",
        "--cumulative",
    )
    info = read_info(out.read_bytes())
    assert info.frames == 3
    assert set(info.description["since"]) == {"2026-06-01T00:00:00Z"}
    assert info.description["incidents"] == sorted(info.description["incidents"])


def test_bad_playback_requests_fail_in_one_line(demo_db: str, tmp_path: Path) -> None:
    out = run(demo_db, "playback", "--out", str(tmp_path / "x.avi"), ok=False)
    assert "the suffix must be .gif or .mp4" in out
    out = run(
        demo_db,
        "playback",
        "--out",
        str(tmp_path / "x.gif"),
        "--step",
        "day",
        "--since",
        "2020-01-01",
        ok=False,
    )
    assert out.strip().splitlines()[-1].startswith("Error: playback: 2,374 frames of a day")
    out = run(demo_db, "playback", "--out", str(tmp_path / "x.gif"), "--party", "nobody", ok=False)
    assert "no incident passes the filters" in out
    assert not (tmp_path / "x.gif").exists()


def test_each_frame_shows_its_legend_counts_scale_bar_and_only_the_zones_in_force(demo_db: str) -> None:
    store = open_store(demo_db)
    scenario = store.scenario()
    tl = timeline("2018-10-29", "2018-11-05", step="day")  # the JSA and 2018 zones start on 1 November
    view = store.query(Filters(since=tl.start.to_pydatetime(), until=tl.end.to_pydatetime()))
    stage = Stage(view, scenario, tl, filters=Filters(), as_of=pd.Timestamp(clock.now()), dpi=72)
    shown = {}
    for frame in tl.frames:
        stage.render(frame)
        shown[frame.key] = {
            layer.item.id for layer in stage.zones if all(a.get_visible() for a in layer.artists)
        }
    assert shown["2018-10-31"] == {"dmz"}
    assert shown["2018-11-01"] == {z.id for z in scenario.zones}
    legend = [t.get_text() for t in stage.panel.texts]
    assert "Breach (0)" in legend and "Joint Security Area, Panmunjom" in legend
    assert any(t.get_text() == "10 km" or t.get_text().endswith(" km") for t in stage.ax.texts)
    names = {label.text.split("\n")[0] for label in stage.place_labels}  # drawn once, under every frame
    assert {"Kaesong", "Cheorwon"} <= names
    assert any(t.get_text().startswith("Place names © GeoNames") for t in stage.ax.texts)
    store.close()


@pytest.mark.benchmark
def test_writing_8_weekly_frames_of_the_demo_takes_at_most_20_s(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'full.db'}"
    run(db, "demo", "--private")  # the full demo: 6000 incidents over 200 days
    for suffix in ("gif", "mp4"):
        start = time.perf_counter()
        run(db, "playback", "--out", str(tmp_path / f"demo.{suffix}"), "--step", "week", "--last", "8")
        elapsed = time.perf_counter() - start
        print(f"playback {suffix}: 8 weekly frames in {elapsed:.2f} s")
        assert elapsed <= 20.0


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_the_encoders_take_any_frame_size_and_refuse_nothing_to_write(fmt: str) -> None:
    frames = [np.full((101, 151, 3), 40 * k, dtype=np.uint8) for k in range(3)]  # odd sizes: H.264 pads them
    data = encode(fmt, iter(frames), {"frames": ["a", "b", "c"]}, seconds=0.5)
    info = read_info(data)
    assert (info.frames, info.dates) == (3, ["a", "b", "c"])
    decoded = list(frames_of(data))
    assert decoded[0].shape[:2] in ((101, 151), (102, 152))
    assert abs(int(decoded[2].mean()) - 80) <= 3
    with pytest.raises(ValueError, match="no frame to write"):
        encode(fmt, iter([]), {}, seconds=1.0)
    with pytest.raises(ValueError, match="frame seconds"):
        encode(fmt, iter(frames), {}, seconds=0.0)
