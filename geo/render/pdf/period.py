"""The period the key figures describe, the previous period, and the history they need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from geo.core.filters import Filters
from geo.render.text import fmt_time, utc

DEFAULT_PERIOD = timedelta(days=7)
SPIKE_LOOKBACK = timedelta(days=35)


@dataclass(frozen=True)
class Period:
    """The key-figures period ``[start, end)`` and the previous period of the same length."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def length(self) -> pd.Timedelta:
        """The length of the period."""
        return self.end - self.start

    @property
    def previous_start(self) -> pd.Timestamp:
        """The start of the previous period (which ends at :attr:`start`)."""
        return self.start - self.length


def key_period(filters: Filters, as_of: datetime | pd.Timestamp) -> Period:
    """
    The period the key figures describe.

    Parameters
    ----------
    filters
        Their window ``[since, until)``; ``until`` is capped at ``as_of``.
    as_of
        When the data was current.

    Returns
    -------
    Period
        ``[since, min(until, as_of))``, or the 7 days before the end when there is no ``since``.
    """
    as_of_ts = utc(as_of)
    end = min(utc(filters.until), as_of_ts) if filters.until else as_of_ts
    start = utc(filters.since) if filters.since else end - DEFAULT_PERIOD
    if start >= end:
        msg = f"brief: filters: the window {fmt_time(start)} to {fmt_time(end)} is empty"
        raise ValueError(msg)
    return Period(start, end)


def history_since(filters: Filters, as_of: datetime | pd.Timestamp) -> pd.Timestamp:
    """
    The earliest time the ``history`` of :func:`~geo.render.pdf.render_briefing_pdf` must cover.

    Returns
    -------
    pandas.Timestamp
        The start of the previous period, or 5 weeks before the end if that is earlier
        (the spike alerts compare the last week with the 4 before it).
    """
    period = key_period(filters, as_of)
    return min(period.previous_start, period.end - SPIKE_LOOKBACK)
