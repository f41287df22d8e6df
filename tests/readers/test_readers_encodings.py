"""Encodings: detected from the whole file, refused when the text would be mojibake, named to override."""

from __future__ import annotations

import codecs
import gc

import pytest

from geo import ReaderError
from geo.io.readers import _encoding, detect, read_incidents
from tests.readers.readers_support import read_all

HEADER = "event_id,occurred_at,lat,lon,category,actor,description"


def incidents(*rows: tuple[str, str], newline: str = "\r\n") -> str:
    """A template CSV of (actor, description) rows, dated 2024-05-01."""
    lines = [HEADER, *(f'E{i},2024-05-01,38.1,127.1,other,"{a}","{d}"' for i, (a, d) in enumerate(rows, 1))]
    return newline.join(lines) + newline


GREEK = incidents(("Ελληνικός Στρατός", "πυροβολισμοί κοντά στη γραμμή"), ("Εθνική Φρουρά", "περιπολία"))
HEBREW = incidents(("צבא ההגנה לישראל", "ירי ליד הגבול"))
KOREAN = incidents(*[("조선인민군", f"포격 소리 {i}회, 비무장지대 인근") for i in range(40)])


def test_utf16_big_endian_with_a_byte_order_mark():
    data = codecs.BOM_UTF16_BE + incidents(("조선인민군", "포격")).replace(",", "\t").encode("utf-16-be")
    found = detect(data)
    assert (found.encoding, found.delimiter) == ("utf-16", "\t")
    assert read_all(data).frame["actor"].tolist() == ["조선인민군"]


def test_another_code_page_is_taken_when_its_text_is_clearly_better():
    found = detect(GREEK.encode("cp1253"))
    assert found.encoding == "cp1253"
    assert read_all(GREEK.encode("cp1253")).frame["actor"].tolist() == ["Ελληνικός Στρατός", "Εθνική Φρουρά"]


def test_a_text_no_code_page_reads_clearly_is_refused_and_naming_the_encoding_reads_it():
    data = HEBREW.encode("cp1255")
    with pytest.raises(ReaderError) as err:
        detect(data, name="log.csv")
    message = str(err.value)
    assert message.startswith(
        "log.csv: cannot tell the encoding: the file is not UTF-8, and it reads equally well as cp1251 ('"
    )
    assert message.endswith("; name the encoding (--encoding)")
    assert "\n" not in message
    found = detect(data, encoding="cp1255")
    assert (found.encoding, found.warnings) == ("cp1255", [])
    assert read_all(data, encoding="cp1255").frame["actor"].tolist() == ["צבא ההגנה לישראל"]


def test_garbage_no_candidate_reads_is_refused():
    data = (HEADER + "\r\nE1,2024-05-01,38.1,127.1,other,x,").encode() + bytes(range(0x80, 0x100)) + b"\r\n"
    with pytest.raises(
        ReaderError,
        match=r"^<bytes>: cannot tell the encoding: the file is not UTF-8 \(line 2\), "
        r"and none of cp1252, .* reads it as clean text; name the encoding",
    ):
        detect(data)


def test_a_file_mixing_utf8_and_cp1252_is_refused():
    data = incidents(
        ("Вооружённые силы", "обстрел")
    ).encode() + 'E9,2024-05-01,38.1,127.1,other,x,"café"\r\n'.encode("cp1252")
    with pytest.raises(ReaderError) as err:
        read_incidents(data, name="merged.csv")
    assert str(err.value) == (
        'merged.csv: mixed encodings: line 2 is UTF-8 (\'Вооружённые силы","обстрел"\'), '
        "but line 3 is not; save the whole file in one encoding, or name the encoding "
        "(--encoding)"
    )


def test_utf8_that_was_once_decoded_as_cp1252_is_refused():
    garbled = incidents(*[("Вооружённые силы", "обстрел позиций")] * 3).encode()
    table = {b: c for c, b in _encoding._CP1252_BYTES.items()}
    data = "".join(table[b] for b in garbled).encode()  # valid UTF-8 holding 'Ð’Ð¾Ð¾Ñ€...'
    with pytest.raises(
        ReaderError,
        match=r"^<bytes>: the text is mojibake: line 2 reads 'Ð’Ð¾Ð¾Ñ€ÑƒÐ¶Ñ‘Ð½Ð½Ñ‹Ðµ .*"
        r"\(it should read 'Вооружённые силы",
    ):
        detect(data)


def test_a_line_or_two_of_mojibake_in_utf8_is_a_warning():
    good = incidents(*[("Вооружённые силы", "обстрел")] * 4)
    bad = 'E9,2024-05-01,38.1,127.1,other,x,"cafÃ©"\r\n'
    found = detect((good + bad).encode())
    assert found.encoding == "utf-8"
    assert found.warnings == [
        "line 6: text looks garbled: 'Ã©\"' may be 'é\"' (UTF-8 once decoded as cp1252)"
    ]


