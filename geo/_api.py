"""The public API of ``geo``: everything ``geo/__init__.py`` re-exports."""

from geo._errors import (
    AuthenticationError,
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
from geo.store import Store, open_store

__all__ = [
    "CLASSIFICATION_COLUMNS",
    "DEMO_MANIFEST",
    "INCIDENT_COLUMNS",
    "VERDICTS",
    "AuthenticationError",
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
    "load_scenario",
    "load_vocabulary",
    "open_store",
    "prepare",
    "validate_manifest",
    "vocabulary",
]
