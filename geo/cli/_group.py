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
@click.option(
    "--lang",
    metavar="CODE",
    help="Language of the human-readable output and of briefings (en, ar, fr; default: "
    "TRUCELINE_LANG, else LC_ALL, LC_MESSAGES or LANG, else en). JSON output stays as it is.",
)
@click.option(
    "--digits",
    type=click.Choice(["latn", "arab"]),
    envvar="TRUCELINE_DIGITS",
    help="Digits of Arabic output: latn (0-9, the default) or arab (Eastern Arabic digits).",
)
@click.version_option(package_name=None, version=geo.__version__)
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, scenario: str | None, lang: str | None, digits: str | None
) -> None:
    """Truceline: incidents joined to ceasefire lines, zones and rules."""
    from geo.i18n import LANGUAGES, use_language
    from geo.localize import language_from_environment, use_digits

    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    ctx.obj["scenario"] = scenario
    if lang and lang.split("-")[0].split("_")[0].lower() not in LANGUAGES:
        raise click.BadParameter(f"{lang!r}: not one of {', '.join(LANGUAGES)}", param_hint="--lang")
    code = language_from_environment({"TRUCELINE_LANG": lang} if lang else None)
    ctx.obj["lang"] = code
    # For the rest of this invocation only (undone when the command ends: tests run many in one process).
    ctx.with_resource(use_language(code))
    ctx.with_resource(use_digits(digits))  # type: ignore[arg-type]  # click.Choice checked it
