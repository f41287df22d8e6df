"""Briefings in Arabic and French: pdftotext reads the shaped, right-to-left Arabic back in logical order."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pandas as pd
import pytest
from matplotlib import _text_helpers
from matplotlib.ft2font import FT2Font

from geo.core.classify import classify
from geo.core.filters import Filters
from geo.core.manifest import load_scenario
from geo.io import readers
from geo.render.fonts import font_path
from geo.render.image import render_map_png
from geo.render.pdf import render_briefing_pdf
from geo.services.packs import read_pack

AS_OF = pd.Timestamp("2026-07-01T00:00Z")
FILTERS = Filters(since=pd.Timestamp("2026-01-01T00:00Z").to_pydatetime())
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def lebanon():
    """The lebanon-2024 pack's scenario and its 149 CC0 records, classified."""
    pack = read_pack("lebanon-2024")
    scenario = load_scenario(pack.manifest)
    real = pack.incidents[0]
    frames = [
        c.frame
        for c in readers.read_incidents(real.path, format=real.format, party_mapping=scenario.party_mapping)
    ]
    incidents = pd.concat(frames, ignore_index=True)
    return scenario, incidents.join(classify(incidents, scenario))


def pdftotext(pdf: bytes, tmp_path) -> list[str]:
    """The lines of ``pdftotext -layout``, bidi controls removed, runs of spaces made one."""
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    return [re.sub(r" +", " ", BIDI_MARKS.sub("", line)).strip() for line in out.stdout.splitlines()]


def brief(lebanon, lang: str, **kw) -> bytes:
    scenario, view = lebanon
    return render_briefing_pdf(
        view, scenario, filters=FILTERS, as_of=AS_OF, history=view, dpi=150, lang=lang, **kw
    )


@needs_pdftotext
def test_arabic_briefing_reads_back_as_logical_arabic(lebanon, tmp_path):
    pdf = brief(lebanon, "ar")
    lines = pdftotext(pdf, tmp_path)
    text = "\n".join(lines)
    # The title, in the manifest's Arabic, with the Western digits of its date in their place.
    # pdftotext moves the spaces at the edges of embedded left-to-right runs: compare without them.
    squashed = [re.sub(r"\s+", "", line) for line in lines]
    assert "إحاطة:لبنان:وقفالأعمالالعدائيةفي27تشرينالثاني/نوفمبر2024" in squashed, text[:2000]
    for heading in (
        "الأرقام الرئيسية",
        "الخروقات في الفترة",
        "القواعد كما نص عليها الاتفاق",
        "بحسب الطرف المنسوب إليه",
    ):
        assert heading in text, heading
    # A rule quote (the manifest's unofficial Arabic translation), lam-alef ligatures included.
    assert "القوات العسكرية والأمنية الرسمية اللبنانية هي وحدها المنتشرة مسلحة" in text
    assert "الأعمال" in text and "األعمال" not in text  # the ligature's letters in logical order
    # Letters, not isolated or positional glyph forms.
    assert not PRESENTATION_FORMS.search(text)
    # The date in Babel's Arabic, and the counts with the Arabic plural forms.
    assert "يوليو" in text and "2026" in text and "00:00" in text
    assert "149" in text and "حادثة" in text
    assert "Key figures" not in text and "Breaches in the window" not in text


@needs_pdftotext
def test_arabic_table_rows_keep_their_numbers(lebanon, tmp_path):
    """A row that starts with an Arabic name (a fallback font) and goes on in digits keeps its digits."""
    lines = pdftotext(brief(lebanon, "ar"), tmp_path)
    total = [line for line in lines if line.endswith("جميع الأطراف")]
    assert total, lines[:60]
    assert re.findall(r"\d+", total[0]) == ["60", "0", "60", "78", "0", "78"], total[0]
    assert not re.search("[A-Za-z]", total[0]), total[0]


@needs_pdftotext
def test_arabic_briefing_is_laid_out_right_to_left(lebanon, tmp_path):
    path = tmp_path / "brief.pdf"
    path.write_bytes(brief(lebanon, "ar"))
    raw = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    titles = [ln for ln in raw.stdout.splitlines() if "لبنان" in ln and "Truceline" not in ln]
    assert titles, raw.stdout[:2000]
    title = titles[0]
    # Right-aligned on a landscape page: the line starts far from the left edge.
    assert len(title) - len(title.lstrip()) > 60, title


