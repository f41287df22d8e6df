"""The public API of ``geo``: every name ``geo`` exports, and the module that defines it.

``geo/__init__.py`` imports a name's module only when the name is first used, so that
``import geo`` (and ``python -m geo --help``) does not load numba, geopandas or pyproj.
Type checkers read the imports below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo._errors import (
        AuthenticationError,
        BatchError,
        DateOrderError,
        GeometryFileError,
        InputError,
        ManifestError,
        NotFoundError,
        PermissionDeniedError,
        ReaderError,
        StoreError,
        TrucelineError,
    )
    from geo.core.auth import Principal
    from geo.core.categories import Vocabulary, load_vocabulary, vocabulary
    from geo.core.classify import PreparedScenario, classify, prepare
    from geo.core.filters import Filters
    from geo.core.manifest import load_scenario, validate_manifest
    from geo.core.model import (
        CLASSIFICATION_COLUMNS,
        INCIDENT_COLUMNS,
        VERDICTS,
        Line,
        Party,
        Rule,
        Scenario,
        Zone,
    )
    from geo.services.demo import DEMO_MANIFEST, generate_incidents
    from geo.services.packs import load_pack, pack_ids, validate_pack
    from geo.store import Store, open_store

EXPORTS: dict[str, str] = {
    "AuthenticationError": "geo._errors",
    "BatchError": "geo._errors",
    "CLASSIFICATION_COLUMNS": "geo.core.model",
    "classify": "geo.core.classify",
    "DateOrderError": "geo._errors",
    "DEMO_MANIFEST": "geo.services.demo",
    "Filters": "geo.core.filters",
    "generate_incidents": "geo.services.demo",
    "GeometryFileError": "geo._errors",
    "INCIDENT_COLUMNS": "geo.core.model",
    "InputError": "geo._errors",
    "Line": "geo.core.model",
    "load_scenario": "geo.core.manifest",
    "load_vocabulary": "geo.core.categories",
    "load_pack": "geo.services.packs",
    "pack_ids": "geo.services.packs",
    "validate_pack": "geo.services.packs",
    "ManifestError": "geo._errors",
    "NotFoundError": "geo._errors",
    "open_store": "geo.store",
    "Party": "geo.core.model",
    "PermissionDeniedError": "geo._errors",
    "prepare": "geo.core.classify",
    "PreparedScenario": "geo.core.classify",
    "Principal": "geo.core.auth",
    "ReaderError": "geo._errors",
    "Rule": "geo.core.model",
    "Scenario": "geo.core.model",
    "Store": "geo.store",
    "StoreError": "geo._errors",
    "TrucelineError": "geo._errors",
    "validate_manifest": "geo.core.manifest",
    "VERDICTS": "geo.core.model",
    "Vocabulary": "geo.core.categories",
    "vocabulary": "geo.core.categories",
    "Zone": "geo.core.model",
}
"""Each public name, and the module it is imported from."""

__all__ = [
    "CLASSIFICATION_COLUMNS",
    "DEMO_MANIFEST",
    "INCIDENT_COLUMNS",
    "VERDICTS",
    "AuthenticationError",
    "BatchError",
    "DateOrderError",
    "Filters",
    "GeometryFileError",
    "InputError",
    "Line",
    "ManifestError",
    "NotFoundError",
    "Party",
    "PermissionDeniedError",
    "PreparedScenario",
    "Principal",
    "ReaderError",
    "Rule",
    "Scenario",
    "Store",
    "StoreError",
    "TrucelineError",
    "Vocabulary",
    "Zone",
    "classify",
    "generate_incidents",
    "load_pack",
    "load_scenario",
    "load_vocabulary",
    "open_store",
    "pack_ids",
    "prepare",
    "validate_manifest",
    "validate_pack",
    "vocabulary",
]
