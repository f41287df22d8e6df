"""Playback and animated briefings: per-frame cost on the live map, and writing an animation.

Run: ``python -m benchmarks.playback [--n 1000000] [--animation-n 6000] [--repeat 1]``

- Live map playback over ``n`` demo incidents (200 days): for weekly, daily, 30-day sliding
  and weekly cumulative frames, the server time to filter a frame and build its layers
  (hex cells, as the page does past 3000 incidents in a frame) and the layer payload per
  frame; against it, the payload a client-side player would have to send up front (every
  frame's cells at once).
- Animated briefing of the demo's last 8 weeks by week (``animation-n`` incidents over
  200 days), GIF and MP4 at 16:9 and 150 dpi: ``geo.render.animation.render_animation``
  (still parts drawn once) against the naive path, a full ``render_map_image`` per frame
  at the same size, encoded the same way. Bar: 8 frames in at most 20 s.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import pandas as pd

from benchmarks._timing import machine, timed
from geo.core.classify import classify, prepare
from geo.core.filters import Filters
from geo.core.manifest import load_scenario
from geo.core.timeline import last_steps, shows, timeline
from geo.render.animation import render_animation
from geo.render.animation.encode import encode
from geo.render.image import render_map_image
from geo.render.webmap import incident_layers
from geo.render.webmap.elements import HexCells
from geo.services.demo import DEMO_MANIFEST, generate_incidents

END = date(2026, 6, 30)
AS_OF = pd.Timestamp("2026-07-01T00:00:00Z")


def demo_view(n: int) -> tuple[pd.DataFrame, object]:
    scenario = load_scenario(DEMO_MANIFEST)
    incidents = generate_incidents(scenario, n=n, days=200, end=END, seed=1)
    view = incidents.join(classify(incidents, prepare(scenario)))
    view["incident_id"] = np.arange(1, len(view) + 1)
    return view, scenario


def playback(n: int) -> None:
    view, scenario = demo_view(n)
    print(f"\nlive map playback, {n:,} incidents over 200 days (hex cells)")
    cases = (
        ("weekly", "week", None, False),
        ("daily", "day", None, False),
        ("daily, 30-day window", "day", pd.Timedelta(days=30), False),
        ("weekly, cumulative", "week", None, True),
    )
    for name, step, window, cumulative in cases:
        frames = timeline(view["occurred_at"].min(), AS_OF, step=step, window=window, cumulative=cumulative)
        times, sizes = [], []
        for frame in frames.frames[:: max(len(frames.frames) // 12, 1)]:
            start = time.perf_counter()
            layers = incident_layers(view[shows(frame, view["occurred_at"])], scenario, max_markers=0)
            times.append(time.perf_counter() - start)
            sizes.append(
                sum(len(c.payload) for g in layers for c in g._children.values() if isinstance(c, HexCells))
            )
        up_front = float(np.mean(sizes)) * len(frames.frames)
        fullest = int(frames.counts(view["occurred_at"]).max())
        print(
            f"  {name:22s} {len(frames.frames):4d} frames, fullest {fullest:>9,}: "
            f"{min(times):.2f}-{max(times):.2f} s and {min(sizes) / 1e3:.0f}-{max(sizes) / 1e3:.0f} kB "
            f"a frame; all frames up front ~{up_front / 1e6:.0f} MB"
        )


def animation(n: int, repeat: int) -> None:
    view, scenario = demo_view(n)
    frames = timeline(last_steps(AS_OF, 8, "week"), AS_OF, step="week")
    times = pd.to_datetime(view["occurred_at"], utc=True)
    window = view[((times >= frames.since) & (times < frames.until)).to_numpy()]
    print(f"\nanimated briefing, the last 8 weeks by week ({len(window):,} of {n:,} incidents)")
    for fmt in ("gif", "mp4"):
        ours, data = timed(
            lambda fmt=fmt: render_animation(
                window, scenario, frames, fmt=fmt, filters=Filters(), as_of=AS_OF, dpi=150
            ),
            repeat,
        )

        def naive(fmt: str = fmt) -> bytes:
            pictures = []
            for frame in frames.frames:
                shown = Filters(since=frame.since.to_pydatetime(), until=frame.until.to_pydatetime())
                image = render_map_image(
                    window[shows(frame, window["occurred_at"])],
                    scenario,
                    filters=shown,
                    as_of=AS_OF,
                    size="16:9",
                    dpi=150,
                )
                pictures.append(_decode(image.png))
            return encode(fmt, pictures, {}, seconds=1.0)

        base, _ = timed(naive, repeat)
        print(
            f"  {fmt}: {ours:.2f} s ({len(data) / 1e6:.2f} MB); a full map image per frame {base:.2f} s "
            f"(x{base / ours:.1f}); bar 20 s"
        )


def _decode(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--animation-n", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    animation(args.animation_n, args.repeat)
    playback(args.n)


if __name__ == "__main__":
    main()