@needs_pdftotext
def test_eastern_arabic_digits_on_request(lebanon, tmp_path):
    text = "\n".join(pdftotext(brief(lebanon, "ar", digits="arab"), tmp_path))
    assert "٢٠٢٦" in text and "٠٠:٠٠" in text
    assert "١٤٩" in text


@needs_pdftotext
def test_french_briefing(lebanon, tmp_path):
    text = "\n".join(pdftotext(brief(lebanon, "fr"), tmp_path))
    assert "Note d’information : Liban : cessation des hostilités du 27 novembre 2024" in text
    for words in ("Chiffres clés", "Violations de la période", "Les règles, dans les termes de l’accord"):
        assert words in text, words
    assert "1 juil. 2026, 00:00 UTC" in text
    assert "seules les forces militaires et de sécurité officielles du Liban" in text
    assert "Key figures" not in text


def test_arabic_snapshot_differs_and_shapes(lebanon):
    """The PNG's texts change with the language; matplotlib lays Arabic out shaped (its raqm layout)."""
    scenario, view = lebanon
    en = render_map_png(view, scenario, filters=FILTERS, as_of=AS_OF, dpi=150, lang="en")
    ar = render_map_png(view, scenario, filters=FILTERS, as_of=AS_OF, dpi=150, lang="ar")
    assert en != ar
    # The glyphs matplotlib draws for an Arabic word are the joined forms HarfBuzz gives, right to left.
    import uharfbuzz as hb

    word = "الليطاني"
    face = FT2Font(str(font_path("arabic")))
    drawn = [item.glyph_index for item in _text_helpers.layout(word, face, language="ar")]
    blob = hb.Blob.from_file_path(str(font_path("arabic")))
    buf = hb.Buffer()
    buf.add_str(word)
    buf.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(blob)), buf, {})
    shaped = [g.codepoint for g in buf.glyph_infos]
    unshaped = [face.get_char_index(ord(c)) for c in word]
    assert drawn == shaped
    assert drawn != unshaped and drawn != unshaped[::-1]


def test_arabic_briefing_is_shaped(lebanon):
    """
    The Arabic font draws letters in their joined forms, not one isolated glyph per letter.

    pdftotext reads letters back through the font's ToUnicode map, so it cannot tell shaped
    from unshaped text. The map itself can: shaped, lam (U+0644) is drawn with several
    glyphs (initial, medial, final, isolated), each mapped back to U+0644, and the lam-alef
    ligature is one glyph for two letters.
    """
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(brief(lebanon, "ar")))
    cmap = ""
    for font in pdf.pages[0]["/Resources"]["/Font"].values():
        obj = font.get_object()
        if "NotoSansArabic" in str(obj["/BaseFont"]):
            cmap = obj["/ToUnicode"].get_object().get_data().decode()
    pairs = re.findall(r"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>", cmap)
    lam = {cid for cid, text in pairs if text.upper() == "0644"}
    assert len(lam) >= 3, pairs
    ligatures = [text for _cid, text in pairs if len(text) == 8 and "0644" in text.upper()]  # lam-alef
    assert ligatures, pairs


def test_bold_arabic_has_its_own_face(lebanon):
    """Headings of an Arabic briefing are set in the bold Arabic face, not the regular one."""
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties

    from geo.render.fonts import font_families

    font_families()
    arabic = FontProperties(fname=str(font_path("arabic"))).get_name()
    bold = font_manager.findfont(FontProperties(family=arabic, weight="bold"), fallback_to_default=False)
    assert bold.endswith("NotoSansArabic-Bold.ttf")
    pdf = bytes(brief(lebanon, "ar"))
    assert b"+NotoSansArabicBold" in pdf and b"+NotoSansArabic\n" in pdf  # both faces embedded


def test_hangul_drawn_regular_in_bold_text_warns_no_one(caplog):
    """Only the regular Hangul face ships: matplotlib's warning about it is dropped, no other."""
    import logging

    from matplotlib.font_manager import FontProperties

    from geo.render.fonts import font_families

    font_families()
    hangul = FontProperties(fname=str(font_path("korean"))).get_name()
    log = logging.getLogger("matplotlib.font_manager")
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        log.warning("findfont: Failed to find font weight bold for %s, now using 400.", hangul)
        log.warning("findfont: Failed to find font weight bold for %s, now using 400.", "Some Other Sans")
    assert [r.getMessage() for r in caplog.records] == [
        "findfont: Failed to find font weight bold for Some Other Sans, now using 400."
    ]
