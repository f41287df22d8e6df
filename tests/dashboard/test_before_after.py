"""Trends, Before / after: the agreement date by default, counts SQL agrees with, kept in the URL."""

from __future__ import annotations

import re

import pandas as pd

from geo import clock
from tests.dashboard.support import VIEWER, all_text, app, plain, scalar, us


def count(db: str, party: str, since: pd.Timestamp, until: pd.Timestamp) -> int:
    return int(
        scalar(
            db,
            "SELECT COUNT(*) FROM incidents WHERE COALESCE(attributed_party, '') = ? "
            "AND occurred_at >= ? AND occurred_at < ?",
            (party, us(since), us(until)),
        )
    )


def compared(at: object) -> pd.DataFrame:
    (table,) = [d.value for d in at.dataframe if list(d.value.columns)[:3] == ["Zone", "Party", "Before"]]
    return table


def counted(cell: str) -> int:
    found = re.fullmatch(r"[\d.]+/wk \((\d+)\)", cell)
    assert found, cell
    return int(found.group(1))


def test_the_view_defaults_to_the_agreement_date_and_says_the_data_do_not_reach_it(db: str) -> None:
    at = app(VIEWER, page="trends")
    assert not at.exception, all_text(at)
    assert str(at.date_input(key="ba_at").value) == "1953-07-27"
    text = plain(all_text(at))
    assert "8 weeks before 1953-07-27" in text
    assert "No incident in these weeks." in text
    assert "the counts before may be incomplete" in text


def test_a_chosen_date_compares_the_weeks_either_side_and_lands_in_the_url(db: str) -> None:
    day = (pd.Timestamp(clock.now()) - pd.Timedelta(days=15)).floor("D")
    at = app(VIEWER, page="trends")
    at.date_input(key="ba_at").set_value(day.date()).run()
    at.number_input(key="ba_weeks").set_value(2).run()
    assert not at.exception, all_text(at)
    assert at.query_params["compare_at"] == f"{day:%Y-%m-%d}" and at.query_params["compare_weeks"] == "2"
    table = compared(at)
    assert list(table.columns) == ["Zone", "Party", "Before", "After", "Ratio", "95% CI", "p", "Reading"]
    two = pd.Timedelta(weeks=2)
    for name, stored in (("North", "north"), ("South", "south")):
        rows = table[
            (table["Party"] == name)
            & table["Zone"].isin(["No-fly zone for fixed-wing aircraft (20 km)", "Outside every zone"])
        ]
        assert sum(counted(c) for c in rows["Before"]) == count(db, stored, day - two, day)
        assert sum(counted(c) for c in rows["After"]) == count(db, stored, day, day + two)
    # The link restores the view; a zone filter chooses the rows.
    again = app(
        VIEWER,
        page="trends",
        query_params={"compare_at": f"{day:%Y-%m-%d}", "compare_weeks": "2", "zones": "dmz"},
    )
    assert not again.exception, all_text(again)
    shown = compared(again)
    assert set(shown["Zone"]) == {"Demilitarized Zone"}
    assert str(again.date_input(key="ba_at").value) == f"{day:%Y-%m-%d}"
