"""The one clock every part of Truceline reads: UTC now, or a clock that ``TRUCELINE_NOW`` sets."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from geo._errors import InputError

PIN_VARIABLE = "TRUCELINE_NOW"


def now() -> datetime:
    """
    The current instant, timezone-aware in UTC.

    ``TRUCELINE_NOW`` sets the clock for every process that inherits it (tests, reproducible
    demos, a briefing re-run as of a past moment):

    - ``2026-07-01T03:30:00Z`` stops it at that instant;
    - ``2026-07-01T03:30:00Z@1782876600`` lets it run from that instant, which it read at
      that Unix time: every process then agrees on the same running time.

    An instant without an offset is UTC.
    """
    setting = os.environ.get(PIN_VARIABLE, "").strip()
    if not setting:
        return datetime.now(UTC)
    instant, _, anchor = setting.partition("@")
    try:
        moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
        elapsed = time.time() - float(anchor) if anchor else 0.0
    except ValueError:
        msg = f"{PIN_VARIABLE}: {setting!r} is not an ISO 8601 instant, optionally followed by @UNIX_TIME"
        raise InputError(msg) from None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment + timedelta(seconds=elapsed)


def running_from(instant: str) -> str:
    """The ``TRUCELINE_NOW`` value for a clock that reads ``instant`` now and runs on from it."""
    return f"{instant}@{time.time():.6f}"