def late_bad_korean(count: int = 400) -> bytes:
    """cp949 text with a broken character (a lead byte before a comma) far down the file."""
    rows = incidents(*[("조선인민군", f"포격 소리 {i}회") for i in range(count)]).encode("cp949")
    return rows + b'E999,2024-05-01,38.1,127.1,other,"\xc6","x"\r\n'


@pytest.mark.parametrize("forced", [None, "cp949"])
def test_a_late_undecodable_byte_is_an_error_naming_its_line(monkeypatch, tmp_path, forced):
    monkeypatch.setattr(_encoding, "BLOCK", 4096)
    monkeypatch.setattr(_encoding, "SAMPLE_BYTES", 2048)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = tmp_path / "korean.csv"
    path.write_bytes(late_bad_korean())
    with pytest.raises(ReaderError) as err:
        read_incidents(path, encoding=forced)
    assert str(err.value) == (
        "korean.csv: cannot decode the file as cp949: line 402: illegal multibyte sequence; "
        "the file is not cp949 throughout: name the encoding (--encoding)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["korean.csv"]  # no transcoded copy left behind


def test_a_cp949_path_is_transcoded_to_a_temporary_file_removed_after_reading(monkeypatch, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    path = tmp_path / "korean.csv"
    path.write_bytes(KOREAN.encode("cp949"))
    chunks = read_incidents(path)
    assert len(list(spool.iterdir())) == 1  # read from the UTF-8 copy
    frame = next(iter(chunks)).frame
    assert frame["description"].tolist()[:2] == [
        "포격 소리 0회, 비무장지대 인근",
        "포격 소리 1회, 비무장지대 인근",
    ]
    del chunks
    gc.collect()
    assert list(spool.iterdir()) == []
    assert read_all(KOREAN.encode("cp949")).frame.equals(read_all(path).frame)


def test_a_named_single_byte_code_page_must_define_every_byte():
    data = (
        incidents(*[("Forces armées", "tir")] * 50).encode("cp1252")
        + b'E9,2024-05-01,38.1,127.1,other,x,"\x81"\r\n'
    )
    with pytest.raises(
        ReaderError,
        match=r"^<bytes>: cannot decode the file as cp1252: line 52 holds byte\(s\) 0x81, "
        r"which cp1252 does not define; give the right encoding$",
    ):
        detect(data, encoding="cp1252")


def test_named_utf8_must_be_utf8_throughout():
    data = incidents(("a", "b"), ("c", "d")).encode() + "E3,2024-05-01,38.1,127.1,other,x,é\r\n".encode(
        "cp1252"
    )
    with pytest.raises(
        ReaderError, match=r"^<bytes>: cannot decode the file as utf-8: line 4 is not UTF-8; "
    ):
        detect(data, encoding="utf-8")
    with pytest.raises(ReaderError, match=r"starts with a UTF-8 byte-order mark, but line 4 is not UTF-8"):
        detect(codecs.BOM_UTF8 + data)


def test_a_broken_utf16_file_is_an_error_naming_its_line():
    text = incidents(*[("조선인민군", "포격")] * 5)
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le") + "E9,".encode("utf-16-le") + b"\x00\xd8A\x00"
    with pytest.raises(ReaderError, match=r"^<bytes>: cannot decode the file as utf-16: line 7: "):
        detect(data)


def test_a_code_page_named_for_a_utf8_file_is_read_but_warned_about():
    data = incidents(("Forces armées", "tir")).encode()
    found = detect(data, encoding="cp1252")
    assert found.warnings == [
        "encoding: read as cp1252 as asked, but the file is valid UTF-8: check that its text reads right"
    ]
    assert read_all(data, encoding="cp1252").frame["actor"].tolist() == ["Forces armÃ©es"]


def test_a_letter_that_appears_only_far_into_the_file_still_decides(monkeypatch):
    # cp1252 and cp1254 read ü, ö and ç alike; only line 402's ı and ş tell Turkish from Icelandic-looking
    # cp1252 ('Silahlý sýnýr').
    monkeypatch.setattr(_encoding, "BLOCK", 4096)
    monkeypatch.setattr(_encoding, "SAMPLE_BYTES", 1024)
    early = incidents(*[("Türk Kuvvetleri", f"gözlem {i}, güçlü") for i in range(400)])
    late = 'E999,2024-05-01,38.1,127.1,other,"Silahlı Kuvvetleri","sınır yakınında ateş"\r\n'
    data = (early + late).encode("cp1254")
    assert detect(data).encoding == "cp1254"
    assert read_all(data).frame["description"].iloc[-1] == "sınır yakınında ateş"
