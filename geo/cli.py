"""The ``python -m geo`` command line. Each command parses, calls one ``geo`` function, prints.

The store is chosen by ``--db`` or ``TRUCELINE_DB`` (default: the SQLite file under
``var/``). Errors print one line and exit 1; a file that cannot be read exits 1 too, while
a file with bad rows is an upload that succeeded, with every row accounted for.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np
import pandas as pd

from geo import clock
from geo._errors import TrucelineError
from geo.core.auth import OPERATOR, ROLES
from geo.core.filters import Filters
from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS, VERDICTS

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(fn: F) -> F:
    """Turn Truceline errors into one-line ``click`` errors (exit 1, no traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TrucelineError as err:
            raise click.ClickException(str(err)) from err

    return wrapper  # type: ignore[return-value]


class _UTCDate(click.ParamType):
    """A date or ISO 8601 time; naive values are UTC."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            ts = pd.Timestamp(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)", param, ctx)
        return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()


class _KeyValue(click.ParamType):
    """``column=Source Column`` pairs for mapped CSVs."""

    name = "KEY=COLUMN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if "=" not in str(value) or not str(value).split("=", 1)[0].strip():
            self.fail(f"{value!r} is not KEY=COLUMN", param, ctx)
        return str(value)


UTC_DATE = _UTCDate()


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
def _progress(label: str, total: int | None = None) -> Iterator[Callable[[int, int | None, str], None]]:
    """A progress bar on a terminal (stderr); silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _done, _total, _stage: None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit=" rows", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int | None, stage: str) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.set_postfix_str(stage, refresh=False)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


