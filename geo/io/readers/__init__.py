"""Incident CSV readers: the house template, ACLED, UCDP GED, and any CSV through a column mapping.

Every reader produces the normalised incident frame of :data:`geo.core.model.INCIDENT_COLUMNS`
(plus ``line_no``), in chunks, with the rows it rejects and why. See
docs/incident-formats.md for every column of every format.
"""

from geo.io.readers import acled, mapped, template, ucdp
from geo.io.readers._base import FORMATS, Detected, ReadChunk
from geo.io.readers._encoding import ENCODINGS
from geo.io.readers._party import MATCH_KINDS, map_party
from geo.io.readers._read import CHUNK_ROWS, detect, header, read_incidents
from geo.io.readers.mapped import ColumnMapping, load_mapping, mapping_from_pairs

__all__ = [
    "CHUNK_ROWS",
    "ENCODINGS",
    "FORMATS",
    "MATCH_KINDS",
    "ColumnMapping",
    "Detected",
    "ReadChunk",
    "acled",
    "detect",
    "header",
    "load_mapping",
    "map_party",
    "mapped",
    "mapping_from_pairs",
    "read_incidents",
    "template",
    "ucdp",
]
