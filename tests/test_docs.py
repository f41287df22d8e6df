"""The documentation cannot drift from the code: commands, options and manifest keys."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
from click.testing import CliRunner

from geo.cli import cli
from geo.manifest import _KEYS

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append(path)
        if isinstance(command, click.Group):
            out += commands(command, path)
    return out


def cli_reference() -> str:
    """docs/cli.md, generated from the commands' own --help."""
    parts = [
        "# Command line reference",
        "",
        "Generated from `python -m geo … --help`; `tests/test_docs.py` fails when it drifts "
        "(regenerate with `TRUCELINE_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`).",
        "",
    ]
    for path in [(), *commands()]:
        result = CliRunner().invoke(cli, [*path, "--help"], prog_name="python -m geo", terminal_width=100)
        assert result.exit_code == 0, result.output
        title = " ".join(["python -m geo", *path])
        parts += [f"## `{title}`", "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


def test_cli_reference_is_current():
    path = DOCS / "cli.md"
    text = cli_reference()
    if os.environ.get("TRUCELINE_UPDATE_DOCS"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, "docs/cli.md is stale: see its first paragraph"


def test_every_command_is_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    for path in commands():
        if len(path) == 1:
            assert re.search(rf"python -m geo {path[0]}\b", readme), path


def test_every_manifest_key_is_documented():
    text = (DOCS / "manifest.md").read_text(encoding="utf-8")
    for table, keys in _KEYS.items():
        assert f"[{table}]" in text or f"[[{table}]]" in text, table
        for key in keys:
            assert f"`{key}`" in text, f"{table}.{key}"
