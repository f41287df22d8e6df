"""Rules that take effect at a date or name a deadline, against dates known to the day, week or month.

The deadline is 2025-01-26 (the last day something is allowed); the rule is in force from
2025-01-27 00:00 UTC. Windows (from the readers' rules, geo.core.dates.window):
``week`` is the reported day +- 3 days; ``month`` is the calendar month widened to at
least 15 days either side of the reported day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from geo._errors import ManifestError
from geo.core.classify import classify
from geo.core.dates import window
from geo.core.manifest import load_scenario

from .scenarios import derived, incidents, rule, scenario

DEADLINE = date(2025, 1, 26)


def _scen():
    return scenario([derived("z", 5000)], [rule("withdraw", "z", ("troop_movement",), deadline=DEADLINE,
                                               valid_from=date(2025, 1, 27))])


def _one(at: str, precision: str, **extra: object) -> pd.Series:
    frame = incidents([{"lon": 0, "lat": 0.01, "category": "troop_movement", "occurred_at": at,
                        "date_precision": precision, **extra}])
    return classify(frame, _scen()).iloc[0]


@pytest.mark.parametrize(
    ("at", "precision", "verdict"),
    [
        # Known to the day: the day decides.
        ("2025-01-26T12:00:00Z", "day", "no_breach"),  # the last allowed day
        ("2025-01-27T00:00:00Z", "day", "breach"),  # the first day in force
        # Known to the week: 2025-01-24 +- 3 days = 21..27 Jan straddles the 27th.
        ("2025-01-24T00:00:00Z", "week", "possible_breach"),
        # 2025-01-31 +- 3 days = 28 Jan..3 Feb: wholly after the deadline.
        ("2025-01-31T00:00:00Z", "week", "breach"),
        # 2025-01-20 +- 3 days = 17..23 Jan: wholly before it.
        ("2025-01-20T00:00:00Z", "week", "no_breach"),
        # Known to the month: February 2025 reported on the 1st widens to 17 Jan..16 Feb.
        ("2025-02-01T00:00:00Z", "month", "possible_breach"),
        # March 2025 reported on the 15th: 1..31 March, wholly after.
        ("2025-03-15T00:00:00Z", "month", "breach"),
        # December 2024 reported on the 15th: 1..31 Dec, wholly before.
        ("2024-12-15T00:00:00Z", "month", "no_breach"),
    ],
)
def test_deadline_verdicts_by_date_precision(at: str, precision: str, verdict: str):
    got = _one(at, precision)
    assert got["verdict"] == verdict, got["verdict_reason"]


def test_the_reason_names_the_date_precision_and_the_deadline():
    got = _one("2025-01-24T00:00:00Z", "week")
    assert got["verdict_reason"] == (
        "date known only to the week: its window straddles the deadline of rule 'withdraw' (2025-01-26)"
    )
    got = _one("2025-02-01T00:00:00Z", "month")
    assert got["verdict_reason"].startswith("date known only to the month:")


def test_a_window_given_by_the_reader_is_kept_when_wider():
    # A day-precision report with an explicit window over the deadline (a range) is possible too.
    got = _one("2025-01-28T00:00:00Z", "range", occurred_from="2025-01-20T00:00:00Z",
               occurred_to="2025-01-28T00:00:00Z")
    assert got["verdict"] == "possible_breach"


def test_a_month_window_without_columns_is_widened_like_the_readers_do():
    at = pd.to_datetime(["2025-02-01T00:00:00Z"]).to_numpy(dtype="datetime64[ns]")
    lo, hi = window(at, pd.Series(["month"]).to_numpy(dtype=object))
    assert str(lo[0])[:10] == "2025-01-17" and str(hi[0])[:10] == "2025-02-28"


def test_a_rule_that_takes_effect_at_a_date_is_silent_before_it():
    scen = scenario([derived("z", 5000)], [rule("r", "z", valid_from=date(2025, 1, 1))])
    frame = incidents([{"lon": 0, "lat": 0.01, "occurred_at": "2024-12-31T23:59:00Z"},
                       {"lon": 0, "lat": 0.01, "occurred_at": "2025-01-01T00:00:00Z"}])
    assert list(classify(frame, scen)["verdict"]) == ["no_breach", "breach"]


def _manifest(tmp_path: Path, rule_extra: str) -> Path:
    (tmp_path / "l.geojson").write_text(
        '{"type":"LineString","coordinates":[[-1,0],[1,0]]}', encoding="utf-8"
    )
    path = tmp_path / "m.toml"
    path.write_text(
        '[scenario]\nname = "t"\n\n[[party]]\nid = "a"\nname = "A"\ncolour = "#112233"\n\n'
        '[[line]]\nid = "l"\nname = "L"\nfile = "l.geojson"\n\n'
        '[[zone]]\nid = "z"\nname = "Z"\nkind = "buffer_zone"\nline = "l"\nwidth_m = 1000\n\n'
        '[[rule]]\nid = "r"\nzone = "z"\nprohibits = ["troop_movement"]\nparties = ["*"]\n'
        f'severity = "high"\ntext = "t"\n{rule_extra}',
        encoding="utf-8",
    )
    return path


def test_manifest_deadline_puts_the_rule_in_force_the_day_after(tmp_path: Path):
    got = load_scenario(_manifest(tmp_path, "deadline = 2021-01-23\n")).rule("r")
    assert (got.deadline, got.valid_from) == (date(2021, 1, 23), date(2021, 1, 24))


def test_manifest_valid_from_not_after_the_deadline_is_a_problem(tmp_path: Path):
    with pytest.raises(ManifestError, match=r"rule\[r\]\.valid_from: 2021-01-23 is not after the deadline"):
        load_scenario(_manifest(tmp_path, "deadline = 2021-01-23\nvalid_from = 2021-01-23\n"))


def test_manifest_deadline_must_be_a_date(tmp_path: Path):
    with pytest.raises(ManifestError, match=r"rule\[r\]\.deadline: not a date"):
        load_scenario(_manifest(tmp_path, 'deadline = "soon"\n'))
