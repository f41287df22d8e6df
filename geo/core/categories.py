"""The controlled incident vocabulary and source-code mappings, read from a TOML file.

The default file is ``data/categories.toml``; ``TRUCELINE_CATEGORIES`` points elsewhere.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from geo._errors import ManifestError
from geo._paths import DATA
from geo.core.model import DATE_PRECISIONS, LOCATION_PRECISIONS

DEFAULT_PATH = DATA / "categories.toml"


@dataclass(frozen=True)
class Vocabulary:
    """Category ids with labels, precision defaults and source mappings."""

    labels: dict[str, str]
    descriptions: dict[str, str]
    uncertainty_m: dict[str, float]
    coarse: frozenset[str]
    acled: dict[str, str]
    acled_geo_precision: dict[int, str]
    acled_time_precision: dict[int, str]
    ucdp: dict[int, str]
    ucdp_where_prec: dict[int, str]
    ucdp_date_prec: dict[int, str]
    path: str

    @property
    def ids(self) -> frozenset[str]:
        """Every category id."""
        return frozenset(self.labels)

    def acled_category(self, event_type: str, sub_event_type: str) -> str | None:
        """Map an ACLED event type and sub-event type to a category id."""
        key = f"{event_type.strip()}/{sub_event_type.strip()}"
        return self.acled.get(key) or self.acled.get(event_type.strip())


def _int_table(raw: dict[str, Any], name: str, path: str, allowed: frozenset[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    problems = []
    for key, value in raw.get(name, {}).items():
        if value not in allowed:
            problems.append(f"{path}: {name}.{key}: unknown value {value!r}")
        out[int(key)] = value
    if problems:
        raise ManifestError(problems)
    return out


def load_vocabulary(path: str | os.PathLike[str] | None = None) -> Vocabulary:
    """
    Read and check a vocabulary file.

    Parameters
    ----------
    path
        The TOML file; by default ``TRUCELINE_CATEGORIES`` or ``data/categories.toml``.

    Returns
    -------
    Vocabulary
    """
    file = Path(path or os.environ.get("TRUCELINE_CATEGORIES") or DEFAULT_PATH)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        msg = f"{file}: cannot read vocabulary: {err}"
        raise ManifestError(msg) from err
    cats = raw.get("category", {})
    problems = [] if "other" in cats else [f"{file}: category.other: must exist"]
    ids = frozenset(cats)
    precision = raw.get("location_precision", {})
    problems += [
        f"{file}: location_precision.{p}: missing" for p in LOCATION_PRECISIONS if p not in precision
    ]
    acled = dict(raw.get("acled", {}))
    ucdp_raw = raw.get("ucdp", {})
    problems += [f"{file}: acled.{k}: unknown category {v!r}" for k, v in acled.items() if v not in ids]
    problems += [f"{file}: ucdp.{k}: unknown category {v!r}" for k, v in ucdp_raw.items() if v not in ids]
    if problems:
        raise ManifestError(problems)
    loc, dates = frozenset(LOCATION_PRECISIONS), frozenset(DATE_PRECISIONS)
    return Vocabulary(
        labels={k: str(v.get("label", k)) for k, v in cats.items()},
        descriptions={k: str(v.get("description", "")) for k, v in cats.items()},
        uncertainty_m={k: float(precision[k]["uncertainty_m"]) for k in LOCATION_PRECISIONS},
        coarse=frozenset(k for k in LOCATION_PRECISIONS if precision[k].get("coarse", False)),
        acled=acled,
        acled_geo_precision=_int_table(raw, "acled_geo_precision", str(file), loc),
        acled_time_precision=_int_table(raw, "acled_time_precision", str(file), dates),
        ucdp={int(k): v for k, v in ucdp_raw.items()},
        ucdp_where_prec=_int_table(raw, "ucdp_where_prec", str(file), loc),
        ucdp_date_prec=_int_table(raw, "ucdp_date_prec", str(file), dates),
        path=str(file),
    )


@cache
def vocabulary() -> Vocabulary:
    """Return the vocabulary in use, read once per process."""
    return load_vocabulary()
