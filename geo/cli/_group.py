"""The ``python -m geo`` command group; each sub-module adds its commands to it."""

from __future__ import annotations

import click

import geo


@click.group()
@click.option(
    "--db",
    envvar="TRUCELINE_DB",
    help="Store URL: sqlite:///path or postgresql://… "
    "(default: TRUCELINE_DB, else var/truceline.db in the checkout).",
)
@click.option(
    "--scenario",
    envvar="TRUCELINE_SCENARIO",
    metavar="ID",
    help="The scenario of the store to work on (default: TRUCELINE_SCENARIO, else the store's default). "
    "Commands that read or write incidents also take it after their name.",
)
@click.version_option(package_name=None, version=geo.__version__)
@click.pass_context
def cli(ctx: click.Context, db: str | None, scenario: str | None) -> None:
    """Truceline: incidents joined to ceasefire lines, zones and rules."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    ctx.obj["scenario"] = scenario


