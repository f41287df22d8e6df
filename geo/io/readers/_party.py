"""Actor names to scenario parties, through the scenario's party mapping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from geo._errors import ReaderError

MATCH_KINDS: tuple[str, ...] = ("exact", "iexact", "icontains")


Compiled = tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]


def compile_mapping(party_mapping: Iterable[Sequence[str]]) -> Compiled:
    """Check party mapping triples and index them by match kind; raises :class:`ReaderError`."""
    exact: dict[str, str] = {}
    iexact: dict[str, str] = {}
    icontains: list[tuple[str, str]] = []
    for i, entry in enumerate(party_mapping):
        if len(entry) != 3:
            msg = f"party_mapping[{i}]: expected (pattern, match, party), got {tuple(entry)!r}"
            raise ReaderError(msg)
        pattern, match, party = (str(x).strip() for x in entry)
        if not pattern:
            continue
        if match == "exact":
            exact.setdefault(pattern, party)
        elif match == "iexact":
            iexact.setdefault(pattern.casefold(), party)
        elif match == "icontains":
            icontains.append((pattern.casefold(), party))
        else:
            msg = f"party_mapping[{i}]: unknown match {match!r} (expected exact, iexact or icontains)"
            raise ReaderError(msg)
    return exact, iexact, icontains


def map_party(actor_names: pd.Series | Sequence[str] | np.ndarray,
              party_mapping: Iterable[Sequence[str]]) -> np.ndarray:
    """
    The party each actor name maps to, or ``""`` when none does.

    Exact patterns win over case-insensitive ones, which win over ``icontains``
    patterns; within a kind, the first pattern in the mapping wins. Names are compared
    without surrounding whitespace, and case-insensitive kinds use Unicode case folding.
    Each distinct name is looked up once.

    Parameters
    ----------
    actor_names
        Actor names as reported (``actor1``, ``side_a``, ...); missing values map to ``""``.
    party_mapping
        ``(pattern, match, party)`` triples; ``match`` is ``exact``, ``iexact`` or
        ``icontains`` (as in :attr:`geo.core.model.Scenario.party_mapping`).

    Returns
    -------
    numpy.ndarray
        Party ids (object dtype), aligned with ``actor_names``.
    """
    exact, iexact, icontains = compile_mapping(party_mapping)
    names = pd.Series(actor_names, dtype="str") if not isinstance(actor_names, pd.Series) else actor_names
    codes, uniques = pd.factorize(names.fillna("").astype("str"))
    if not (exact or iexact or icontains):
        return np.full(len(codes), "", dtype=object)

    def one(name: str) -> str:
        key = name.strip()
        if not key:
            return ""
        if key in exact:
            return exact[key]
        folded = key.casefold()
        if folded in iexact:
            return iexact[folded]
        for pattern, party in icontains:
            if pattern in folded:
                return party
        return ""

    mapped = np.array([*(one(str(u)) for u in uniques), ""], dtype=object)
    return np.asarray(mapped[codes])
