"""Types every incident reader shares, and the one signature each format implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pandas as pd

if TYPE_CHECKING:
    from geo.io.readers._normalise import Context, Values

FORMATS: tuple[str, ...] = ("template", "acled", "ucdp", "mapped")
"""The incident formats, in the order detection tries them (``mapped`` is never guessed)."""


@dataclass(frozen=True)
class Detected:
    """What sniffing found in a file; shown to the analyst before anything is stored."""

    format: str
    """One of :data:`FORMATS`."""
    encoding: str
    """``utf-8``, ``utf-8-sig`` (with a byte-order mark), ``utf-16``, ``cp1252``, ``cp949``, ..."""
    delimiter: str
    """``,``, ``;``, tab or ``|``."""
    has_header: bool
    """False only for UCDP GED files exported without their header row."""
    columns: list[str]
    """The header as written (or the 49 UCDP GED names for a header-less file)."""
    warnings: list[str]
    """File-level warnings, one line each (encoding guessed, duplicate columns, ...)."""
    layout: str = ""
    """A finer name for the layout: ``acled-2023``, ``acled-pre-2023``, ``ucdp-ged``, ..."""
    dayfirst: bool | None = None
    """How dates like ``09/05/2014`` are read: day first (True), month first (False), or None
    when no date of the file depends on it (or none was seen in its first records)."""
    dates: str = ""
    """Why the dates are read in that order, one sentence (empty when the order does not matter)."""


@dataclass
class ReadChunk:
    """One chunk of normalised incidents, the rows rejected in it, and its warnings."""

    frame: pd.DataFrame
    """Accepted rows: the columns of :data:`geo.core.model.INCIDENT_COLUMNS` plus ``line_no``."""
    rejected: pd.DataFrame
    """Rejected rows: ``line_no``, ``reason`` (one sentence naming column and value), ``raw``."""
    warnings: list[str]
    """Row-level warnings on accepted rows, each ``line N: column: message``."""
    rows_read: int
    """Records consumed from the file; always ``len(frame) + len(rejected)``."""
    warning_lines: list[int] = field(default_factory=list)
    """The line number of each entry of :attr:`warnings`, in the same order."""


class FormatReader(Protocol):
    """The signature every format module (``template``, ``acled``, ``ucdp``) implements."""

    NAME: str
    REQUIRED: tuple[str, ...]
    USED: frozenset[str] | None
    """The columns ``normalise`` reads (the others are never converted); None for all."""
    DATE_COLUMNS: tuple[str, ...]
    """The date columns whose day/month order the file decides: a start, then its end if any."""
    YEAR_COLUMN: str | None
    """A column holding each incident's year, which its start date must agree with."""

    def layout(self, header: Sequence[str]) -> str | None:
        """Return the layout name when ``header`` (lower-cased names) is this format's, else None."""
        ...

    def normalise(self, raw: pd.DataFrame, ctx: Context) -> Values:
        """Turn raw text columns (named by the lower-cased header) into incident columns."""
        ...
