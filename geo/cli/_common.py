"""What the commands share: one-line errors, option groups, parameter types, the store, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from geo._errors import TrucelineError
from geo.core.auth import OPERATOR, ROLES
from geo.core.model import VERDICTS
from geo.core.names import printable

if TYPE_CHECKING:
    from geo.core.filters import Filters
    from geo.store import Store

__all__ = [
    "OPERATOR",
    "ROLES",
    "UTC_DATE",
    "VERDICTS",
    "KeyValue",
    "echo",
    "filter_options",
    "filters_from",
    "one_line_errors",
    "progress_bar",
    "reading_options",
    "scenario_option",
    "store_of",
    "value_filter_options",
    "write_export",
]

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(fn: F) -> F:
    """Turn Truceline errors into one-line ``click`` errors (exit 1, no traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TrucelineError as err:
            raise click.ClickException(printable(str(err))) from err

    return wrapper  # type: ignore[return-value]


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    r"""
    Print a line (or lines) with ``click.echo``, control characters in it made visible.

    Every command prints through this, so a name holding terminal escapes (``ESC[2J``)
    or a right-to-left override is shown as ``\x1b[2J`` / ``\u202e``, never acted on.
    """
    text = "\n".join(printable(line) for line in str(message).split("\n"))
    click.echo(text, err=err, nl=nl)


class UTCDate(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in newer click
    """A date or ISO 8601 time; naive values are UTC."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        import pandas as pd

        try:
            ts = pd.Timestamp(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)", param, ctx)
        utc = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return cast("datetime", utc.to_pydatetime())


class KeyValue(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in newer click
    """``column=Source Column`` pairs for mapped CSVs."""

    name = "KEY=COLUMN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if "=" not in str(value) or not str(value).split("=", 1)[0].strip():
            self.fail(f"{value!r} is not KEY=COLUMN", param, ctx)
        return str(value)


UTC_DATE = UTCDate()


class Grade(click.ParamType):  # type: ignore[type-arg, unused-ignore]  # generic in newer click
    """An Admiralty grade threshold: a reliability A-F and a credibility 1-6 (``B2``)."""

    name = "grade"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from geo.core.grading import parse_threshold

        try:
            return "".join(parse_threshold(str(value)))
        except ValueError:
            self.fail(f"{value!r} is not a grade such as B2 (reliability A-F, credibility 1-6)", param, ctx)


GRADE = Grade()


def reading_options(fn: F) -> F:
    """How to read an incident file: its encoding and the day/month order of its dates."""
    options = [
        click.option(
            "--encoding",
            metavar="NAME",
            help="The file's encoding (cp1252, cp1251, cp1256, cp949, utf-16, ...); default: detected.",
        ),
        click.option(
            "--dayfirst/--monthfirst",
            "dayfirst",
            default=None,
            help="Read dates like 09/05/2014 as 9 May (--dayfirst) or 5 September (--monthfirst); "
            "default: decided from the file's dates.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@contextmanager
def progress_bar(
    label: str, total: int | None = None, *, unit: str = " rows"
) -> Iterator[Callable[[int, int | None, str], None]]:
    """A progress bar on a terminal (stderr); silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _done, _total, _stage: None
        return
    from tqdm import tqdm

    from geo.services.ingest import stage_words

    bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int | None, stage: str) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.set_postfix_str(stage_words(stage), refresh=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def _filter_option_list(*, window: bool = True, verdicts: bool = True) -> list[Callable[[F], F]]:
    options = []
    if window:
        options += [
            click.option("--since", type=UTC_DATE, help="First time included (UTC)."),
            click.option("--until", type=UTC_DATE, help="First time excluded (UTC)."),
        ]
    options += [
        click.option("--party", "parties", multiple=True, help="Attributed party id (repeatable)."),
        click.option("--zone", "zones", multiple=True, help="Zone id (repeatable)."),
    ]
    if verdicts:
        options.append(
            click.option(
                "--verdict",
                "verdicts",
                multiple=True,
                type=click.Choice(VERDICTS),
                help="Verdict (repeatable).",
            )
        )
    options += [
        click.option("--category", "categories", multiple=True, help="Category id (repeatable)."),
        click.option("--verification", "verifications", multiple=True, help="Verification status."),
        click.option("--source", "sources", multiple=True, help="Source (repeatable)."),
        click.option(
            "--grade",
            type=GRADE,
            help="Only reports graded at least this on the Admiralty scale, such as B2 (A or B, and 1 or 2).",
        ),
    ]
    return options


def _apply(fn: F, options: list[Callable[[Any], Any]]) -> F:
    for option in reversed(options):
        fn = option(fn)
    return fn


def filter_options(fn: F) -> F:
    """The view filters shared by export, snapshot, brief and playback."""
    return _apply(fn, _filter_option_list())


def value_filter_options(fn: F) -> F:
    """The filters of a command that sets its own time window and counts every verdict (``compare``)."""
    return _apply(fn, _filter_option_list(window=False, verdicts=False))


def filters_from(**kw: Any) -> Filters:
    """The view filters from the options of :func:`filter_options`."""
    from geo.core.filters import Filters

    return Filters(
        since=kw.get("since"),
        until=kw.get("until"),
        parties=tuple(kw.get("parties", ())),
        zones=tuple(kw.get("zones", ())),
        verdicts=tuple(kw.get("verdicts", ())),
        categories=tuple(kw.get("categories", ())),
        verifications=tuple(kw.get("verifications", ())),
        sources=tuple(kw.get("sources", ())),
        grade=kw.get("grade") or "",
    )


def store_of(ctx: click.Context, *, create: bool = False) -> Store:
    """
    The store the ``--db`` option (or ``TRUCELINE_DB``) names, on the ``--scenario`` chosen.

    A scenario the store does not hold is an error, unless ``create`` (loading one).
    """
    from geo.store import open_store

    store = open_store(ctx.find_root().obj.get("db"))
    ctx.find_root().call_on_close(store.close)  # its connections end with the command
    wanted = ctx.find_root().obj.get("scenario")
    if wanted and not create and not store.has_scenario(wanted):
        held = ", ".join(store.scenario_ids()) or "none"
        msg = f"scenario {wanted!r}: not in the store (it holds {held}; see `python -m geo scenario list`)"
        raise click.ClickException(msg)
    return store.using(wanted or None)


def _set_scenario(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    del param
    if value:
        ctx.find_root().ensure_object(dict)
        ctx.find_root().obj["scenario"] = value


def scenario_option(fn: F) -> F:
    """``--scenario ID``: the scenario of the store a command works on (as the group's option)."""
    return click.option(
        "--scenario",
        metavar="ID",
        expose_value=False,
        callback=_set_scenario,
        help="The scenario to work on (default: the group's --scenario, else the store's default).",
    )(fn)


def write_export(ctx: click.Context, kind: str, out: str, filters: Filters, **options: Any) -> None:
    """Render one export of the filtered view (through the export service) and write it to ``out``."""
    from pathlib import Path

    from geo.i18n import language, ngettext
    from geo.localize import number
    from geo.render.text import describe_filters
    from geo.services.exports import export_view

    if kind in ("png", "pdf", "html"):  # the briefings speak the language of the run
        options["lang"] = language()
    result = export_view(store_of(ctx), kind, filters, actor=OPERATOR, **options)  # type: ignore[arg-type]
    Path(out).write_bytes(result.data)
    echo(
        ngettext(
            "{out}: {count} incident, {size} bytes ({filters})",
            "{out}: {count} incidents, {size} bytes ({filters})",
            result.rows,
        ).format(
            out=out,
            count=number(result.rows),
            size=number(len(result.data)),
            filters=describe_filters(filters),
        )
    )
