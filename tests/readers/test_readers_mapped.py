"""Any other CSV through a column mapping: a TOML file or field=column pairs."""

from __future__ import annotations

import pandas as pd
import pytest

from geo._errors import ReaderError
from geo.io.readers import ColumnMapping, detect, load_mapping, mapping_from_pairs
from tests.readers.readers_support import DATA

CSV = DATA / "mapped_monitor.csv"
TOML = DATA / "mapped_monitor.toml"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_mapping_file_is_loaded():
    mapping = load_mapping(TOML)
    assert mapping.columns["lat"] == "Latitude"
    assert (mapping.timezone, mapping.dayfirst, mapping.source) == ("Asia/Seoul", True, "team-b")
    assert mapping.defaults == {"location_precision": "near"}
    assert mapping.values["category"]["Shelling"] == "artillery_fire"


def test_mapped_file(read_all):
    mapping = load_mapping(TOML)
    found = detect(CSV, mapping=mapping)
    assert (found.format, found.delimiter, found.columns[0]) == ("mapped", ";", "Report No")
    parties = (("KPA", "icontains", "north"), ("ROK Army", "iexact", "south"))
    result = read_all(CSV, mapping=mapping, party_mapping=parties)
    assert result.rows_read == 5
    assert result.frame["line_no"].tolist() == [2, 3, 4, 6]
    first = result.row("B-101")
    # 03/04/2024 14:30 is day-first and local to Seoul (UTC+9).
    assert (first["occurred_at"], first["date_precision"]) == (ts("2024-04-03T05:30Z"), "exact")
    # Decimal commas are read as decimal points.
    assert (first["lat"], first["lon"]) == (38.2561, 127.2134)
    assert (first["category"], first["verification"]) == ("artillery_fire", "verified")
    assert (first["source"], first["location_precision"]) == ("team-b", "near")
    assert (first["party"], first["party_basis"]) == ("north", "actor_mapping")
    second = result.row("B-102")
    assert (second["category"], second["verification"]) == ("small_arms_fire", "reported")
    assert second["party"] == "south"
    assert second["description"] == 'Single shots; "warning" fire'
    # An explicit offset wins over the mapping's time zone; values match case-insensitively.
    third = result.row("B-103")
    assert (third["occurred_at"], third["category"]) == (ts("2024-04-05T14:10Z"), "drone_activity")
    assert result.reason(5).startswith("Date/Time: '31/04/2024 10:00' is not a date")
    assert result.warnings == ["line 6: Type: unknown value 'Leaflets'; stored as 'other'"]


def test_pairs_give_the_same_result_as_the_file(read_all):
    pairs = [
        "event_id=Report No", "occurred_at=Date/Time", "lat=Latitude", "lon=Longitude", "category=Type",
        "actor=Unit", "fatalities=Casualties", "verification=Confidence", "description=Notes",
        "dayfirst=yes", "timezone=Asia/Seoul", "source=team-b", "default.location_precision=near",
        "values.category.Shelling=artillery_fire", "values.category.Gunfire=small_arms_fire",
        "values.category.Drone=drone_activity", "values.verification.Confirmed=verified",
        "values.verification.Unconfirmed=reported",
    ]
    from_pairs = read_all(CSV, mapping=mapping_from_pairs(pairs))
    from_file = read_all(CSV, mapping=load_mapping(TOML))
    pd.testing.assert_frame_equal(from_pairs.frame, from_file.frame)


def test_date_format_option(read_all):
    data = b"when,y,x\n05.04.2024 10:15,38.1,127.1\n"
    mapping = mapping_from_pairs(["occurred_at=when", "lat=y", "lon=x", "date_format=%d.%m.%Y %H:%M"])
    result = read_all(data, mapping=mapping)
    row = result.frame.iloc[0]
    assert row["occurred_at"] == ts("2024-04-05T10:15Z")
    assert (row["category"], row["source"]) == ("other", "monitor")
    assert detect(data, mapping=mapping).warnings == [
        "category: not mapped; every incident is stored as 'other'"]
    bad = read_all(b"when,y,x\n2024-04-05,38.1,127.1\n", mapping=mapping)
    assert bad.reason(2) == "when: '2024-04-05' is not a date (expected %d.%m.%Y %H:%M)"


def test_month_first_dates(read_all):
    data = b"when,y,x\n04/05/2024,38.1,127.1\n"
    mapping = mapping_from_pairs(["occurred_at=when", "lat=y", "lon=x", "dayfirst=false"])
    assert read_all(data, mapping=mapping).frame["occurred_at"].tolist() == [ts("2024-04-05T00:00Z")]


