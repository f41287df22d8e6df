"""Encodings, separators, line endings, quoting and physical line numbers."""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from geo.io.readers import _csvio, _encoding, detect
from tests.readers.readers_support import TEMPLATES, read_all

HEADER = "event_id,occurred_at,lat,lon,category,description"
TEXTS = {
    "A1": "Déjà vu — café, naïve",
    "A2": "Обстрел позиций; двое раненых",
    "A3": "قصف مدفعي على الموقع",
    "A4": "포격 소리, 2회",
    "A5": "mixed: 조선인민군 / Армия / جيش ✓",
}


def sample(delimiter: str = ",", newline: str = "\n") -> str:
    lines = [HEADER.replace(",", delimiter)]
    for i, (eid, text) in enumerate(TEXTS.items()):
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(delimiter.join([eid, f"2024-05-0{i + 1}", "38.1", "127.1", "other", quoted]))
    return newline.join(lines) + newline


@pytest.mark.parametrize(("encoding", "prefix", "reported"), [
    ("utf-8", b"", "utf-8"),
    ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
    ("utf-16", b"", "utf-16"),
])
def test_unicode_encodings_round_trip(encoding, prefix, reported):
    data = prefix + sample().encode(encoding)
    found = detect(data)
    assert (found.encoding, found.warnings, found.format) == (reported, [], "template")
    assert found.columns[0] == "event_id"  # no byte-order mark left in the first name
    result = read_all(data)
    assert dict(zip(result.frame["source_event_id"], result.frame["description"], strict=True)) == TEXTS


def test_a_western_single_byte_file_is_detected_and_reported():
    text = "Déjà vu — café"
    data = f"{HEADER}\nA1,2024-05-01,38.1,127.1,other,\"{text}\"\n".encode("cp1252")
    found = detect(data)
    assert found.encoding == "cp1252"
    assert found.warnings == ["encoding: the file is not UTF-8 (line 2); read as cp1252, detected from its "
                              "text; name the encoding (--encoding) if that is wrong"]
    assert read_all(data).frame["description"].tolist() == [text]


def test_invalid_utf8_far_into_the_file_is_still_found(monkeypatch):
    monkeypatch.setattr(_csvio, "BLOCK", 64)
    monkeypatch.setattr(_encoding, "BLOCK", 64)
    rows = "".join(f"A{i},2024-05-01,38.1,127.1,other,plain\n" for i in range(50))
    data = (HEADER + "\n" + rows).encode() + "A99,2024-05-01,38.1,127.1,other,café\n".encode("cp1252")
    assert detect(data).encoding == "cp1252"
    assert read_all(data).frame["description"].tolist()[-1] == "café"


def test_explicit_encoding(read_all):
    data = f"{HEADER}\nA1,2024-05-01,38.1,127.1,other,Обстрел\n".encode("cp1251")
    assert read_all(data, encoding="cp1251").frame["description"].tolist() == ["Обстрел"]
    assert detect(data, encoding="cp1251").warnings == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_separators_and_line_endings(delimiter, newline):
    data = sample(delimiter, newline).encode()
    found = detect(data)
    assert found.delimiter == delimiter
    result = read_all(data)
    assert result.frame["line_no"].tolist() == [2, 3, 4, 5, 6]
    assert dict(zip(result.frame["source_event_id"], result.frame["description"], strict=True)) == TEXTS


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_bad_and_blank_rows_between_good_ones(newline):
    rows = ["A1,2024-05-01,38.1,127.1,other,x", "", "A2,2024-05-01,38.1,127.1,other,y,surplus",
            "A3,2024-05-01,38.1,127.1,other,z", "A4,2024-05-01", "A5,2024-05-01,38.1,127.1,other,w"]
    result = read_all(newline.join([HEADER, *rows, ""]).encode())
    assert result.frame["source_event_id"].tolist() == ["A1", "A3", "A5"]
    assert result.frame["line_no"].tolist() == [2, 5, 7]
    assert result.frame["description"].tolist() == ["x", "z", "w"]
    assert result.rejected["line_no"].tolist() == [4, 6]


def test_excel_sep_line():
    data = ("sep=;\n" + sample(";")).encode()
    assert detect(data).delimiter == ";"
    assert read_all(data).frame["line_no"].tolist() == [3, 4, 5, 6, 7]


def test_decimal_commas_in_a_semicolon_file():
    data = b"event_id;occurred_at;lat;lon;category;description\nA1;2024-05-01;38,25;127,5;other;x\n"
    row = read_all(data).frame.iloc[0]
    assert (row["lat"], row["lon"]) == (38.25, 127.5)


