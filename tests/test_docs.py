"""The documentation cannot drift from the code: commands, options and manifest keys."""

from __future__ import annotations

import enum
import inspect
import os
import re
from pathlib import Path

import click

from geo.cli import cli
from geo.core._manifest_shape import KEYS

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


def _metavar(param: click.Parameter) -> str:
    """What an option or argument takes, from click's data model (not its help formatter)."""
    if isinstance(param, click.Option) and param.is_flag:
        return ""
    if isinstance(param.type, click.Choice):
        return "|".join(str(c) for c in param.type.choices)
    if isinstance(param, click.Argument):
        return (param.name or "").upper()
    return param.type.name.upper()


def _default(param: click.Parameter) -> str:
    value = param.default  # click 8.2+ marks "no default" with an enum sentinel
    if isinstance(param, click.Argument) or isinstance(value, (bool, enum.Enum)):
        return ""
    if isinstance(value, (str, int, float)) and value != "":
        return f"`{value}`"
    return ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _help(command: click.Command) -> str:
    lines = [line for line in inspect.cleandoc(command.help or "").splitlines() if line.strip() != "\\b"]
    return "\n".join(lines).strip()


def cli_reference() -> str:
    """
    docs/cli.md, rendered from the commands' declarations.

    It reads click's data model (names, options, types, defaults, help texts), never click's
    own ``--help`` layout, which changes between click releases.
    """
    parts = [
        "# Command line reference",
        "",
        "Rendered from the commands' own declarations; `tests/test_docs.py` fails when it drifts "
        "(regenerate with `TRUCELINE_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`). "
        "`--help` on any command prints the same.",
        "",
    ]
    for path in [(), *commands()]:
        command: click.Command = cli
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        args = [p for p in command.params if isinstance(p, click.Argument)]
        usage = ["python -m geo", *path, "[OPTIONS]"]
        for arg in args:
            word = _metavar(arg) + ("…" if arg.nargs == -1 else "")
            usage.append(word if arg.required else f"[{word}]")
        if isinstance(command, click.Group):
            usage.append("COMMAND")
        title = " ".join(["python -m geo", *path])
        parts += [f"## `{title}`", "", f"`{' '.join(usage)}`", "", _help(command), ""]
        options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
        if options:
            parts += ["| option | takes | default | what it does |", "|---|---|---|---|"]
            for opt in options:
                names = ", ".join(f"`{o}`" for o in [*opt.opts, *opt.secondary_opts])
                takes = _metavar(opt) + (" (repeatable)" if opt.multiple else "")
                takes = f"`{takes}`" if _metavar(opt) else ""
                parts.append(f"| {names} | {takes} | {_default(opt)} | {_cell(opt.help or '')} |")
            parts.append("")
        if isinstance(command, click.Group):
            parts += ["| command | what it does |", "|---|---|"]
            for name, sub in sorted(command.commands.items()):
                parts.append(f"| `{name}` | {_cell(sub.get_short_help_str(limit=200))} |")
            parts.append("")
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
    for table, keys in KEYS.items():
        assert f"[{table}]" in text or f"[[{table}]]" in text, table
        for key in keys:
            assert f"`{key}`" in text, f"{table}.{key}"


def test_the_project_stands_alone():
    """Docs and code explain themselves: no citation of a design brief kept outside the repository."""
    cited = [
        str(path.relative_to(README.parent))
        for folder in ("docs", "geo", "dashboard", "benchmarks")
        for path in (README.parent / folder).rglob("*")
        if path.suffix in (".md", ".py", ".js", ".j2", ".css", ".toml")
        and re.search(r"DESIGN(\.md| ?§)", path.read_text(encoding="utf-8"))
    ]
    assert cited == [], cited
