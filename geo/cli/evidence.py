"""Evidence attachments: ``evidence add``, ``evidence list``, ``evidence get``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from geo.cli._common import OPERATOR, echo, one_line_errors, store_of
from geo.cli._group import cli


@cli.group()
def evidence() -> None:
    """Files attached to incidents, kept by their SHA-256 (TRUCELINE_EVIDENCE)."""


@evidence.command("add")
@click.argument("incident_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--note", default="", help="What the file shows, in a sentence.")
@click.pass_context
@one_line_errors
def evidence_add(ctx: click.Context, incident_id: int, file: str, note: str) -> None:
    """Attach a file to an incident (stored once, however often attached)."""
    from geo._errors import InputError
    from geo.services.evidence import add_evidence

    path = Path(file)
    try:
        data = path.read_bytes()
    except OSError as err:
        msg = f"{file}: cannot read: {err.strerror or err}"
        raise InputError(msg) from err
    from geo.i18n import _
    from geo.localize import number

    done = add_evidence(store_of(ctx), incident_id, data, file_name=path.name, actor=OPERATOR, note=note)
    how = _("stored") if done.stored else _("already stored")
    echo(
        _("{sha256} {media_type} {size} bytes: attached to incident {incident} ({how})").format(
            sha256=done.sha256,
            media_type=done.media_type,
            size=number(done.size),
            incident=incident_id,
            how=how,
        )
    )
    for flag in done.flags:
        echo(_("{file}: flagged: {flag}").format(file=file, flag=flag), err=True)


@evidence.command("list")
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.pass_context
@one_line_errors
def evidence_list(ctx: click.Context, incident_id: int, as_json: bool) -> None:
    """List an incident's evidence: SHA-256, type, size, name, who and when, flags."""
    from geo.services.evidence import list_evidence

    found = list_evidence(store_of(ctx), incident_id, actor=OPERATOR)
    if as_json:
        rows = found.astype(object).where(found.notna(), None).to_dict(orient="records")
        echo(json.dumps(rows, default=str, ensure_ascii=False))
        return
    from geo.i18n import _
    from geo.localize import number

    for row in found.itertuples():
        flags = " " + _("FLAGGED: {flags}").format(flags=row.flags) if row.flags else ""
        echo(
            _("{sha256} {media_type} {size} bytes {name} ({user}, {time} UTC){flags}").format(
                sha256=row.sha256,
                media_type=row.media_type,
                size=number(row.size),
                name=row.file_name,
                user=row.added_by,
                time=f"{row.added_at:%Y-%m-%d %H:%M}",
                flags=flags,
            )
        )


@evidence.command("get")
@click.argument("sha256")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the file.")
@click.option(
    "--strip", is_flag=True, help="Write a copy without EXIF (location privacy) instead of the exact file."
)
@click.pass_context
@one_line_errors
def evidence_get(ctx: click.Context, sha256: str, out: str, strip: bool) -> None:
    """Write a stored file, its SHA-256 checked (or, with --strip, a copy without EXIF)."""
    from geo.services.evidence import get_evidence, shareable_copy

    store = store_of(ctx)
    data, media_type = (shareable_copy if strip else get_evidence)(store, sha256, actor=OPERATOR)
    Path(out).write_bytes(data)
    from geo.i18n import _
    from geo.localize import number

    echo(
        _("{out}: {media_type}, {size} bytes").format(out=out, media_type=media_type, size=number(len(data)))
        + (" " + _("(EXIF removed)") if strip else "")
    )
