"""Structural rules: geo/ never imports streamlit; every geo module has a docstring."""

from __future__ import annotations

import ast
from pathlib import Path

GEO = Path(__file__).resolve().parent.parent / "geo"


def modules() -> list[Path]:
    return sorted(GEO.rglob("*.py"))


def test_geo_never_imports_streamlit():
    for path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(
                n == "streamlit" or n.startswith(("streamlit.", "streamlit_folium")) for n in names
            ), path


def test_dashboard_uses_only_the_public_geo_modules():
    dashboard = GEO.parent / "dashboard"
    for path in dashboard.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geo."):
                private = [part for part in node.module.split(".")[1:] if part.startswith("_")]
                assert not private, f"{path}: imports {node.module} (use the public modules or `geo`)"
