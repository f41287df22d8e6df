"""The clock: real time, a stopped clock, and a clock that runs from a set instant."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from geo import clock
from geo._errors import InputError


def test_unset_is_real_utc_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUCELINE_NOW", raising=False)
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)


def test_a_bare_instant_stops_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCELINE_NOW", "2026-07-01T05:30:00+02:00")
    assert clock.now() == datetime(2026, 7, 1, 3, 30, tzinfo=UTC)
    monkeypatch.setenv("TRUCELINE_NOW", "2026-07-01T03:30:00")  # no offset: UTC
    assert clock.now() == datetime(2026, 7, 1, 3, 30, tzinfo=UTC)


def test_an_anchored_instant_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # A whole second, so the anchor is never rounded up past the instant 90 s ago.
    monkeypatch.setenv("TRUCELINE_NOW", f"2026-07-01T03:30:00Z@{int(time.time()) - 90}")
    elapsed = (clock.now() - datetime(2026, 7, 1, 3, 30, tzinfo=UTC)).total_seconds()
    assert 90 <= elapsed < 96
    monkeypatch.setenv("TRUCELINE_NOW", clock.running_from("2026-07-01T03:30:00Z"))
    first = clock.now()
    time.sleep(0.02)
    assert 0.02 <= (clock.now() - first).total_seconds() < 1


@pytest.mark.parametrize("bad", ["yesterday", "2026-07-01@soon"])
def test_a_bad_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("TRUCELINE_NOW", bad)
    with pytest.raises(InputError, match=r"TRUCELINE_NOW: .* is not an ISO 8601 instant"):
        clock.now()
