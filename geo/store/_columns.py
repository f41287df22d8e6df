"""Which columns an incident view has, and which the in-memory cache keeps."""

from __future__ import annotations

from collections.abc import Sequence

from geo.core.filters import SEARCHED
from geo.core.grading import UNCONFIRMED, WEAK_CREDIBILITY, WEAK_RELIABILITY
from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS

INCIDENT_COLUMNS_STORED: tuple[str, ...] = (
    "incident_id",
    *INCIDENT_COLUMNS,
    "content_hash",
    "batch_id",
    "ingested_at",
    *CLASSIFICATION_COLUMNS,
    "duplicate_group",
    "duplicate_unit",
    "verdict_note",
)
"""The columns of an incident view, in order: every stored column but the folded search text,
``duplicate_group`` (the lowest incident id of the linked group a report is counted in, or
its own id), ``duplicate_unit`` (the event it is one report of within its source: see
:func:`geo.core.duplicates.distinct_events`) and ``verdict_note`` ("unconfirmed source" for a
breach whose only reports are graded E/F or 5/6: see :func:`geo.core.grading.confidence_notes`)."""
FOLDED_COLUMNS: tuple[str, ...] = tuple(f"{c}_folded" for c in SEARCHED)
"""Case-folded copies of the searched text, for the text filter (not part of incident views)."""
_WEAK = (
    "{t}.source_reliability IN ("
    + ", ".join(f"'{g}'" for g in sorted(WEAK_RELIABILITY))
    + ") OR {t}.info_credibility IN ("
    + ", ".join(f"'{g}'" for g in sorted(WEAK_CREDIBILITY))
    + ")"
)
"""A report graded E/F or 5/6, as SQL over the table or alias ``t``."""
COMPUTED: dict[str, str] = {
    "duplicate_group": (
        "COALESCE((SELECT g.group_id FROM incident_groups g WHERE g.incident_id = incidents.incident_id), "
        "incidents.incident_id) AS duplicate_group"
    ),
    "duplicate_unit": (
        "COALESCE((SELECT g.unit_id FROM incident_groups g WHERE g.incident_id = incidents.incident_id), "
        "incidents.incident_id) AS duplicate_unit"
    ),
    "verdict_note": (
        "CASE WHEN incidents.verdict = 'breach' AND (" + _WEAK.format(t="incidents") + ") AND NOT EXISTS "
        "(SELECT 1 FROM incident_groups g1 JOIN incident_groups g2 ON g2.group_id = g1.group_id "
        "JOIN incidents o ON o.incident_id = g2.incident_id "
        "WHERE g1.incident_id = incidents.incident_id AND NOT (" + _WEAK.format(t="o") + ")) "
        f"THEN '{UNCONFIRMED}' ELSE '' END AS verdict_note"
    ),
}
"""View columns that are not stored in ``incidents``, as SQL."""
COMPACT_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "occurred_at",
    "lon",
    "lat",
    "category",
    "source",
    "verification",
    "source_reliability",
    "info_credibility",
    "location_precision",
    "attributed_party",
    "attribution",
    "verdict",
    "zones",
    "rules",
    "distance_m",
    "side",
    "batch_id",
    "ingested_at",
)
"""The columns maps, trends and KPIs need: what the in-memory cache holds."""


def selected(columns: Sequence[str]) -> str:
    """The ``SELECT`` list of view columns: stored ones by name, computed ones as SQL."""
    return ", ".join(COMPUTED.get(c, c) for c in columns)
