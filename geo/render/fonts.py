"""The shipped fonts, registered with matplotlib once, and the test for text that needs shaping.

Nothing here touches matplotlib's global state (``rcParams`` or ``pyplot``): every text
gets its font explicitly, so concurrent renders in a threaded server cannot disturb
each other.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from geo._paths import DATA

FONT_DIR = DATA / "fonts"
FONTS: dict[str, str] = {
    "regular": "NotoSans-Regular.ttf",
    "bold": "NotoSans-Bold.ttf",
    "korean": "NotoSansCJKkr-Hangul-Regular.otf",
    "arabic": "NotoSansArabic-Regular.ttf",
    "arabic-bold": "NotoSansArabic-Bold.ttf",
}
"""The shipped fonts (see ``data/fonts/PROVENANCE.md``): Latin, Greek and Cyrillic;
Hangul; Arabic (bold too: matplotlib finds a family's bold face by its weight)."""

_lock = threading.Lock()
_families: tuple[str, ...] | None = None

# Scripts the shipped fonts draw only after shaping (joining, reordering, bidi).
_NEEDS_SHAPING = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\u0300-\u036f]"
)


def font_path(key: str) -> Path:
    """Path of a shipped font: a key of :data:`FONTS`."""
    return FONT_DIR / FONTS[key]


class _RegularHangul(logging.Filter):
    """Drop matplotlib's warning, at every bold text, that the Hangul font has no bold face.

    Only the regular Hangul face ships (the bold one is another 1.4 MB): bold Hangul is
    drawn regular, as intended, and a command's output stays free of the warning.
    """

    def __init__(self, family: str) -> None:
        super().__init__()
        self.family = family

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not (text.startswith("findfont: Failed to find font weight") and self.family in text)


def font_families() -> tuple[str, ...]:
    """Register the shipped fonts with matplotlib (once) and return the family fallback list."""
    global _families  # noqa: PLW0603 - one registration per process
    with _lock:
        if _families is None:
            for name in FONTS.values():
                font_manager.fontManager.addfont(str(FONT_DIR / name))
            hangul = FontProperties(fname=str(font_path("korean"))).get_name()
            logging.getLogger("matplotlib.font_manager").addFilter(_RegularHangul(hangul))
            _families = tuple(
                dict.fromkeys(
                    FontProperties(fname=str(font_path(k))).get_name()
                    for k in ("regular", "korean", "arabic")
                )
            )
        return _families


def font(
    size: float, *, weight: str = "normal", style: Literal["normal", "italic", "oblique"] = "normal"
) -> FontProperties:
    """Font properties with the shipped fallback chain (Noto Sans, Hangul, Arabic)."""
    return FontProperties(family=list(font_families()), size=size, weight=weight, style=style)


def needs_shaping(texts: Iterable[str]) -> bool:
    """Whether any text is in a script that needs shaping (Arabic, Hebrew, Hangul jamo, marks)."""
    return any(_NEEDS_SHAPING.search(t) for t in texts if t)
