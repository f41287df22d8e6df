"""Truceline: incidents joined to ceasefire lines, zones and rules."""

from geo._api import *  # noqa: F403
from geo._api import __all__  # noqa: F401

__version__ = "0.1.0"
