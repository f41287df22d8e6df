"""The nearest-segment kernel: the same answers for many points at once (every core) or a few at a time."""

from __future__ import annotations

import numpy as np
import shapely

from geo.core._nearest import PARALLEL_FROM, build_index, nearest
from geo.core.model import ON_LINE_TOLERANCE_M


def test_many_points_at_once_or_a_few_at_a_time_give_the_same_answers() -> None:
    rng = np.random.default_rng(7)
    t = np.linspace(0, 50_000, 400)
    line = shapely.LineString(np.c_[t, 3_000 * np.sin(t / 4_000)])  # metres
    index = build_index(line)
    n = PARALLEL_FROM + 1_000
    x, y = rng.uniform(-5_000, 55_000, n), rng.uniform(-10_000, 10_000, n)
    at_once = nearest(index, x, y)  # the parallel kernel
    few = [nearest(index, x[i : i + 100], y[i : i + 100]) for i in range(0, n, 100)]  # the serial one
    for whole, parts in zip(at_once, zip(*few, strict=True), strict=True):
        assert np.array_equal(whole, np.concatenate(parts))
    # How far, by an independent method (GEOS); and both sides of the line are met.
    expected = shapely.distance(line, shapely.points(x, y))
    np.testing.assert_allclose(np.abs(at_once[0]), expected, atol=ON_LINE_TOLERANCE_M)
    assert (at_once[0] > 0).any() and (at_once[0] < 0).any()
