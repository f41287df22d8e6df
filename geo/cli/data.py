"""Incidents in and out: ``classify``, ``ingest``, ``batches``, ``reclassify``, ``export``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from geo.cli._common import (
    OPERATOR,
    VERDICTS,
    KeyValue,
    echo,
    filter_options,
    filters_from,
    one_line_errors,
    progress_bar,
    reading_options,
    scenario_option,
    store_of,
    write_export,
)
from geo.cli._group import cli
from geo.cli.alerts import deliver_after_ingest


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
@click.option("--map", "pairs", multiple=True, type=KeyValue(), help="Column mapping pair, KEY=COLUMN.")
@reading_options
@one_line_errors
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
    import pandas as pd

    from geo.core.classify import classify, prepare
    from geo.core.manifest import load_scenario
    from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS
    from geo.i18n import _, language
    from geo.io import readers
    from geo.io.writers import export_frame, write_csv
    from geo.localize import number
    from geo.render.palette import VERDICT_LABELS

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
            echo(
                _("{file}: line {line}: {reason}").format(
                    file=input_file, line=reason.line_no, reason=reason.reason
                ),
                err=True,
            )
        if len(chunk.frame):
            frames.append(chunk.frame.join(classify(chunk.frame, prep)))
    empty = pd.DataFrame(columns=[*INCIDENT_COLUMNS, *CLASSIFICATION_COLUMNS])
    view = pd.concat(frames, ignore_index=True) if frames else empty
    write_csv(export_frame(view.drop(columns="line_no", errors="ignore")), out)
    counts = view["verdict"].value_counts() if len(view) else pd.Series(dtype=int)
    if language() == "en":  # the verdict ids, as scripts read them
        shown = ", ".join(f"{v} {int(counts.get(v, 0))}" for v in VERDICTS)
    else:
        shown = _(", ").join(f"{_(VERDICT_LABELS[v])} {number(int(counts.get(v, 0)))}" for v in VERDICTS)
    echo(
        _("{out}: {classified} classified ({verdicts}); {rejected} rejected of {rows} rows").format(
            out=out,
            classified=number(len(view)),
            verdicts=shown,
            rejected=number(rejected),
            rows=number(rows),
        )
    )


def _mapping(path: str | None, pairs: tuple[str, ...]) -> Any:
    from geo.io import readers

    if path:
        return readers.load_mapping(path)
    return readers.mapping_from_pairs(list(pairs)) if pairs else None


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
@click.option("--map", "pairs", multiple=True, type=KeyValue(), help="Column mapping pair, KEY=COLUMN.")
@click.option("--source", "source_name", help="Source name for rows that carry none.")
@reading_options
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=100_000,  # geo.io.readers.CHUNK_ROWS, not imported: --help stays light
    show_default=True,
    help="Rows read, classified and written per step: fewer hold less memory and report progress more often.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@scenario_option
@click.pass_context
@one_line_errors
def ingest_cmd(
    ctx: click.Context,
    /,
    file: str,
    fmt: str,
    mapping: str | None,
    pairs: tuple[str, ...],
    source_name: str | None,
    encoding: str | None,
    dayfirst: bool | None,
    chunk_rows: int,
    as_json: bool,
) -> None:
    """Upload one incident file as one batch."""
    from geo.services.ingest import ingest_file

    store = store_of(ctx)
    with progress_bar(Path(file).name) as progress:
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
            chunk_rows=chunk_rows,
        )
    _report_ingest(summary, as_json=as_json)
    deliver_after_ingest(store)  # the batch's alerts go out now; the worker retries what fails


def _report_ingest(summary: Any, *, as_json: bool) -> None:
    if as_json:
        from geo.services.intake import SUMMARY_KEYS

        data = summary.as_json()
        echo(json.dumps({k: data[k] for k in SUMMARY_KEYS}, ensure_ascii=False))
        return
    from geo.i18n import _
    from geo.localize import number

    echo(
        _("batch {batch}: {file} ({format}, {encoding})").format(
            batch=summary.batch_id,
            file=summary.file_name,
            format=summary.format,
            encoding=summary.encoding or _("n/a"),
        )
    )
    echo(
        "  "
        + _("rows read {read}: accepted {accepted}, rejected {rejected}, duplicate {duplicate}").format(
            read=number(summary.rows_read),
            accepted=number(summary.accepted),
            rejected=number(summary.rejected),
            duplicate=number(summary.duplicate),
        )
    )
    echo(
        "  "
        + _("new breaches {breaches}; near-duplicates flagged {near}").format(
            breaches=number(summary.new_breaches), near=number(summary.near_duplicates)
        )
    )
    for line in summary.warnings[:20]:
        echo("  " + _("warning: {warning}").format(warning=line))
    if len(summary.warnings) > 20:
        echo("  " + _("… {count} more warnings").format(count=number(len(summary.warnings) - 20)))
    if summary.rejected:
        echo(
            "  "
            + _("rejected rows: {command}").format(
                command=f"python -m geo batches rejected {summary.batch_id} --out rejected.csv"
            )
        )


@cli.group("batches", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@scenario_option
@click.pass_context
@one_line_errors
def batches(ctx: click.Context, as_json: bool) -> None:
    """List uploads (newest first); subcommands undo one or fetch its rejected rows."""
    if ctx.invoked_subcommand is not None:
        return
    for b in store_of(ctx).batches():
        if as_json:
            echo(
                json.dumps(
                    {**b.__dict__, "started_at": str(b.started_at), "finished_at": str(b.finished_at)},
                    ensure_ascii=False,
                )
            )
        else:
            from geo.i18n import _

            counts = _("read {read} accepted {accepted} rejected {rejected} duplicate {duplicate}").format(
                read=b.rows_read, accepted=b.accepted, rejected=b.rejected, duplicate=b.duplicate
            )
            echo(
                f"{b.batch_id:>5}  {b.status:<9} {b.started_at:%Y-%m-%d %H:%M}  {b.user_name:<10} "
                f"{b.file_name}  {counts}"
            )


@batches.command("delete")
@click.argument("batch_id", type=int)
@click.pass_context
@one_line_errors
def batches_delete(ctx: click.Context, batch_id: int) -> None:
    """Undo one upload: remove its incidents (the record stays, marked deleted)."""
    from geo.i18n import ngettext
    from geo.localize import number
    from geo.services.ingest import delete_batch

    removed = delete_batch(store_of(ctx), batch_id, actor=OPERATOR)
    echo(
        ngettext(
            "batch {batch}: deleted, {count} incident removed",
            "batch {batch}: deleted, {count} incidents removed",
            removed,
        ).format(batch=batch_id, count=number(removed))
    )


@batches.command("rejected")
@click.argument("batch_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV to write.")
@click.pass_context
@one_line_errors
def batches_rejected(ctx: click.Context, batch_id: int, out: str) -> None:
    """Write an upload's rejected rows, with line numbers and reasons, to a CSV."""
    from geo.io.writers import write_csv

    store = store_of(ctx)
    store.batch(batch_id)
    rows = store.rejected_rows(batch_id)
    write_csv(rows, out)
    from geo.i18n import ngettext
    from geo.localize import number

    echo(
        ngettext(
            "{out}: {count} rejected row of batch {batch}",
            "{out}: {count} rejected rows of batch {batch}",
            len(rows),
        ).format(out=out, count=number(len(rows)), batch=batch_id)
    )


@cli.command("reclassify")
@scenario_option
@click.pass_context
@one_line_errors
def reclassify_cmd(ctx: click.Context) -> None:
    """Recompute every verdict against the stored scenario."""
    from geo.services.ingest import reclassify

    with progress_bar("reclassifying") as progress:
        result = reclassify(store_of(ctx), actor=OPERATOR, progress=progress)
    from geo.i18n import _
    from geo.localize import number

    echo(
        _("{total} incidents reclassified, {changed} verdicts changed").format(
            total=number(result.total), changed=number(result.changed)
        )
    )


@cli.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "geojson", "gpkg"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@filter_options
@scenario_option
@click.pass_context
@one_line_errors
def export_cmd(ctx: click.Context, /, fmt: str, out: str, **kw: Any) -> None:
    """Export the filtered incidents with their classification."""
    write_export(ctx, fmt, out, filters_from(**kw))
