"""The public API of ``geo``: everything ``geo/__init__.py`` re-exports."""

from geo._errors import (
    AuthenticationError,
    GeometryFileError,
    InputError,
    ManifestError,
    NotFoundError,
    PermissionDeniedError,
    ReaderError,
    StoreError,
    TrucelineError,
)
from geo.categories import Vocabulary, load_vocabulary, vocabulary
from geo.classify import PreparedScenario, classify, prepare
from geo.demo import DEMO_MANIFEST, generate_incidents
from geo.manifest import load_scenario, validate_manifest
from geo.model import (
    CLASSIFICATION_COLUMNS,
    INCIDENT_COLUMNS,
    VERDICTS,
    Line,
    Party,
    Rule,
    Scenario,
    Zone,
)

__all__ = [
    "CLASSIFICATION_COLUMNS",
    "DEMO_MANIFEST",
    "INCIDENT_COLUMNS",
    "VERDICTS",
    "AuthenticationError",
    "GeometryFileError",
    "InputError",
    "Line",
    "ManifestError",
    "NotFoundError",
    "Party",
    "PermissionDeniedError",
    "PreparedScenario",
    "ReaderError",
    "Rule",
    "Scenario",
    "StoreError",
    "TrucelineError",
    "Vocabulary",
    "Zone",
    "classify",
    "generate_incidents",
    "load_scenario",
    "load_vocabulary",
    "prepare",
    "validate_manifest",
    "vocabulary",
]
