"""Shared test data for the map tests: hostile text and small classified views."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import Scenario, classify, generate_incidents

XSS_PAYLOADS: tuple[str, ...] = (
    "<script>window.__xss = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">",
    "${window.__xss = 'template'; alert('template')}",
    "`); window.__xss = 'backtick'; alert('backtick'); (`",
    "</script><script>window.__xss = 'close'; alert('close')</script>",
    "\\`${alert('escaped backtick')}\\` \\u0060 \\",
    '" onmouseover="alert(\'attr\')" x="',
    "' onfocus='alert(1)' autofocus='",
    "<svg onload=\"window.__xss = 'svg'; alert('svg')\"></svg>",
    "{{'map'}} {% raw %} {# jinja #} <!-- comment",
    "{{ 7 * 7 }} {{ this.__class__.__name__ }} {% if true %}jinja-ran{% endif %}",
    "Ünïcødé 조선인민군 Київ العربية \u2028 line separator \u2029 end",
)
"""Text that must come out inert wherever data text lands."""


def evil(i: int) -> str:
    return XSS_PAYLOADS[i % len(XSS_PAYLOADS)]


def make_view(scenario: Scenario, n: int, *, seed: int = 0) -> pd.DataFrame:
    """A classified incident view of ``n`` synthetic incidents."""
    incidents = generate_incidents(scenario, n=n, seed=seed)
    view = incidents.join(classify(incidents, scenario))
    view["incident_id"] = np.arange(1, len(view) + 1)
    return view
