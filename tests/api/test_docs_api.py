"""docs/api.md: every curl example runs against a live API and answers what the page shows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from geo.services.forms import FormMapping, set_mapping
from geo.services.tokens import add_token

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
VARYING = frozenset({"batch_id", "version", "schema_version"})
"""Members whose value depends on the store the examples run on, not on the example."""

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def examples() -> list[tuple[str, Any]]:
    """Each curl block, with the JSON answer shown right after it (``None`` when none is shown)."""
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    out = []
    for i, (lang, body) in enumerate(blocks):
        if lang == "sh" and body.lstrip().startswith("curl "):
            shown = None
            if i + 1 < len(blocks) and blocks[i + 1][0] == "json":
                shown = json.loads(blocks[i + 1][1])
            out.append((body, shown))
    return out


def matches(shown: Any, got: Any, path: str = "") -> list[str]:
    """Where ``got`` differs from what the page shows: every member shown is there, equal; lists whole."""
    if isinstance(shown, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object, got {got!r}"]
        out = []
        for key, value in shown.items():
            if key not in got:
                out.append(f"{path}.{key}: missing")
            elif key not in VARYING:
                out += matches(value, got[key], f"{path}.{key}")
        return out
    if isinstance(shown, list):
        if not isinstance(got, list) or len(got) != len(shown):
            return [f"{path}: expected {len(shown)} items, got {got!r}"[:300]]
        return [
            d for i, (s, g) in enumerate(zip(shown, got, strict=True)) for d in matches(s, g, f"{path}[{i}]")
        ]
    return [] if shown == got else [f"{path}: expected {shown!r}, got {got!r}"]


def test_the_page_has_curl_examples_with_answers():
    shown = examples()
    assert len(shown) >= 8
    assert sum(answer is not None for _, answer in shown) >= 8


def test_every_curl_example_answers_what_the_page_shows(api, api_store, tmp_path):
    korea = api_store.using("korea")
    env = {
        **os.environ,
        "TRUCELINE_API": api.base,
        "TOKEN": add_token(api_store, "field-team-3", "analyst", scenario_id="korea"),
        "VIEWER": add_token(api_store, "mediator-office", "viewer", scenario_id="korea"),
    }
    set_mapping(
        korea,
        FormMapping(
            "aXb7Kc9sQ2mF4tR8wLpZ1n",
            {"category": "what_happened", "actor": "who", "fatalities": "casualties", "description": "notes"},
            geopoint="location",
            time="when",
        ),
    )
    for command, shown in examples():
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        if shown is None:
            continue
        answer = json.loads(done.stdout)
        problems = matches(shown, answer)
        assert not problems, f"{command}\n" + "\n".join(problems)
    written = json.loads((tmp_path / "korea.geojson").read_text(encoding="utf-8"))
    assert written["type"] == "FeatureCollection" and written["id"] == "korea"
