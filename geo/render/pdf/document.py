"""The briefing document: A4 landscape, the shipped fonts, running header and footer, text and tables."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import Any, cast

import pandas as pd
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from fpdf.fonts import TTFFont

from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.i18n import _
from geo.render.fonts import font_path
from geo.render.palette import SYNTHETIC_BANNER, SYNTHETIC_COLOUR, SYNTHETIC_NOTE, provenance_banner, rgb
from geo.render.text import describe_filters, fmt_time

PAGE_W, PAGE_H, MARGIN = 297.0, 210.0, 12.0
BODY_W = PAGE_W - 2 * MARGIN
RGB = tuple[int, int, int]
INK: RGB = (27, 38, 49)
GREY = (90, 90, 90)
RED = rgb(SYNTHETIC_COLOUR)
_HEAD_FILL = (226, 231, 236)
_ZEBRA = (246, 247, 249)
_PAD_X, _PAD_Y = 1.2, 0.8
_MARK = 2.6
"""Side of a colour mark in a table row (mm)."""

_NB = "{nb}"
"""fpdf2's alias of the page count, on only while the footer's own text is written."""

Mark = tuple[str, str]
"""A colour mark: fill and edge colours (``#rrggbb``)."""

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_MIRROR = {"LEFT": "RIGHT", "RIGHT": "LEFT", "L": "R", "R": "L"}


def _logical_ligatures(document: FPDF, family: str) -> None:
    """
    Map each Arabic ligature glyph of ``family`` back to its letters in reverse order.

    fpdf2 writes a right-to-left run in visual order and gives a ligature glyph (lam-alef:
    ``لا``, ``لأ``) its letters in logical order; a text extractor reading the line
    right to left then reverses the whole run, ligature letters included, and ``الأعمال``
    comes out as ``األعمال``. Stored reversed, the ligature reads back in logical order
    (checked with ``pdftotext`` in the tests).
    """
    font = document.fonts[family]
    if not isinstance(font, TTFFont):
        return
    subset = font.subset
    original = subset.get_glyph

    def get_glyph(
        glyph: int | None = None,
        unicode: int | tuple[int, ...] | None = None,
        glyph_name: str | None = None,
        glyph_width: int | None = None,
    ) -> Any:
        if isinstance(unicode, tuple) and len(unicode) > 1 and all(_ARABIC.match(chr(u)) for u in unicode):
            unicode = unicode[::-1]
        return original(glyph=glyph, unicode=unicode, glyph_name=glyph_name, glyph_width=glyph_width)

    get_glyph.cache_clear = original.cache_clear  # type: ignore[attr-defined]  # fpdf2 clears it on output
    subset.get_glyph = get_glyph  # type: ignore[assignment]  # an instance's own method, cache kept


class BriefingDocument(FPDF):
    """The briefing document: fonts, running header and footer, headings, paragraphs and tables."""

    def __init__(
        self,
        scenario: Scenario,
        filters: Filters,
        as_of: pd.Timestamp,
        title: str,
        *,
        rtl: bool = False,
        lang: str = "en",
    ) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.scenario = scenario
        self.filters = filters
        self.as_of = as_of
        self.doc_title = title
        self.rtl = rtl
        """Right to left: text aligned right, tables and rows of keys mirrored, shaped text."""
        self.start = "R" if rtl else "L"
        """The alignment of the start of a line: ``L``, or ``R`` right to left."""
        self.add_font("noto", "", font_path("regular"))
        self.add_font("noto", "B", font_path("bold"))
        self.add_font("noto-kr", "", font_path("korean"))
        self.add_font("noto-ar", "", font_path("arabic"))
        self.add_font("noto-ar", "B", font_path("arabic-bold"))
        _logical_ligatures(self, "noto-ar")
        _logical_ligatures(self, "noto-arB")
        self.set_fallback_fonts(["noto-kr", "noto-ar"], exact_match=False)
        self.set_lang(lang)
        if rtl:
            self.set_text_shaping(use_shaping_engine=True, direction="rtl")
        self.set_margins(MARGIN, 26.0 if scenario.synthetic else 19.0, MARGIN)
        self.set_auto_page_break(auto=True, margin=17.0)
        self.set_title(title)
        self.set_subject(
            _("Data as of {time}; {filters}").format(time=fmt_time(as_of), filters=describe_filters(filters))
        )
        self.set_creator("Truceline")
        self.set_author("Truceline")
        if scenario.synthetic:
            self.set_keywords("synthetic demo data")
        # fpdf2 replaces "{nb}" in any text with the page count; only the footer means it.
        self.alias_nb_pages(None)  # type: ignore[arg-type]  # fpdf2 accepts None: no alias

    def output(self, *args: Any, **kwargs: Any) -> bytearray:  # type: ignore[override]
        """The document, the page count put in the footers' page numbers (see ``FPDF.output``)."""
        self.alias_nb_pages(_NB)
        return cast("bytearray", super().output(*args, **kwargs))

    def cell(self, *args: Any, **kwargs: Any) -> bool:
        """``FPDF.cell``, with the current font put on the page first (see :meth:`_pin_font`)."""
        self._pin_font()
        return super().cell(*args, **kwargs)

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        """``FPDF.multi_cell``, with the current font put on the page first (see :meth:`_pin_font`)."""
        if not kwargs.get("dry_run"):
            self._pin_font()
        return super().multi_cell(*args, **kwargs)

    def _pin_font(self) -> None:
        """
        Write the current font into the page before a text whose first letters may come from a fallback font.

        fpdf2 2.8 puts a font on the page lazily, with the first fragment of the next text;
        when that fragment is in a fallback font (an Arabic name starting a table row), it
        takes the fallback for the document's current font, and the digits after it are
        drawn with the Arabic font's glyph numbers (garbage on screen and in pdftotext).
        """
        if self.page and self.current_font is not None and not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))

    # Header and footer are called by fpdf2 on every page.
    def header(self) -> None:
        """The running header: banner for synthetic data, scenario, data as of."""
        y = 0.0
        if self.scenario.synthetic:
            self.set_fill_color(*RED)
            self.rect(0, 0, PAGE_W, 9.0, style="F")
            self.set_xy(0, 1.5)
            self.set_text_color(255, 255, 255)
            banner, note = provenance_banner(self.scenario) or (SYNTHETIC_BANNER, SYNTHETIC_NOTE)
            text = f"{banner}  \u00b7  {note}"
            size = 10.5
            self.set_font("noto", "B", size)
            while size > 6.0 and self.get_string_width(text) > PAGE_W - 2 * MARGIN:
                size -= 0.5  # a longer translation is set smaller, never cut
                self.set_font("noto", "B", size)
            self.cell(PAGE_W, 6, text, align="C")
            y = 9.0
        brand_x, stamp_x = (MARGIN + BODY_W * 0.35, MARGIN) if self.rtl else (MARGIN, MARGIN + BODY_W * 0.65)
        self.set_xy(brand_x, y + 4.0)
        self.set_font("noto", "", 8)
        self.set_text_color(*GREY)
        brand = _("Truceline briefing \u00b7 {scenario}").format(scenario=self.scenario.name)
        self.cell(BODY_W * 0.65, 5, brand, align=self.start)
        self.set_xy(stamp_x, y + 4.0)
        self.set_font("noto", "B", 8)
        self.set_text_color(*INK)
        stamp = _("Data as of {time}").format(time=fmt_time(self.as_of))
        self.cell(BODY_W * 0.35, 5, stamp, align=self.end)
        self.set_draw_color(180, 180, 180)
        self.line(MARGIN, y + 9.8, PAGE_W - MARGIN, y + 9.8)
        self.set_text_color(*INK)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        """The running footer: window and filters, page n of N."""
        self.set_y(-14.0)
        self.set_draw_color(180, 180, 180)
        self.line(MARGIN, self.get_y(), PAGE_W - MARGIN, self.get_y())
        self.set_y(-13.0)
        self.set_font("noto", "", 7)
        self.set_text_color(*GREY)
        text = textwrap.shorten(
            _("Window and filters: {filters}").format(filters=describe_filters(self.filters)),
            230,
            placeholder=" \u2026",
        )
        self.set_x(MARGIN + 30 if self.rtl else MARGIN)
        self.multi_cell(BODY_W - 30, 3.6, text, align=self.start, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_xy(MARGIN if self.rtl else PAGE_W - MARGIN - 30, -13.0)
        alias = self.str_alias_nb_pages
        self.alias_nb_pages(_NB)
        page = _("Page {page} of {pages}").format(page=self.page_no(), pages=_NB)
        self.cell(30, 3.6, page, align=self.end)
        self.alias_nb_pages(alias)

    def h1(self, text: str) -> None:
        """A page heading."""
        self.set_font("noto", "B", 14)
        self.set_text_color(*INK)
        self.multi_cell(BODY_W, 7, text, align=self.start, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def h2(self, text: str, *, keep: float = 25.0) -> None:
        """A section heading, on a new page unless ``keep`` mm are left under it."""
        if self.get_y() + keep > self.page_break_trigger:
            self.add_page()
        self.ln(2.0)
        self.set_font("noto", "B", 10.5)
        self.set_text_color(*INK)
        self.multi_cell(BODY_W, 6, text, align=self.start, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(self, text: str, *, size: float = 8.5, bold: bool = False, colour: RGB = INK) -> None:
        """A paragraph of body text."""
        self.set_font("noto", "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(BODY_W, size * 0.48, text, align=self.start, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def text_height(self, text: str, *, size: float = 8.5, bold: bool = False) -> float:
        """The height (mm) :meth:`para` gives ``text`` across the body."""
        self.set_font("noto", "B" if bold else "", size)
        lines = self.multi_cell(BODY_W, size * 0.48, text, dry_run=True, output=MethodReturnValue.LINES)
        return len(cast("list[str]", lines)) * size * 0.48

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        align: Sequence[str],
        size: float = 8.0,
        bold_last: bool = False,
        marks: Sequence[Mark | None] | None = None,
    ) -> None:
        """
        A table with a shaded heading row, repeated on every page it spans.

        ``marks`` puts a colour mark before the first cell of each row (the colours the
        map gives that party or zone). Drawn line by line with ``cell``: fpdf2's
        ``table`` measures every cell twice with ``multi_cell`` and takes seconds for a
        few hundred rows.
        """
        line_h = size * 0.42
        indent = _MARK + 1.2 if marks is not None else 0.0
        self.set_draw_color(205, 205, 205)
        self.set_text_color(*INK)
        self._grid_row(list(header), widths, align, size, line_h, head=True, indent=indent)
        for i, row in enumerate(rows):
            bold = bold_last and i == len(rows) - 1
            self._grid_row(
                [str(c) for c in row],
                widths,
                align,
                size,
                line_h,
                zebra=i % 2 == 1,
                bold=bold,
                header=list(header),
                indent=indent,
                mark=marks[i] if marks is not None else None,
            )
        self.ln(1.0)

    def _grid_row(
        self,
        cells: list[str],
        widths: Sequence[float],
        align: Sequence[str],
        size: float,
        line_h: float,
        *,
        head: bool = False,
        zebra: bool = False,
        bold: bool = False,
        header: list[str] | None = None,
        indent: float = 0.0,
        mark: Mark | None = None,
    ) -> None:
        self.set_font("noto", "B" if head or bold else "", size)
        pads = [indent if i == 0 else 0.0 for i in range(len(widths))]
        lines = [
            self._wrap(text, w - 2 * _PAD_X - pad) for text, w, pad in zip(cells, widths, pads, strict=True)
        ]
        height = max(len(ln) for ln in lines) * line_h + 2 * _PAD_Y
        if header is not None and self.get_y() + height > self.page_break_trigger:
            self.add_page()
            self._grid_row(header, widths, align, size, line_h, head=True, indent=indent)
            self.set_font("noto", "B" if bold else "", size)
        x0, y0 = self.l_margin, self.get_y()
        if self.rtl:  # columns from the right, the mark at the right of the first cell
            x0 = PAGE_W - MARGIN - sum(widths)
        if head or zebra:
            self.set_fill_color(*(_HEAD_FILL if head else _ZEBRA))
            self.rect(x0, y0, sum(widths), height, style="F")
        if mark is not None:
            at = x0 + sum(widths) - _PAD_X - _MARK if self.rtl else x0 + _PAD_X
            self.swatch(at, y0 + _PAD_Y + (line_h - _MARK) / 2, mark)
            self.set_draw_color(205, 205, 205)
        x = x0 + sum(widths) if self.rtl else x0
        for cell_lines, w, a, pad in zip(lines, widths, align, pads, strict=True):
            left = x - w if self.rtl else x
            text_x = left + _PAD_X if self.rtl else left + _PAD_X + pad
            for k, text in enumerate(cell_lines):
                self.set_xy(text_x, y0 + _PAD_Y + k * line_h)
                self.cell(w - 2 * _PAD_X - pad, line_h, text, align=self.aligned(a))
            x = left if self.rtl else x + w
        self.line(x0, y0 + height, x0 + sum(widths), y0 + height)
        self.set_xy(x0, y0 + height)

    @property
    def end(self) -> str:
        """The alignment of the end of a line: ``R``, or ``L`` right to left."""
        return "L" if self.rtl else "R"

    def aligned(self, align: str) -> str:
        """An alignment as given for left-to-right text, mirrored right to left."""
        return _MIRROR.get(align, align) if self.rtl else align

    def swatch(self, x: float, y: float, mark: Mark) -> None:
        """A square colour mark, its top left corner at ``x, y`` (mm)."""
        self.set_fill_color(*rgb(mark[0]))
        self.set_draw_color(*rgb(mark[1]))
        self.set_line_width(0.35)
        self.rect(x, y, _MARK, _MARK, style="DF")
        self.set_line_width(0.2)

    def key(self, entries: Sequence[tuple[str, str]], *, size: float = 8.0) -> None:
        """A row of colour keys, as on the map: a disc in each colour, then its label."""
        self.set_font("noto", "", size)
        self.set_text_color(*INK)
        y = self.get_y() + 0.8
        x = self.l_margin
        line_h = size * 0.48
        for colour, text in entries:
            width = self.get_string_width(text) + 1.0
            self.set_fill_color(*rgb(colour))
            if self.rtl:  # disc at the right of its label, keys flowing leftwards
                right = PAGE_W - MARGIN - (x - self.l_margin)
                self.ellipse(right - _MARK, y + (line_h - _MARK) / 2, _MARK, _MARK, style="F")
                self.set_xy(right - _MARK - 1.0 - width, y)
                self.cell(width, line_h, text, align="R")
            else:
                self.ellipse(x, y + (line_h - _MARK) / 2, _MARK, _MARK, style="F")
                self.set_xy(x + _MARK + 1.0, y)
                self.cell(width, line_h, text)
            x += _MARK + 1.0 + width + 5.0
        self.set_xy(self.l_margin, y + line_h + 0.6)

    def _wrap(self, text: str, width: float) -> list[str]:
        """The lines of a cell: its own line breaks, and wrapping where a line is too wide."""
        out: list[str] = []
        for part in text.split("\n"):
            # ASCII is measured exactly; other scripts may come from a fallback font, so
            # guess one em per character and let fpdf2 wrap those that may not fit.
            guess = self.get_string_width(part) if part.isascii() else len(part) * self.font_size
            if guess <= width:
                out.append(part)
            else:
                lines = self.multi_cell(width, 1, part, dry_run=True, output=MethodReturnValue.LINES)
                out.extend(cast("list[str]", lines))
        return out
