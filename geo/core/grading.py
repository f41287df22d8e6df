"""Admiralty grading of reports: source reliability A–F, information credibility 1–6, and a verdict's note.

Intelligence and monitoring practice grades each report twice (NATO AJP-2.1, the
"Admiralty code"): how reliable its **source** has been (``A`` completely reliable … ``E``
unreliable, ``F`` reliability cannot be judged) and how credible the **information** is
(``1`` confirmed by other sources … ``5`` improbable, ``6`` truth cannot be judged).
Both are optional: an empty grade means the report was not graded.

- A filter "at least B2" keeps reports graded ``A`` or ``B`` *and* ``1`` or ``2``
  (:func:`meets`); an ungraded report never meets a threshold.
- A report is **weak** when it is graded ``E``/``F`` or ``5``/``6`` (:func:`weak`).
- A ``breach`` whose only reports (the incident and the reports linked to it as one event,
  its ``duplicate_group``) are all weak keeps its verdict, but is shown as "breach
  (unconfirmed source)": :func:`confidence_notes` gives that note as a derived column,
  ``verdict_note``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

RELIABILITY: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
"""Source reliability grades, best first."""
CREDIBILITY: tuple[str, ...] = ("1", "2", "3", "4", "5", "6")
"""Information credibility grades, best first."""
RELIABILITY_NAMES: dict[str, str] = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY_NAMES: dict[str, str] = {
    "1": "confirmed by other sources",
    "2": "probably true",
    "3": "possibly true",
    "4": "doubtful",
    "5": "improbable",
    "6": "truth cannot be judged",
}
WEAK_RELIABILITY = frozenset({"E", "F"})
WEAK_CREDIBILITY = frozenset({"5", "6"})
UNCONFIRMED = "unconfirmed source"
"""The note of a breach whose only reports are weak: shown as "breach (unconfirmed source)"."""
GRADE_COLUMNS: tuple[str, str] = ("source_reliability", "info_credibility")
_THRESHOLD = re.compile(r"^\s*([A-Fa-f])\s*([1-6])\s*$")


def _synonyms(names: Mapping[str, str]) -> dict[str, str]:
    out = {grade.casefold(): grade for grade in names}
    out |= {name.casefold(): grade for grade, name in names.items()}
    out |= {f"{grade} - {name}".casefold(): grade for grade, name in names.items()}
    out |= {f"{grade}: {name}".casefold(): grade for grade, name in names.items()}
    out |= {f"{grade} ({name})".casefold(): grade for grade, name in names.items()}
    return out


RELIABILITY_SYNONYMS = _synonyms(RELIABILITY_NAMES)
"""Text read as a reliability grade: the letter (any case), its name, or both (``B - usually reliable``)."""
CREDIBILITY_SYNONYMS = _synonyms(CREDIBILITY_NAMES) | {"1.0": "1", "2.0": "2", "3.0": "3", "4.0": "4"} | {
    "5.0": "5",
    "6.0": "6",
}
"""Text read as a credibility grade: the digit, its name, or both."""


def parse_threshold(text: str) -> tuple[str, str]:
    """
    A threshold such as ``B2`` as (reliability, credibility).

    Raises
    ------
    ValueError
        When ``text`` is not a letter A–F followed by a digit 1–6.
    """
    found = _THRESHOLD.match(str(text))
    if not found:
        msg = f"grade: must be a reliability A-F and a credibility 1-6 such as B2, got {text!r}"
        raise ValueError(msg)
    return found.group(1).upper(), found.group(2)


def meets(reliability: pd.Series, credibility: pd.Series, threshold: str) -> np.ndarray:
    """
    Which reports are graded at least ``threshold`` (``B2``: A or B, and 1 or 2).

    Ungraded reports (an empty grade) never meet a threshold.
    """
    best_r, best_c = parse_threshold(threshold)
    ok_r = RELIABILITY[: RELIABILITY.index(best_r) + 1]
    ok_c = CREDIBILITY[: CREDIBILITY.index(best_c) + 1]
    r = reliability.astype(object).fillna("")
    c = credibility.astype(object).fillna("")
    return np.asarray(r.isin(ok_r).to_numpy() & c.isin(ok_c).to_numpy(), dtype=bool)


def allowed_for(threshold: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The reliability and credibility grades that meet ``threshold``."""
    best_r, best_c = parse_threshold(threshold)
    return RELIABILITY[: RELIABILITY.index(best_r) + 1], CREDIBILITY[: CREDIBILITY.index(best_c) + 1]


def _is_in(values: pd.Series, wanted: frozenset[str]) -> np.ndarray:
    """Which values are in ``wanted``, decided once per distinct value (categorical columns by code)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lut = np.array([str(c) in wanted for c in values.cat.categories] + [False], dtype=bool)
        return np.asarray(lut[values.cat.codes.to_numpy(dtype=np.int64)])
    codes, uniques = pd.factorize(values)
    lut = np.array([str(u) in wanted for u in uniques] + [False], dtype=bool)
    return np.asarray(lut[codes])


def weak(reliability: pd.Series, credibility: pd.Series) -> np.ndarray:
    """Which reports are graded E/F or 5/6: they cannot carry a definite breach alone."""
    return np.asarray(_is_in(reliability, WEAK_RELIABILITY) | _is_in(credibility, WEAK_CREDIBILITY))


def confidence_notes(view: pd.DataFrame) -> pd.Series:
    """
    Each row's verdict note: :data:`UNCONFIRMED` for a breach whose only reports are weak, else "".

    A row's reports are the rows sharing its ``duplicate_group`` (the reports counted as
    one event with it), or itself alone when the view has no such column. Pass the whole
    set of reports (the cache, a store query), not a filtered part of it, so that a
    group's other reports are seen. Views without grading columns get no notes.
    """
    notes = pd.Series("", index=view.index, dtype="str")
    if view.empty or not set(GRADE_COLUMNS) <= set(view.columns):
        return notes
    breach = _is_in(view["verdict"], frozenset({"breach"}))
    is_weak = weak(view["source_reliability"], view["info_credibility"])
    candidates = breach & is_weak
    if not candidates.any():
        return notes
    if "duplicate_group" in view.columns:
        group = view["duplicate_group"].to_numpy(dtype=np.int64)
        _, index = np.unique(group, return_inverse=True)
        strong = np.zeros(int(index.max()) + 1, dtype=bool)
        strong[index[~is_weak]] = True  # a group with any report not weak
        candidates &= ~strong[index]
    notes[candidates] = UNCONFIRMED
    return notes


def verdict_text(label: str, note: object) -> str:
    """A verdict's label with its note: ``Breach (unconfirmed source)``."""
    note_text = "" if note is None or (not isinstance(note, str) and bool(pd.isna(note))) else str(note)
    return f"{label} ({note_text})" if note_text else label


def grade_text(reliability: object, credibility: object) -> str:
    """A report's grade as written: ``B2``, ``B`` or ``2`` alone, or "" when ungraded."""

    def part(v: object) -> str:
        return "" if v is None or (not isinstance(v, str) and bool(pd.isna(v))) else str(v)

    return part(reliability) + part(credibility)
