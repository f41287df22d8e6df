"""``python -m geo``: the Truceline command line."""

from geo.cli import cli

cli()
