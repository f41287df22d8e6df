"""Numbers and dates as a reader of the current language writes them (Babel), and the language of a run.

The language comes from :mod:`geo.i18n`; the digits are a separate choice, because
Arabic readers use either Western digits (``1,234``: the default, as most Arabic news
and UN documents do) or Eastern Arabic digits (``١٬٢٣٤``); the choice applies to Arabic
text only (French and English always use 0-9)::

    with use_language("ar"), use_digits("arab"):
        number(1234)          # '١٬٢٣٤'
        date_time(ts)         # '٢٦ يناير ٢٠٢٥، ١٤:٠٥ UTC'

Every time is printed in UTC and says so.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent

from geo.i18n import DEFAULT, LANGUAGES, language

if TYPE_CHECKING:  # pandas is imported where a time is formatted: `--help` stays light
    import pandas as pd

Digits = Literal["latn", "arab"]
DIGITS: tuple[Digits, ...] = ("latn", "arab")
"""Western (``latn``) or Eastern Arabic (``arab``) digits."""

_digits: contextvars.ContextVar[Digits] = contextvars.ContextVar("truceline_digits", default="latn")
_EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def digits() -> Digits:
    """The digits of the current run."""
    return _digits.get()


@contextmanager
def use_digits(kind: Digits | None) -> Iterator[None]:
    """Use ``kind`` of digits inside the block (``None``: keep the current choice)."""
    if kind is not None and kind not in DIGITS:
        msg = f"digits: must be one of {', '.join(DIGITS)}, got {kind!r}"
        raise ValueError(msg)
    token = _digits.set(kind or _digits.get())
    try:
        yield
    finally:
        _digits.reset(token)


def _locale() -> Locale:
    return Locale.parse(language())


def _eastern() -> bool:
    """Eastern Arabic digits: asked for, and the language is Arabic (other languages keep 0-9)."""
    return _digits.get() == "arab" and language() == "ar"


def _system() -> str:
    return "arab" if _eastern() else "latn"


def _shape_digits(text: str) -> str:
    return text.translate(_EASTERN) if _eastern() else text


def number(value: float, *, decimals: int | None = None) -> str:
    """
    A number with the locale's grouping and decimal signs: ``1,234``, ``1 234``, ``1٬234``.

    Parameters
    ----------
    value
        The number.
    decimals
        Exactly this many decimals (default: as many as the value has, up to three).
    """
    pattern = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return _shape_digits(format_decimal(value, format=pattern, locale=_locale(), numbering_system=_system()))


def signed(value: float) -> str:
    """A whole number with its sign: ``+3``, ``−2``, ``0``."""
    text = number(abs(int(value)))
    return text if value == 0 else ("+" if value > 0 else "-") + text


def percent(value: float, *, signed_: bool = False) -> str:
    """A share as a percentage: ``25%``, ``25 %`` (French), ``+12%`` with ``signed_``."""
    text = format_percent(abs(value) if signed_ else value, locale=_locale(), numbering_system=_system())
    text = _shape_digits(text)
    if signed_ and value:
        text = ("+" if value > 0 else "-") + text
    return text


def _utc(ts: datetime | date | pd.Timestamp | str) -> pd.Timestamp:
    import pandas as pd

    t = pd.Timestamp(ts)
    return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")


def date_time(ts: datetime | pd.Timestamp | str | None) -> str:
    """
    A time in UTC as the language writes it; empty for ``None``.

    English keeps the unambiguous ``2025-01-26 14:05 UTC``; French and Arabic name the
    month: ``26 janv. 2025, 14:05 UTC``, ``26 يناير 2025، 14:05 UTC``.
    """
    import pandas as pd

    if ts is None or pd.isna(ts):
        return ""
    t = _utc(ts)
    if language() == DEFAULT:
        return str(t.strftime("%Y-%m-%d %H:%M UTC"))
    comma = "،" if language() == "ar" else ","
    return _shape_digits(f"{day(t)}{comma} {t:%H:%M} UTC")


def short_time(ts: datetime | pd.Timestamp | str) -> str:
    """A time in UTC, numeric and compact for table cells: ``2025-01-26 14:05`` (digits as chosen)."""
    return _shape_digits(_utc(ts).strftime("%Y-%m-%d %H:%M"))


def table_times(times: pd.Series) -> pd.Series:
    """Times in UTC for data table cells, to the second: ``2025-01-26 14:05:09 UTC``, Western digits."""
    import pandas as pd

    return pd.to_datetime(times, utc=True).dt.strftime("%Y-%m-%d %H:%M:%S UTC").fillna("")


def day(ts: datetime | date | pd.Timestamp | str) -> str:
    """A day: ``2025-01-26`` in English, ``26 janv. 2025``, ``26 يناير 2025``."""
    t = _utc(ts)
    if language() == DEFAULT:
        return str(t.strftime("%Y-%m-%d"))
    return _shape_digits(format_skeleton("yMMMd", t.to_pydatetime().replace(tzinfo=None), locale=_locale()))


def month_day(ts: datetime | date | pd.Timestamp | str) -> str:
    """A day without its year, for chart axes: ``01-26`` in English, ``26 janv.``, ``26 يناير``."""
    t = _utc(ts)
    if language() == DEFAULT:
        return str(t.strftime("%m-%d"))
    return _shape_digits(format_skeleton("MMMd", t.to_pydatetime().replace(tzinfo=None), locale=_locale()))


def month_year(ts: datetime | date | pd.Timestamp | str) -> str:
    """A month in UTC, for chart axes: ``2025-01`` in English, ``janv. 2025``, ``يناير 2025``."""
    t = _utc(ts)
    if language() == DEFAULT:
        return str(t.strftime("%Y-%m"))
    return _shape_digits(format_skeleton("yMMM", t.to_pydatetime().replace(tzinfo=None), locale=_locale()))


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """
    The language a command line run asks for.

    ``TRUCELINE_LANG``, else ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (``fr_FR.UTF-8`` is
    ``fr``), else English. A language Truceline has no interface for is English.
    """
    env = os.environ if environ is None else environ
    for name in ("TRUCELINE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
            return code if code in LANGUAGES else DEFAULT
    return DEFAULT