def test_columns_match_ignoring_case_and_spaces(read_all):
    data = b" WHEN ,Y,X\n2024-04-05,38.1,127.1\n"
    result = read_all(data, mapping=mapping_from_pairs(["occurred_at=when", "lat=y", "lon=x"]))
    assert result.rows_read == 1 and result.rejected.empty


def test_source_name_beats_the_mapping_source(read_all):
    data = b"when,y,x\n2024-04-05,38.1,127.1\n"
    mapping = mapping_from_pairs(["occurred_at=when", "lat=y", "lon=x", "source=from-mapping"])
    assert read_all(data, mapping=mapping, source_name="from-cli").frame["source"].tolist() == ["from-cli"]
    assert read_all(data, mapping=mapping).frame["source"].tolist() == ["from-mapping"]


BASE = ["occurred_at=w", "lat=y", "lon=x"]


@pytest.mark.parametrize(("pairs", "problem"), [
    (["lat=y", "lon=x"], "mapping flags: columns: occurred_at must be mapped"),
    ([*BASE, "latitude=z"], "columns.latitude: unknown field"),
    ([*BASE, "timezone=Mars/Olympus"], "options.timezone: unknown time zone"),
    ([*BASE, "dayfirst=perhaps"], "options.dayfirst: must be true or false"),
    ([*BASE, "date_format=dd/mm/yyyy"], "options.date_format: not a strptime format"),
    ([*BASE, "default.category=shelling"], "defaults.category: 'shelling' is not one"),
    ([*BASE, "values.category.Shell=boom"], "values.category.Shell: 'boom' is not"),
    ([*BASE, "encoding=klingon"], "options.encoding: unknown encoding"),
    (["occurred_at"], "'occurred_at': expected field=column"),
])
def test_bad_mappings_are_refused_with_a_clear_line(pairs, problem):
    with pytest.raises(ReaderError, match=r"^mapping flags: ") as err:
        mapping_from_pairs(pairs)
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_mapping_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[columns]\nlat = "y"\n[extras]\na = 1\n', encoding="utf-8")
    with pytest.raises(ReaderError, match=r"^m\.toml: extras: unknown table .*; columns: occurred_at, lon"):
        load_mapping(path)
    path.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"^m\.toml: cannot read the mapping"):
        load_mapping(path)
    with pytest.raises(ReaderError, match=r"^nope\.toml: mapping file not found"):
        load_mapping(tmp_path / "nope.toml")


def test_mapped_column_missing_from_the_file():
    mapping = ColumnMapping(columns={"occurred_at": "Date", "lat": "Lat", "lon": "Longitude"})
    with pytest.raises(ReaderError, match=r"^<bytes>: mapping: column\(s\) 'Longitude' \(for lon\) not in"):
        detect(b"Date,Lat,Lon\n2024-01-01,38,127\n", mapping=mapping)


def test_mapping_with_another_format_or_mapped_without_one():
    mapping = mapping_from_pairs(["occurred_at=w", "lat=y", "lon=x"])
    with pytest.raises(ReaderError, match="applies to the mapped format only"):
        detect(CSV, format="acled", mapping=mapping)
    with pytest.raises(ReaderError, match="the mapped format needs a column mapping"):
        detect(CSV, format="mapped")


def test_mapping_encoding_option(read_all):
    data = "when,y,x,notes\n2024-04-05,38.1,127.1,포격 소리\n".encode("cp949")
    pairs = ["occurred_at=when", "lat=y", "lon=x", "description=notes", "encoding=cp949"]
    mapping = mapping_from_pairs(pairs)
    assert detect(data, mapping=mapping).encoding == "cp949"
    assert read_all(data, mapping=mapping).frame["description"].tolist() == ["포격 소리"]


def test_a_mapping_without_the_required_fields_is_refused():
    from geo._errors import ReaderError
    from geo.io import readers

    data = b"when,y,x\n2024-05-01,38.0,127.0\n"
    with pytest.raises(ReaderError, match=r"mapping: lon not mapped"):
        readers.detect(data, mapping=readers.ColumnMapping(columns={"occurred_at": "when", "lat": "y"}))
    ok = readers.ColumnMapping(columns={"occurred_at": "when", "lat": "y"}, defaults={"lon": "127.0"})
    assert readers.detect(data, mapping=ok).format == "mapped"
