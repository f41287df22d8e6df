"""The ``python -m geo`` command line (also installed as ``truceline``).

Each command parses, calls one ``geo`` function and prints. The store is chosen by
``--db`` or ``TRUCELINE_DB`` (default: the SQLite file under ``var/``). Errors print one
line and exit 1; a file that cannot be read exits 1 too, while a file with bad rows is an
upload that succeeded, with every row accounted for. Heavy libraries are imported by the
commands that need them, so ``--help`` answers at once.
"""

from __future__ import annotations

from geo.cli import admin, alerts, api, briefings, data, evidence, over_time, review, scenario
from geo.cli._group import cli

__all__ = ["cli", "main"]
# Imported for the commands they add to ``cli``.
_COMMANDS = (admin, alerts, api, briefings, data, evidence, over_time, review, scenario)


def main() -> None:
    """Run the command line (the ``truceline`` console script)."""
    cli(prog_name="truceline")
