"""ACLED exports, both layouts, from fixtures written to the published column lists."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from geo.io.readers import detect
from geo.io.readers.acled import COLUMNS_2023, COLUMNS_PRE_2023
from tests.readers.readers_support import ACLED_PARTIES, DATA, korea_party_mapping

CURRENT = DATA / "acled_2023.csv"
OLD = DATA / "acled_pre2023.csv"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_fixtures_follow_the_published_column_lists():
    for path, columns in ((CURRENT, COLUMNS_2023), (OLD, COLUMNS_PRE_2023)):
        with path.open(encoding="utf-8", newline="") as handle:
            assert tuple(next(csv.reader(handle))) == columns
    assert len(COLUMNS_2023) == len(COLUMNS_PRE_2023) == 31
    assert {"disorder_type", "civilian_targeting", "tags"} <= set(COLUMNS_2023) - set(COLUMNS_PRE_2023)
    assert set(COLUMNS_PRE_2023) - set(COLUMNS_2023) == {"data_id", "event_id_no_cnty", "iso3"}


def test_both_layouts_are_detected():
    assert (detect(CURRENT).format, detect(CURRENT).layout) == ("acled", "acled-2023")
    assert (detect(OLD).format, detect(OLD).layout) == ("acled", "acled-pre-2023")


def test_current_layout(read_all):
    result = read_all(CURRENT, party_mapping=ACLED_PARTIES)
    assert result.rows_read == 10
    assert set(result.frame["source"]) == {"acled"}
    # KOR1003's notes span two lines: the records after it start one line further down.
    assert result.frame["line_no"].tolist() == [2, 3, 4, 6, 7, 8, 9]
    assert result.frame["source_event_id"].tolist() == [f"KOR{1000 + i}" for i in range(1, 8)]

    shelling = result.row("KOR1001")
    assert shelling["category"] == "artillery_fire"
    assert shelling["sub_category"] == "Shelling/artillery/missile attack"
    assert (shelling["date_precision"], shelling["location_precision"]) == ("day", "near")
    assert shelling["occurred_from"] == ts("2024-01-05T00:00Z")
    assert shelling["occurred_to"] == ts("2024-01-05T23:59:59Z")
    assert (shelling["party"], shelling["party_basis"]) == ("north", "actor_mapping")
    assert shelling["verification"] == "reported"

    # "12 February 2024", time_precision 2 (a week), geo_precision 2 (coarse).
    week = result.row("KOR1002")
    assert week["occurred_at"] == ts("2024-02-12T00:00Z")
    assert (week["occurred_from"], week["occurred_to"]) == (ts("2024-02-09T00:00Z"),
                                                            ts("2024-02-15T23:59:59Z"))
    assert (week["date_precision"], week["location_precision"]) == ("week", "area")
    assert week["category"] == "construction"

    # "20-Mar-24", time_precision 3 (a month): the window covers all of March and at least 15 days each side.
    month = result.row("KOR1003")
    assert month["occurred_at"] == ts("2024-03-20T00:00Z")
    assert (month["occurred_from"], month["occurred_to"]) == (ts("2024-03-01T00:00Z"),
                                                              ts("2024-04-04T23:59:59Z"))
    assert (month["date_precision"], month["location_precision"]) == ("month", "region")
    # Both actors map, to different parties: actor1 is not "the aggressor", so no party.
    assert (month["party"], month["party_basis"]) == ("", "")
    assert month["actor"] == "Military Forces of South Korea (2022-) | Military Forces of North Korea (2011-)"
    assert pd.isna(month["fatalities"])

    # "4 May 2024", a month name.
    attack = result.row("KOR1004")
    assert attack["occurred_at"] == ts("2024-05-04T00:00Z")
    assert attack["category"] == "violence_against_civilians"
    assert (attack["target"], attack["fatalities"]) == ("civilians", 1)
    # Multi-value fields are kept whole, separators and all.
    assert "Associated with actor 2: Farmers (South Korea); Women (South Korea)" in attack["description"]
    assert "Tags: local administrators; women targeted: farmers" in attack["description"]
    assert attack["description"].startswith("On 4 May 2024, unidentified men assaulted farmers near Paju.")

    timed = result.row("KOR1005")
    assert (timed["occurred_at"], timed["date_precision"]) == (ts("2024-06-01T14:30Z"), "exact")
    assert timed["occurred_from"] == timed["occurred_to"] == timed["occurred_at"]
    assert (timed["category"], timed["party"]) == ("air_strike", "south")

    protest = result.row("KOR1006")
    assert protest["category"] == "demonstration"  # Protests/Peaceful protest falls back to "Protests"
    assoc = "Associated with actor 1: Labor Group (South Korea); Civilians (South Korea)"
    assert assoc in protest["description"]

    unknown = result.row("KOR1007")
    assert (unknown["category"], unknown["location_precision"]) == ("other", "region")


def test_current_layout_warnings_and_rejects(read_all):
    result = read_all(CURRENT, party_mapping=ACLED_PARTIES)
    assert result.warnings == [
        "line 4: party: actors map to different parties (actor1 'Military Forces of South Korea (2022-)' "
        "-> south, actor2 'Military Forces of North Korea (2011-)' -> north); party left empty",
        "line 9: geo_precision: unknown code '4' (expected 1, 2, 3); treated as 'region'",
        "line 9: event_type: unknown ACLED event type 'Cyber operations' (sub_event_type 'Jamming'); "
        "stored as 'other'",
    ]
    assert result.rejected["line_no"].tolist() == [10, 11, 12]
    assert result.reason(10) == "latitude: missing value"
    assert result.reason(11) == "event_date: '2099-01-01' is in the future (now is 2025-01-01 00:00 UTC)"
    assert result.reason(12) == "fatalities: '-2' is negative"
    raw = result.rejected.set_index("line_no")["raw"]
    assert raw[10].startswith("KOR1008,2024-06-21,2024,1,Political violence,Battles,Armed clash,")


def test_pre_2023_layout(read_all):
    result = read_all(OLD, party_mapping=ACLED_PARTIES)
    assert (result.rows_read, len(result.rejected)) == (3, 0)
    office = result.row("PRK321")
    assert office["occurred_at"] == ts("2020-06-16T00:00Z")  # "16 June 2020"
    assert (office["category"], office["party"], office["location_name"]) == ("other", "north", "Kaesong")
    clash = result.row("KOR402")
    assert clash["occurred_at"] == ts("2020-05-03T00:00Z")  # "03-May-20"
    assert (clash["category"], clash["party"]) == ("armed_clash", "")
    shot = result.row("KOR415")
    assert shot["occurred_at"] == ts("2020-09-22T00:00Z")  # "22/09/2020", a week
    assert (shot["date_precision"], shot["occurred_from"], shot["occurred_to"]) == (
        "week", ts("2020-09-19T00:00Z"), ts("2020-09-25T23:59:59Z"))
    assert (shot["location_precision"], shot["party"], shot["fatalities"]) == ("area", "north", 1)


DATES = [
    ("2024-03-05", "2024-03-05T00:00Z", "day"),
    ("2024-03-05 14:20", "2024-03-05T14:20Z", "exact"),
    ("2024-03-05 14:20:30", "2024-03-05T14:20:30Z", "exact"),
    ("05 March 2024", "2024-03-05T00:00Z", "day"),
    ("5 March 2024 14:20", "2024-03-05T14:20Z", "exact"),
    ("05-Mar-24", "2024-03-05T00:00Z", "day"),
    ("05-Mar-24 14:20:30", "2024-03-05T14:20:30Z", "exact"),
    ("05/03/2024", "2024-03-05T00:00Z", "day"),
    ("05/03/2024 14:20", "2024-03-05T14:20Z", "exact"),
]


def acled_rows(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS_2023), lineterminator="\n")
    writer.writeheader()
    base = {"event_id_cnty": "KOR1", "time_precision": "1", "event_type": "Battles",
            "sub_event_type": "Armed clash", "latitude": "38.1", "longitude": "127.1", "geo_precision": "1"}
    for row in rows:
        writer.writerow({**base, **row})
    return out.getvalue().encode()


@pytest.mark.parametrize(("text", "expected", "precision"), DATES)
def test_every_acled_date_format(read_all, text, expected, precision):
    # A lone 05/03/2024 says nothing about its order: it is chosen here.
    row = read_all(acled_rows({"event_date": text}), dayfirst=True).frame.iloc[0]
    assert (row["occurred_at"], row["date_precision"]) == (ts(expected), precision)


def test_mixed_date_formats_in_one_file(read_all):
    rows = [{"event_date": d, "event_id_cnty": f"K{i}"} for i, (d, _, _) in enumerate(DATES)]
    # 25/03/2024 can only be day first, so 05/03/2024 is 5 March too.
    result = read_all(acled_rows(*rows, {"event_date": "25/03/2024", "event_id_cnty": "K99"}))
    assert result.frame["occurred_at"].tolist() == [*(ts(e) for _, e, _ in DATES), ts("2024-03-25T00:00Z")]


def test_unparseable_acled_date_is_rejected(read_all):
    result = read_all(acled_rows({"event_date": "March 5th"}))
    assert result.reason(2) == ("event_date: 'March 5th' is not a date (expected a date such as 2024-05-01, "
                                "2024-05-01T14:30:00Z, 29/08/2014, 8/29/2014 2:30 PM, 29-Aug-14, or a "
                                "spreadsheet date number)")


def test_missing_time_precision_takes_the_widest_window(read_all):
    result = read_all(acled_rows({"event_date": "2024-03-20", "time_precision": ""}))
    row = result.frame.iloc[0]
    assert row["date_precision"] == "month"
    assert result.warnings == [
        "line 2: time_precision: unknown code '' (expected 1, 2, 3); treated as 'month'"]


def test_uppercase_old_headers_are_read(read_all):
    data = OLD.read_text(encoding="utf-8")
    header, rest = data.split("\n", 1)
    result = read_all((header.upper() + "\n" + rest).encode())
    assert detect((header.upper() + "\n" + rest).encode()).layout == "acled-pre-2023"
    assert result.frame["source_event_id"].tolist() == ["PRK321", "KOR402", "KOR415"]


def test_demo_mapping_does_not_attribute_attacks_on_civilians(read_all):
    # A broad "South Korea" (icontains) pattern would also match "Civilians (South Korea)" and pin
    # the attack on farmers on the army; the demo mapping names armed forces only.
    demo = read_all(CURRENT, party_mapping=korea_party_mapping()).row("KOR1004")
    broad = read_all(CURRENT, party_mapping=[("South Korea", "icontains", "south")]).row("KOR1004")
    assert (demo["party"], broad["party"]) == ("", "south")
