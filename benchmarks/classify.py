"""Classify 1M and 5M synthetic incidents against the demo scenario; compare with naive geopandas.

Run: ``python -m benchmarks.classify [--sizes 1000000 5000000] [--repeat 5]``

Prints, per size, the median time of ``geo.classify.classify`` (zones, signed distance,
side, attribution and verdict), the median of the naive path (``sjoin`` per drawn zone,
``to_crs`` and ``GeoSeries.distance`` per line; see ``benchmarks/naive.py``) and their
ratio, and checks that both agree.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pandas as pd

from benchmarks._timing import timed
from benchmarks.naive import naive_classify
from geo.classify import classify, prepare
from geo.demo import DEMO_MANIFEST, generate_incidents
from geo.manifest import load_scenario


def setup(n: int) -> tuple[pd.DataFrame, object]:
    scenario = load_scenario(DEMO_MANIFEST)
    incidents = generate_incidents(scenario, n=n, days=200, end=pd.Timestamp("2026-06-30").date(), seed=0)
    # The naive path knows only reported parties: give every incident one.
    incidents["party"] = np.where(incidents["lat"] > 38.0, "north", "south")
    return incidents, scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-repeat", type=int, default=1)
    args = parser.parse_args()
    for n in args.sizes:
        incidents, scenario = setup(n)
        prepared = prepare(scenario)
        classify(incidents.head(1000), prepared)  # compile the kernels once, outside the timing
        ours, result = timed(lambda inc=incidents, p=prepared: classify(inc, p), args.repeat)
        setup_time, _ = timed(lambda s=scenario: prepare(replace(s)), args.repeat)
        crs = prepared.projection.crs
        naive, reference = timed(
            lambda inc=incidents, s=scenario, c=crs: naive_classify(inc, s, c), args.naive_repeat
        )
        agree = result["verdict"].astype(str).to_numpy() == reference["verdict"].to_numpy()
        distance_gap = float(
            np.nanmax(np.abs(result["distance_m"].to_numpy() - reference["distance_m"].to_numpy()))
        )
        print(
            f"n={n:>9,}  ours {ours:6.3f} s (median of {args.repeat}; +{setup_time * 1000:.0f} ms to prepare "
            f"a scenario once)  naive {naive:7.3f} s  ratio {naive / ours:5.1f}x  "
            f"verdicts agree on {agree.mean():.4%} of rows, max distance gap {distance_gap:.3f} m"
        )


if __name__ == "__main__":
    main()