def filter_options(fn: F) -> F:
    """The view filters shared by export, snapshot and brief."""
    options = [
        click.option("--since", type=UTC_DATE, help="First time included (UTC)."),
        click.option("--until", type=UTC_DATE, help="First time excluded (UTC)."),
        click.option("--party", "parties", multiple=True, help="Attributed party id (repeatable)."),
        click.option("--zone", "zones", multiple=True, help="Zone id (repeatable)."),
        click.option(
            "--verdict", "verdicts", multiple=True, type=click.Choice(VERDICTS), help="Verdict (repeatable)."
        ),
        click.option("--category", "categories", multiple=True, help="Category id (repeatable)."),
        click.option("--verification", "verifications", multiple=True, help="Verification status."),
        click.option("--source", "sources", multiple=True, help="Source (repeatable)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _filters(**kw: Any) -> Filters:
    return Filters(
        since=kw.get("since"),
        until=kw.get("until"),
        parties=tuple(kw.get("parties", ())),
        zones=tuple(kw.get("zones", ())),
        verdicts=tuple(kw.get("verdicts", ())),
        categories=tuple(kw.get("categories", ())),
        verifications=tuple(kw.get("verifications", ())),
        sources=tuple(kw.get("sources", ())),
    )


def _store(ctx: click.Context) -> Any:
    from geo.store import open_store

    return open_store(ctx.obj.get("db"))


@click.group()
@click.option(
    "--db",
    envvar="TRUCELINE_DB",
    help="Store URL: sqlite:///path or postgresql://… "
    "(default: TRUCELINE_DB, else var/truceline.db in the checkout).",
)
@click.version_option(package_name=None, version=__import__("geo").__version__)
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Truceline: incidents joined to ceasefire lines, zones and rules."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


# -- scenario ---------------------------------------------------------------------------------
@cli.group()
def scenario() -> None:
    """Check, load and show scenario manifests."""


@scenario.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def scenario_validate(path: str) -> None:
    """Check a manifest: one line per problem, naming file and key; exit 1 if any."""
    from geo.core.manifest import validate_manifest

    problems = validate_manifest(path)
    for line in problems:
        click.echo(line)
    if problems:
        sys.exit(1)
    click.echo(f"{path}: ok")


@scenario.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid, and report it.")
@click.pass_context
@_one_line_errors
def scenario_load(ctx: click.Context, path: str, repair: bool) -> None:
    """Load or replace the scenario and reclassify every incident, in one transaction."""
    from geo.core.manifest import load_scenario
    from geo.services.ingest import load_scenario_into_store

    scen = load_scenario(path, repair=repair)
    for line in scen.repairs:
        click.echo(f"repaired: {line}", err=True)
    store = _store(ctx)
    with _progress("reclassifying") as progress:
        result = load_scenario_into_store(store, scen, manifest=str(Path(path).resolve()), progress=progress)
    click.echo(
        f"loaded {scen.name!r}: {len(scen.zones)} zones, {len(scen.rules)} rules; "
        f"{result.total} incidents reclassified, {result.changed} verdicts changed"
    )


@scenario.command("show")
@click.pass_context
@_one_line_errors
def scenario_show(ctx: click.Context) -> None:
    """Print the stored scenario."""
    scen = _store(ctx).scenario()
    if scen is None:
        raise click.ClickException("no scenario loaded")
    click.echo(f"{scen.name}{' (synthetic data)' if scen.synthetic else ''}")
    for p in scen.parties:
        click.echo(f"  party {p.id}: {p.name}")
    for ln in scen.lines:
        click.echo(f"  line {ln.id}: {ln.name} (left: {ln.left_party}, right: {ln.right_party})")
    for z in scen.zones:
        how = f"{z.width_m:g} m {z.side} of {z.line}" if z.derived else f"drawn ({z.source})"
        click.echo(f"  zone {z.id}: {z.name} [{z.kind}] {how}")
    for r in scen.rules:
        click.echo(f"  rule {r.id} in {r.zone}: {', '.join(r.prohibits)} for {', '.join(r.parties)}")


# -- classify (no store) ------------------------------------------------------------------------
@cli.command("classify")
@click.option(
    "--scenario", "manifest", required=True, type=click.Path(dir_okay=False), help="The scenario manifest."
)
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The CSV to write.")
@click.option(
    "--format", "fmt", default="auto", type=click.Choice(["auto", "template", "acled", "ucdp", "mapped"])
)
@click.option("--mapping", type=click.Path(dir_okay=False), help="Column mapping file for --format mapped.")
@click.option("--map", "pairs", multiple=True, type=_KeyValue(), help="Column mapping pair, KEY=COLUMN.")
@reading_options
@_one_line_errors
def classify_cmd(
    manifest: str,
    input_file: str,
    out: str,
    fmt: str,
    mapping: str | None,
    pairs: tuple[str, ...],
    encoding: str | None,
    dayfirst: bool | None,
) -> None:
    """Classify an incident file against a scenario, without storing it."""
    from geo.core.classify import classify, prepare
    from geo.core.manifest import load_scenario
    from geo.io import readers
    from geo.io.writers import export_frame, write_csv

    scen = load_scenario(manifest)
    prep = prepare(scen)
    column_map = _mapping(mapping, pairs)
    frames, rejected, rows = [], 0, 0
    for chunk in readers.read_incidents(
        input_file,
        format=fmt,
        mapping=column_map,
        party_mapping=scen.party_mapping,
        encoding=encoding,
        dayfirst=dayfirst,
    ):
        rows += chunk.rows_read
        rejected += len(chunk.rejected)
        for reason in chunk.rejected.itertuples():
            click.echo(f"{input_file}: line {reason.line_no}: {reason.reason}", err=True)
        if len(chunk.frame):
            frames.append(chunk.frame.join(classify(chunk.frame, prep)))
    empty = pd.DataFrame(columns=[*INCIDENT_COLUMNS, *CLASSIFICATION_COLUMNS])
    view = pd.concat(frames, ignore_index=True) if frames else empty
    write_csv(export_frame(view.drop(columns="line_no", errors="ignore")), out)
    counts = view["verdict"].value_counts() if len(view) else pd.Series(dtype=int)
    shown = ", ".join(f"{v} {int(counts.get(v, 0))}" for v in VERDICTS)
    click.echo(f"{out}: {len(view)} classified ({shown}); {rejected} rejected of {rows} rows")


def _mapping(path: str | None, pairs: tuple[str, ...]) -> Any:
    from geo.io import readers

    if path:
        return readers.load_mapping(path)
    return readers.mapping_from_pairs(list(pairs)) if pairs else None


# -- ingest -------------------------------------------------------------------------------------
@cli.command("ingest")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    default="auto",
    type=click.Choice(["auto", "template", "acled", "ucdp", "mapped"]),
    help="Override the detected format.",
)
@click.option("--mapping", type=click.Path(dir_okay=False), help="Column mapping file (TOML).")
@click.option("--map", "pairs", multiple=True, type=_KeyValue(), help="Column mapping pair, KEY=COLUMN.")
@click.option("--source", "source_name", help="Source name for rows that carry none.")
@reading_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@click.pass_context
@_one_line_errors
def ingest_cmd(
    ctx: click.Context,
    file: str,
    fmt: str,
    mapping: str | None,
    pairs: tuple[str, ...],
    source_name: str | None,
    encoding: str | None,
    dayfirst: bool | None,
    as_json: bool,
) -> None:
    """Upload one incident file as one batch."""
    from geo.services.ingest import ingest_file

    store = _store(ctx)
    with _progress(Path(file).name) as progress:
        summary = ingest_file(
            store,
            Path(file),
            format=fmt,
            mapping=_mapping(mapping, pairs),
            source_name=source_name,
            actor=OPERATOR,
            progress=progress,
            encoding=encoding,
            dayfirst=dayfirst,
        )
    if as_json:
        data = summary.as_json()
        click.echo(
            json.dumps(
                {
                    k: data[k]
                    for k in (
                        "batch_id",
                        "rows_read",
                        "accepted",
                        "rejected",
                        "duplicate",
                        "near_duplicates",
                        "new_breaches",
                        "format",
                        "encoding",
                        "warnings",
                    )
                },
                ensure_ascii=False,
            )
        )
        return
    click.echo(
        f"batch {summary.batch_id}: {summary.file_name} ({summary.format}, {summary.encoding or 'n/a'})"
    )
    click.echo(
        f"  rows read {summary.rows_read}: accepted {summary.accepted}, rejected {summary.rejected}, "
        f"duplicate {summary.duplicate}"
    )
    click.echo(f"  new breaches {summary.new_breaches}; near-duplicates flagged {summary.near_duplicates}")
    for line in summary.warnings[:20]:
        click.echo(f"  warning: {line}")
    if len(summary.warnings) > 20:
        click.echo(f"  … {len(summary.warnings) - 20} more warnings")
    if summary.rejected:
        click.echo(f"  rejected rows: python -m geo batches rejected {summary.batch_id} --out rejected.csv")


# -- batches ------------------------------------------------------------------------------------
@cli.group("batches", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@_one_line_errors
def batches(ctx: click.Context, as_json: bool) -> None:
    """List uploads (newest first); subcommands undo one or fetch its rejected rows."""
    if ctx.invoked_subcommand is not None:
        return
    for b in _store(ctx).batches():
        if as_json:
            click.echo(
                json.dumps(
                    {**b.__dict__, "started_at": str(b.started_at), "finished_at": str(b.finished_at)},
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(
                f"{b.batch_id:>5}  {b.status:<9} {b.started_at:%Y-%m-%d %H:%M}  {b.user_name:<10} "
                f"{b.file_name}  read {b.rows_read} accepted {b.accepted} rejected {b.rejected} "
                f"duplicate {b.duplicate}"
            )


@batches.command("delete")
@click.argument("batch_id", type=int)
@click.pass_context
@_one_line_errors
def batches_delete(ctx: click.Context, batch_id: int) -> None:
    """Undo one upload: remove its incidents (the record stays, marked deleted)."""
    from geo.services.ingest import delete_batch

    removed = delete_batch(_store(ctx), batch_id, actor=OPERATOR)
    click.echo(f"batch {batch_id}: deleted, {removed} incidents removed")


@batches.command("rejected")
@click.argument("batch_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV to write.")
@click.pass_context
@_one_line_errors
def batches_rejected(ctx: click.Context, batch_id: int, out: str) -> None:
    """Write an upload's rejected rows, with line numbers and reasons, to a CSV."""
    from geo.io.writers import write_csv

    store = _store(ctx)
    store.batch(batch_id)
    rows = store.rejected_rows(batch_id)
    write_csv(rows, out)
    click.echo(f"{out}: {len(rows)} rejected rows of batch {batch_id}")


# -- reclassify, export ---------------------------------------------------------------------------
@cli.command("reclassify")
@click.pass_context
@_one_line_errors
def reclassify_cmd(ctx: click.Context) -> None:
    """Recompute every verdict against the stored scenario."""
    from geo.services.ingest import reclassify

    with _progress("reclassifying") as progress:
        result = reclassify(_store(ctx), actor=OPERATOR, progress=progress)
    click.echo(f"{result.total} incidents reclassified, {result.changed} verdicts changed")


@cli.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "geojson", "gpkg"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@filter_options
@click.pass_context
@_one_line_errors
def export_cmd(ctx: click.Context, fmt: str, out: str, **kw: Any) -> None:
    """Export the filtered incidents with their classification."""
    _write_export(ctx, fmt, out, _filters(**kw))


@cli.command("snapshot")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PNG to write.")
@click.option("--size", default="a4", type=click.Choice(["a4", "16:9"]), show_default=True)
@click.option("--dpi", default=200, type=click.IntRange(150, 300), show_default=True)
@click.option("--bbox", type=(float, float, float, float), help="West south east north, in degrees.")
@click.option("--title", help="Title (default: the scenario's name).")
@filter_options
@click.pass_context
@_one_line_errors
def snapshot_cmd(
    ctx: click.Context,
    out: str,
    size: str,
    dpi: int,
    bbox: tuple[float, ...] | None,
    title: str | None,
    **kw: Any,
) -> None:
    """Write a map snapshot (PNG) of the filtered incidents."""
    _write_export(ctx, "png", out, _filters(**kw), size=size, dpi=dpi, bbox=bbox, title=title)


@cli.command("brief")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PDF to write.")
@click.option("--title", help="Title (default: the scenario's name).")
@filter_options
@click.pass_context
@_one_line_errors
def brief_cmd(ctx: click.Context, out: str, title: str | None, **kw: Any) -> None:
    """Write a PDF briefing: map, KPIs, trend, spike alerts, table of breaches."""
    _write_export(ctx, "pdf", out, _filters(**kw), title=title)


def _write_export(ctx: click.Context, kind: str, out: str, filters: Filters, **options: Any) -> None:
    from geo.services.exports import render

    result = render(_store(ctx), kind, filters, actor=OPERATOR, **options)  # type: ignore[arg-type]
    Path(out).write_bytes(result.data)
    click.echo(f"{out}: {result.rows} incidents, {len(result.data):,} bytes ({filters.describe()})")


# -- demo -----------------------------------------------------------------------------------------
@cli.command("demo")
@click.option("--live", is_flag=True, help="Then keep adding synthetic incidents until interrupted.")
@click.option("--n", "count", default=6000, show_default=True, help="How many synthetic incidents.")
@click.option("--days", default=200, show_default=True, help="Days of history, ending today.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option(
    "--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the history (default today, UTC)."
)
@click.option("--interval", default=20.0, show_default=True, help="--live: mean seconds between incidents.")
@click.option("--max-ticks", type=int, help="--live: stop after this many additions (for scripts).")
@click.option("--private", is_flag=True, help="Leave public read-only viewing off (sign-in needed).")
@click.pass_context
@_one_line_errors
def demo_cmd(
    ctx: click.Context,
    live: bool,
    count: int,
    days: int,
    seed: int,
    end: datetime | None,
    interval: float,
    max_ticks: int | None,
    private: bool,
) -> None:
    """Load the demo scenario and its synthetic incidents into the store."""
    from geo.core.manifest import load_scenario
    from geo.services.demo import DEMO_MANIFEST, generate_incidents
    from geo.services.ingest import ingest_frame, load_scenario_into_store

    store = _store(ctx)
    scen = load_scenario(DEMO_MANIFEST)
    stored = store.scenario()
    if stored is None or stored.name != scen.name or stored.zones != scen.zones or stored.rules != scen.rules:
        load_scenario_into_store(store, scen, manifest=str(DEMO_MANIFEST), actor=OPERATOR)
        click.echo(f"scenario loaded: {scen.name}")
    last_day = end.date() if end else clock.now().date()
    incidents = generate_incidents(scen, n=count, days=days, end=last_day, seed=seed)
    with _progress("demo incidents", total=len(incidents)) as progress:
        summary = ingest_frame(
            store, incidents, name=f"synthetic demo {last_day} seed {seed}", progress=progress
        )
    click.echo(
        f"demo: {summary.accepted} synthetic incidents added ({summary.duplicate} already there), "
        f"{store.count()} in the store at {store.url}"
    )
    if not private:
        from geo.services.settings import get_setting, set_setting

        if not get_setting(store, "public_read", default=False):
            set_setting(store, "public_read", True, actor=OPERATOR)
        click.echo(
            "demo: public read-only viewing is ON: anyone who can reach the dashboard sees this data "
            "(turn it off under Users & audit, or run the demo with --private)"
        )
    if live:
        _live(store, scen, interval, max_ticks)


def _live(store: Any, scen: Any, interval: float, max_ticks: int | None) -> None:
    """Add a few synthetic incidents at a time, timestamped now, until interrupted."""
    from geo.services.demo import generate_incidents
    from geo.services.ingest import ingest_frame

    rng = np.random.default_rng()
    tick = 0
    click.echo(f"live: adding synthetic incidents about every {interval:g} s (Ctrl-C to stop)")
    try:
        while max_ticks is None or tick < max_ticks:
            time.sleep(float(rng.exponential(interval)) if max_ticks is None else 0.0)
            seed = int(rng.integers(1, 2**31))
            fresh = generate_incidents(scen, n=int(rng.integers(1, 4)), days=1, seed=seed)
            now = pd.Timestamp(clock.now())
            fresh["occurred_at"] = now - pd.to_timedelta(rng.integers(0, 120, len(fresh)), unit="s")
            fresh["occurred_from"] = fresh["occurred_to"] = fresh["occurred_at"]
            fresh["source_event_id"] = [f"LIVE-{seed}-{i}" for i in range(len(fresh))]
            summary = ingest_frame(store, fresh, name="synthetic live feed")
            tick += 1
            click.echo(f"live: +{summary.accepted} at {now:%H:%M:%S} UTC ({summary.new_breaches} breaches)")
    except KeyboardInterrupt:
        click.echo("live: stopped")


# -- users, audit -----------------------------------------------------------------------------------
@cli.group()
def users() -> None:
    """Local accounts for the embedded store."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.password_option(help="Password (prompted when not given).")
@click.pass_context
@_one_line_errors
def users_add(ctx: click.Context, name: str, role: str, password: str) -> None:
    """Create or update a local account."""
    from geo.services.accounts import add_user

    add_user(_store(ctx), name, role, password, actor=OPERATOR)
    click.echo(f"user {name}: {role}")


@users.command("list")
@click.pass_context
@_one_line_errors
def users_list(ctx: click.Context) -> None:
    """List local accounts."""
    from geo.services.accounts import list_users

    for user in list_users(_store(ctx), actor=OPERATOR):
        click.echo(f"{user['name']:<20} {user['role']:<8} {'disabled' if user['disabled'] else 'active'}")


@cli.command("audit")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@_one_line_errors
def audit_cmd(ctx: click.Context, limit: int) -> None:
    """Print the newest audit log entries."""
    frame = _store(ctx).frame(
        f"SELECT at, user_name, action, target, after FROM audit_log "
        f"ORDER BY entry_id DESC LIMIT {int(limit)}"
    )
    for row in frame.itertuples():
        click.echo(
            f"{row.at:%Y-%m-%d %H:%M:%S}  {row.user_name:<10} {row.action:<14} {row.target}  {row.after}"
        )
