"""Files as spreadsheets save them: every format, encoding and date style; a UCDP export re-saved by Excel.

``ucdp_ged_export.csv`` holds 60 UCDP GED events (the published 49 columns) as UCDP
publishes its CSV: UTF-8, LF line ends, ``2014-08-04 00:00:00.000``. The same events
were written again the way Excel saves that file after opening it:
``ucdp_ged_excel_us.csv`` as "CSV (Comma delimited)" on a United States machine
(Windows-1252, CRLF, ``8/4/2014 12:00:00 AM``, ``source_date`` as ``8/4/2014``) and
``ucdp_ged_excel_fr.csv`` as "CSV (séparateur : point-virgule)" on a French one
(Windows-1252, CRLF, ``;``, ``04/08/2014 00:00``, decimal commas). Line breaks inside
cells stay LF inside quotes; the headlines carry curly quotes, dashes and French text.
"""

from __future__ import annotations

import csv
import io
import shutil

import pandas as pd
import pytest

from geo.core.filters import Filters
from geo.io.readers import detect
from geo.services.ingest import ingest_file, load_scenario_into_store
from geo.store import open_store
from tests.readers.readers_support import DATA, read_all
from tests.readers.spreadsheet import ENCODINGS, EVENTS, FORMATS, STYLES, keeps_time, saved

EXPORT = DATA / "ucdp_ged_export.csv"
EXCEL = {"us": ("ucdp_ged_excel_us.csv", ",", False), "fr": ("ucdp_ged_excel_fr.csv", ";", True)}


def described(fmt: str, note: str) -> str:
    """Where a format keeps the text that has a line break: the description, or part of it."""
    return f"Where: {note}" if fmt == "ucdp" else note


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_saved_in_every_encoding_and_date_style(fmt, encoding, style):
    file = saved(fmt, encoding, style)
    assert file.data.count(b"\r\n" if encoding != "utf-16" else "\r\n".encode("utf-16-le")) == len(EVENTS) + 1
    found = detect(file.data, mapping=file.mapping)
    assert (found.format, found.encoding) == (fmt, encoding)
    assert found.delimiter == {"utf-16": "\t"}.get(encoding, ";" if fmt == "mapped" else ",")
    result = read_all(file.data, mapping=file.mapping)
    assert result.rejected.empty, result.rejected["reason"].tolist()
    assert result.rows_read == len(result.frame) == len(EVENTS)
    frame = result.frame.set_index("source_event_id")
    for eid, at in file.at.items():
        row = frame.loc[eid]
        assert row["actor"] == file.actors[eid]
        assert described(fmt, file.notes[eid]) in row["description"]
        assert row["occurred_at"] == at
        timed = at != at.normalize()
        assert row["date_precision"] == ("exact" if timed else "day")
    assert keeps_time(style) or not any(at != at.normalize() for at in file.at.values())


def published(name: str) -> list[dict[str, str]]:
    text = (DATA / name).read_bytes().decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("locale", ["us", "fr"])
def test_the_ucdp_export_resaved_by_excel_is_read_whole(locale):
    name, delimiter, dayfirst = EXCEL[locale]
    raw = (DATA / name).read_bytes()
    assert raw.count(b"\r\n") == 61 and b"\x93" in raw  # CRLF records, cp1252 curly quotes
    found = detect(DATA / name)
    assert (found.format, found.layout, found.encoding, found.delimiter, found.dayfirst) == (
        "ucdp", "ucdp-ged", "cp1252", delimiter, dayfirst)
    resaved = read_all(DATA / name)
    assert (resaved.rows_read, len(resaved.frame), len(resaved.rejected)) == (60, 60, 0)
    # Every incident is the export's, to the character and the day.
    pd.testing.assert_frame_equal(resaved.frame, read_all(EXPORT).frame)
    truth = {r["id"]: r for r in published(EXPORT.name)}
    frame = resaved.frame.set_index("source_event_id")
    assert frame["occurred_from"].dt.strftime("%Y-%m-%d").to_dict() == {
        k: r["date_start"][:10] for k, r in truth.items()}
    assert frame["occurred_to"].dt.strftime("%Y-%m-%d").to_dict() == {
        k: r["date_end"][:10] for k, r in truth.items()}
    assert "Source: Le Monde: « bombardements » à Donetsk, l’armée ukrainienne accusée" in frame.loc[
        "139101", "description"]
    assert frame.loc["139101", "lat"] == float(truth["139101"]["latitude"])


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory, demo_scenario):
    """A closed SQLite store holding only the demo scenario."""
    path = tmp_path_factory.mktemp("store") / "scenario.db"
    store = open_store(f"sqlite:///{path}")
    load_scenario_into_store(store, demo_scenario)
    store.close()
    return path


def fresh_store(scenario_file, tmp_path):
    db = tmp_path / "truceline.db"
    shutil.copyfile(scenario_file, db)
    return open_store(f"sqlite:///{db}")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_text_and_dates_round_trip_through_an_ingest_into_sqlite(encoding, scenario_file, tmp_path):
    file = saved("template", encoding, "m/d/Y h:mm AM/PM")
    path = tmp_path / f"incidents-{encoding}.csv"
    path.write_bytes(file.data)
    store = fresh_store(scenario_file, tmp_path)
    try:
        summary = ingest_file(store, path)
        assert (summary.rows_read, summary.accepted, summary.rejected, summary.encoding) == (
            len(EVENTS), len(EVENTS), 0, encoding)
        assert store.batch(summary.batch_id).encoding == encoding
    finally:
        store.close()
    reopened = open_store(f"sqlite:///{tmp_path / 'truceline.db'}")
    try:
        stored = reopened.query(Filters()).set_index("source_event_id")
    finally:
        reopened.close()
    for eid, at in file.at.items():
        assert stored.loc[eid, "actor"] == file.actors[eid]
        assert stored.loc[eid, "description"] == file.notes[eid]
        assert pd.Timestamp(stored.loc[eid, "occurred_at"]) == at


def test_the_excel_resaved_ucdp_file_ingests_every_row(scenario_file, tmp_path):
    store = fresh_store(scenario_file, tmp_path)
    try:
        summary = ingest_file(store, DATA / EXCEL["us"][0])
        stored = store.query(Filters()).set_index("source_event_id")
    finally:
        store.close()
    assert (summary.rows_read, summary.accepted, summary.rejected, summary.encoding) == (60, 60, 0, "cp1252")
    assert stored.loc["139100", "occurred_at"] == pd.Timestamp("2014-08-04", tz="UTC")
    assert "Where: Donetsk airport,\nKyivskyi district" in stored.loc["139101", "description"]
