"""Fixtures for the incident reader tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.readers.readers_support import Result, template_csv
from tests.readers.readers_support import read_all as _read_all


@pytest.fixture
def read_all() -> Callable[..., Result]:
    """Read a whole source (path or bytes) with a fixed ``now``."""
    return _read_all


@pytest.fixture
def make_template() -> Callable[..., bytes]:
    """Build template CSV bytes from raw row lines."""
    return template_csv