def test_embedded_newlines_keep_physical_line_numbers():
    data = (f'{HEADER}\n'
            'A1,2024-05-01,38.1,127.1,other,"one\ntwo\nthree"\n'
            'A2,2024-05-01,38.1,127.1,other,plain\n'
            'A3,2024-05-01,38.1,127.1,other,"a\r\nb"\n'
            'A4,2024-05-01,99.1,127.1,other,"bad\nlatitude"\n'
            'A5,2024-05-01,38.1,127.1,other,last\n').encode()
    result = read_all(data)
    assert result.frame["line_no"].tolist() == [2, 5, 6, 10]
    assert result.frame["description"].tolist() == ["one\ntwo\nthree", "plain", "a\r\nb", "last"]
    assert result.rejected["line_no"].tolist() == [8]
    assert result.rejected["raw"].tolist() == ['A4,2024-05-01,99.1,127.1,other,"bad\nlatitude"']


def test_blank_lines_are_skipped_and_counted():
    rows = "A1,2024-05-01,38.1,127.1,other,x\n\n\nA2,2024-05-01,38.1,127.1,other,y\n\n"
    data = f"\n\n{HEADER}\n\n{rows}".encode()
    result = read_all(data)
    assert result.rows_read == 2
    assert result.frame["line_no"].tolist() == [5, 8]


def test_last_row_without_newline():
    data = f"{HEADER}\nA1,2024-05-01,38.1,127.1,other,x\nA2,2024-05-01,38.1,127.1,other,\"y\"".encode()
    assert read_all(data).frame["source_event_id"].tolist() == ["A1", "A2"]


def test_quotes_inside_values():
    data = (f'{HEADER}\n'
            'A1,2024-05-01,38.1,127.1,other,"He said ""cease fire"", twice"\n'
            'A2,2024-05-01,38.1,127.1,other,a 5" gun\n'
            'A3,2024-05-01,38.1,127.1,other,"multi\nline"\n').encode()
    result = read_all(data)
    assert result.frame["description"].tolist() == ['He said "cease fire", twice', 'a 5" gun', "multi\nline"]
    assert result.frame["line_no"].tolist() == [2, 3, 4]


def test_a_quote_never_closed_costs_only_its_line():
    data = (f'{HEADER}\n'
            'A1,2024-05-01,38.1,127.1,other,ok\n'
            'A2,2024-05-01,38.1,127.1,other,"opened\n'
            'A3,2024-05-01,38.1,127.1,other,fine\n'
            'A4,2024-05-01,38.1,127.1,other,"multi\nline"\n').encode()
    result = read_all(data)
    assert result.frame["source_event_id"].tolist() == ["A1", "A3", "A4"]
    assert result.frame["line_no"].tolist() == [2, 4, 5]
    assert result.reason(3) == "row: a quoted value opened on this line is never closed (unbalanced quotes)"
    assert result.rejected["raw"].tolist() == ['A2,2024-05-01,38.1,127.1,other,"opened']


def test_text_after_a_closing_quote_is_rejected():
    data = f'{HEADER}\nA1,2024-05-01,38.1,127.1,other,"ab"c\nA2,2024-05-01,38.1,127.1,other,ok\n'.encode()
    result = read_all(data)
    assert result.reason(2).startswith("row: text follows the closing quote of a value")
    assert result.frame["line_no"].tolist() == [3]


@pytest.mark.parametrize("block", [64, 100, 257, 1 << 20])
@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
def test_block_and_chunk_boundaries_do_not_change_anything(monkeypatch, block, chunk_rows):
    rows = []
    for i in range(60):
        text = f'"line {i}\nnext, with comma"' if i % 7 == 0 else f"plain {i}"
        if i % 11 == 5:
            text = f'{i} a 5" gun'  # a stray quote sends that block to the csv module
        lat = "95" if i % 13 == 4 else "38.1"
        extra = ",x" if i % 17 == 9 else ""
        rows.append(f"A{i},2024-05-01,{lat},127.1,other,{text}{extra}")
    data = (HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()
    expected = read_all(data)
    monkeypatch.setattr(_csvio, "BLOCK", block)
    got = read_all(data, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(expected.frame, got.frame)
    pd.testing.assert_frame_equal(expected.rejected, got.rejected)
    assert expected.rows_read == got.rows_read == 60
    bad = {i for i in range(60) if i % 13 == 4 or i % 17 == 9}  # latitude 95, or a field too many
    assert expected.frame["source_event_id"].tolist() == [f"A{i}" for i in range(60) if i not in bad]


def test_the_csv_module_path_agrees_with_the_fast_path(monkeypatch):
    data = (TEMPLATES / "incidents_example.csv").read_bytes()
    fast = read_all(data)
    monkeypatch.setattr(_csvio, "_suspicious", lambda *_: True)
    slow = read_all(data)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
