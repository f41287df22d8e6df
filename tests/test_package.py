"""The package: lazy imports for a quick ``--help``, one version, numba's cache out of the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import geo
from tests.conftest import REPO

HEAVY = ("numba", "geopandas", "pyproj", "pandas", "shapely", "streamlit", "matplotlib")


def run_python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_loads_no_heavy_library() -> None:
    """``python -m geo --help`` answers from click alone: nothing heavy is imported for it."""
    out = run_python(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from geo.cli import cli\n"
        "for args in (['--help'], ['ingest', '--help'], ['export', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    assert out.strip() == "[]", out


def test_public_names_resolve_on_first_use() -> None:
    out = run_python(
        "import sys, geo\n"
        "assert 'geo.core.classify' not in sys.modules\n"
        "print(geo.classify.__module__, geo.Scenario.__module__, geo.open_store.__module__)\n"
    )
    assert out.split() == ["geo.core.classify", "geo.core.model", "geo.store"]
    assert set(geo.__all__) == set(geo._api.EXPORTS)
    assert "classify" in dir(geo)


def test_one_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "geo.__version__"}
    assert geo.__version__.count(".") == 2


def test_numba_compiles_into_the_user_cache_not_the_source_tree(tmp_path) -> None:
    before = set(REPO.joinpath("geo").rglob("*.nbi"))
    code = (
        "from geo import classify, generate_incidents, load_scenario, DEMO_MANIFEST\n"
        "s = load_scenario(DEMO_MANIFEST)\n"
        "print(len(classify(generate_incidents(s, n=50), s)))\n"
    )
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "NUMBA_CACHE_DIR": ""}
    assert run_python(code, **env).strip() == "50"
    assert list((tmp_path / "cache" / "truceline" / "numba").rglob("*.nbi"))
    assert set(REPO.joinpath("geo").rglob("*.nbi")) == before


def test_a_read_only_cache_folder_turns_caching_off(tmp_path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go", encoding="utf-8")
    code = (
        "from geo.core import _nearest\n"
        "print(_nearest._CACHE)\n"
        "from geo import classify, generate_incidents, load_scenario, DEMO_MANIFEST\n"
        "s = load_scenario(DEMO_MANIFEST)\n"
        "print(len(classify(generate_incidents(s, n=20), s)))\n"
    )
    out = run_python(code, XDG_CACHE_HOME=str(blocked), NUMBA_CACHE_DIR="").split()
    assert out == ["False", "20"]
