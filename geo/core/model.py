"""Typed records of a ceasefire scenario and the incident schema.

Geometries are shapely objects in EPSG:4326, lon/lat order. Dates of validity are
whole UTC days: ``valid_from`` is the first day in force and ``valid_to`` the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from shapely import LineString, MultiLineString, MultiPolygon, Polygon

Side = Literal["both", "left", "right"]

DATA_KINDS: tuple[str, ...] = ("synthetic", "real", "mixed")
"""What a scenario's incident data is: all generated, all real, or both."""

VERDICTS: tuple[str, ...] = ("breach", "possible_breach", "no_breach", "outside_monitored_area")
"""Verdicts, most severe first."""

LOCATION_PRECISIONS: tuple[str, ...] = ("exact", "near", "area", "region")
COARSE_PRECISIONS: frozenset[str] = frozenset({"area", "region"})
DATE_PRECISIONS: tuple[str, ...] = ("exact", "day", "week", "month", "year", "range")
VERIFICATION_STATUSES: tuple[str, ...] = ("reported", "verified", "disputed", "rejected")
ATTRIBUTIONS: tuple[str, ...] = ("reported", "inferred_from_side", "unattributed")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

ZONE_KINDS: tuple[str, ...] = (
    "buffer_zone",
    "demilitarized_zone",
    "area_of_separation",
    "limitation_zone",
    "security_zone",
    "weapons_withdrawal_zone",
    "restricted_area",
    "no_fly_zone",
    "joint_security_area",
)

ON_LINE_TOLERANCE_M = 0.01
"""A point closer than this to a line is on it: its side is ``on_line``."""

INCIDENT_COLUMNS: dict[str, str] = {
    "source": "str",
    "source_event_id": "str",
    "occurred_at": "datetime64[ns, UTC]",
    "occurred_from": "datetime64[ns, UTC]",
    "occurred_to": "datetime64[ns, UTC]",
    "date_precision": "str",
    "lon": "float64",
    "lat": "float64",
    "location_precision": "str",
    "location_uncertainty_m": "float64",
    "location_name": "str",
    "category": "str",
    "sub_category": "str",
    "weapon_class": "str",
    "actor": "str",
    "target": "str",
    "party": "str",
    "party_basis": "str",
    "fatalities": "Int64",
    "description": "str",
    "verification": "str",
    "source_reliability": "str",
    "info_credibility": "str",
}
"""The normalised incident frame every reader produces, column by column."""

CLASSIFICATION_COLUMNS: tuple[str, ...] = (
    "zones",
    "nearest_line",
    "distance_m",
    "side",
    "side_party",
    "attributed_party",
    "attribution",
    "verdict",
    "rules",
    "verdict_reason",
)
"""Columns :func:`geo.core.classify.classify` adds to an incident frame."""


@dataclass(frozen=True, slots=True)
class Party:
    """A party to the ceasefire."""

    id: str
    name: str
    short_name: str
    colour: str


@dataclass(frozen=True, slots=True)
class Line:
    """A demarcation line; sides are relative to the direction of its coordinates."""

    id: str
    name: str
    geometry: LineString | MultiLineString
    left_party: str | None
    right_party: str | None
    agreement: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    source: str = ""

    def party_on(self, side: str) -> str | None:
        """Return the party holding ``side`` (``left`` or ``right``) of the line."""
        return {"left": self.left_party, "right": self.right_party}.get(side)


@dataclass(frozen=True, slots=True)
class Zone:
    """A zone drawn by hand, or derived from a line at ``width_m`` on ``side``."""

    id: str
    name: str
    kind: str
    geometry: Polygon | MultiPolygon
    valid_from: date | None = None
    valid_to: date | None = None
    line: str | None = None
    width_m: float | None = None
    side: Side | None = None
    source: str = ""

    @property
    def derived(self) -> bool:
        """Whether the zone is derived from a line rather than drawn."""
        return self.line is not None


@dataclass(frozen=True, slots=True)
class Rule:
    """What a zone prohibits, for whom, and since when."""

    id: str
    zone: str
    prohibits: tuple[str, ...]
    parties: tuple[str, ...]
    severity: str
    text: str
    valid_from: date | None = None
    valid_to: date | None = None
    weapon_classes: tuple[str, ...] = ()
    deadline: date | None = None
    """The last day something is still allowed: the rule is in force from the day after."""

    @property
    def binds_all(self) -> bool:
        """Whether the rule binds every party."""
        return "*" in self.parties


@dataclass(frozen=True)
class Scenario:
    """A whole ceasefire: parties, lines, zones, rules and the party mapping."""

    name: str
    description: str = ""
    synthetic: bool = False
    parties: tuple[Party, ...] = ()
    lines: tuple[Line, ...] = ()
    zones: tuple[Zone, ...] = ()
    rules: tuple[Rule, ...] = ()
    party_mapping: tuple[tuple[str, str, str], ...] = ()
    """(pattern, match, party) triples; match is ``exact``, ``iexact`` or ``icontains``."""
    repairs: tuple[str, ...] = field(default=(), compare=False)
    """One line per geometry that was repaired on load."""
    data: str = ""
    """What the incident data is: ``synthetic``, ``real`` or ``mixed`` (empty: from ``synthetic``)."""
    attribution: str = ""
    """One line crediting the sources of the geometry and the incident data."""
    caveats: tuple[str, ...] = ()
    """Short lines saying what is approximate or illustrative; shown with every map and export."""
    translations: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    """Texts in other languages by manifest key (``scenario.name``, ``rule[r1].text``) then language."""

    @property
    def data_kind(self) -> str:
        """``synthetic``, ``real`` or ``mixed``."""
        return self.data or ("synthetic" if self.synthetic else "real")

    def text(self, key: str, lang: str | None, default: str) -> str:
        """
        A scenario text in ``lang``, or ``default`` (the plain form) when it has no translation.

        Parameters
        ----------
        key
            The manifest key: ``scenario.name``, ``party[north].name``, ``rule[dmz-entry].text``.
        lang
            A language code (``ar``, ``fr``, ``fr-CH``); the part before ``-`` is tried too.
        default
            The text when there is no translation.
        """
        if not lang:
            return default
        table = self.translations.get(key, {})
        return table.get(lang) or table.get(lang.split("-")[0]) or default

    def party(self, party_id: str) -> Party:
        """Return the party with ``party_id``."""
        return {p.id: p for p in self.parties}[party_id]

    def zone(self, zone_id: str) -> Zone:
        """Return the zone with ``zone_id``."""
        return {z.id: z for z in self.zones}[zone_id]

    def line(self, line_id: str) -> Line:
        """Return the line with ``line_id``."""
        return {ln.id: ln for ln in self.lines}[line_id]

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with ``rule_id``."""
        return {r.id: r for r in self.rules}[rule_id]
