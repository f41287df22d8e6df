"""The interval an incident happened in, from its reported time and its date precision."""

from __future__ import annotations

import numpy as np

END_OF_DAY = np.timedelta64(86399, "s")
"""The last second of a day, from its midnight."""

WIDE_PRECISIONS = ("week", "month", "year")
"""Date precisions whose window spans several days."""


def window(at: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    The interval an incident happened in, from its reported time and date precision.

    ``exact``: the instant. ``day``: that UTC day. ``week``: 3 days either side.
    ``month``: the calendar month, widened to at least 15 days either side. ``year``:
    the calendar year. ``range`` is left to the caller (both ends equal ``at`` here).
    """
    day = at.astype("datetime64[D]").astype("datetime64[ns]")
    start, end = at.copy(), at.copy()
    eod = END_OF_DAY.astype("timedelta64[ns]")
    for name, before, after in (("day", 0, 0), ("week", 3, 3)):
        m = precision == name
        start[m] = day[m] - np.timedelta64(before, "D")
        end[m] = day[m] + np.timedelta64(after, "D") + eod
    m = precision == "month"
    if m.any():
        month0 = at[m].astype("datetime64[M]")
        first = month0.astype("datetime64[ns]")
        last = (month0 + 1).astype("datetime64[ns]") - np.timedelta64(1, "s").astype("timedelta64[ns]")
        start[m] = np.minimum(first, day[m] - np.timedelta64(15, "D"))
        end[m] = np.maximum(last, day[m] + np.timedelta64(15, "D") + eod)
    m = precision == "year"
    if m.any():
        year0 = at[m].astype("datetime64[Y]")
        start[m] = year0.astype("datetime64[ns]")
        end[m] = (year0 + 1).astype("datetime64[ns]") - np.timedelta64(1, "s").astype("timedelta64[ns]")
    return start, end
