"""``api``, ``tokens``, ``forms`` and ``pull``: the HTTP API, its tokens, and KoboToolbox/ODK forms."""

from __future__ import annotations

import json
import os

import click

from geo.cli._common import OPERATOR, KeyValue, echo, one_line_errors, scenario_option, store_of
from geo.cli._group import cli


@cli.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8600, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.pass_context
@one_line_errors
def api_cmd(ctx: click.Context, host: str, port: int) -> None:
    """Serve the HTTP API (/api/v1/..., OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""
    from geo.api import serve
    from geo.i18n import _

    echo(
        _("Truceline API on http://{host}:{port}/api/v1/docs (Ctrl+C stops it)").format(host=host, port=port)
    )
    serve(ctx.find_root().obj.get("db"), host=host, port=port)


@cli.group("tokens")
def tokens() -> None:
    """API tokens: each has a role (viewer or analyst) and one scenario; only its hash is stored."""


@tokens.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["viewer", "analyst"]), help="What the token may do."
)
@scenario_option
@click.pass_context
@one_line_errors
def tokens_add(ctx: click.Context, name: str, role: str) -> None:
    """Make a token and print it once (store it now: it cannot be shown again)."""
    from geo.i18n import _
    from geo.services.tokens import add_token

    store = store_of(ctx)
    secret = add_token(store, name, role, scenario_id=store.scenario_id, actor=OPERATOR)
    echo(secret)
    echo(
        _("token {name} ({role}, scenario {scenario}): shown once; only its hash is stored").format(
            name=name, role=role, scenario=store.scenario_id
        ),
        err=True,
    )


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.pass_context
@one_line_errors
def tokens_list(ctx: click.Context, as_json: bool) -> None:
    """List tokens (never their secrets)."""
    from geo.i18n import _
    from geo.services.tokens import list_tokens

    for token in list_tokens(store_of(ctx), actor=OPERATOR):
        state = _("active") if token.active else _("revoked {at:%Y-%m-%d %H:%M}").format(at=token.revoked_at)
        if as_json:
            echo(
                json.dumps(
                    {
                        "name": token.name,
                        "role": token.role,
                        "scenario": token.scenario_id,
                        "created_at": token.created_at.isoformat(),
                        "created_by": token.created_by,
                        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            echo(
                f"{token.name:<20} {token.role:<8} {token.scenario_id:<16} "
                f"{token.created_at:%Y-%m-%d}  {state}"
            )


@tokens.command("revoke")
@click.argument("name")
@click.pass_context
@one_line_errors
def tokens_revoke(ctx: click.Context, name: str) -> None:
    """Revoke a token at once."""
    from geo.i18n import _
    from geo.services.tokens import revoke_token

    revoke_token(store_of(ctx), name, actor=OPERATOR)
    echo(_("token {name}: revoked").format(name=name))


@cli.group("forms")
def forms() -> None:
    """KoboToolbox and ODK forms: how their submissions become incidents."""


@forms.command("map")
@click.argument("form")
@click.option(
    "--map", "pairs", multiple=True, type=KeyValue(), help="TEMPLATE_FIELD=form_field (repeatable)."
)
@click.option(
    "--geopoint", default="", help="The geopoint field (default: _geolocation, or ODK's first geopoint)."
)
@click.option(
    "--time", "time_field", default="", help="The field giving when it happened (default: submission time)."
)
@click.option("--source", default="", help="The source recorded (default: kobo:FORM or odk:FORM).")
@scenario_option
@click.pass_context
@one_line_errors
def forms_map(
    ctx: click.Context, form: str, pairs: tuple[str, ...], geopoint: str, time_field: str, source: str
) -> None:
    """Store FORM's mapping (its Kobo form id / asset uid, or ODK form id) in the scenario."""
    from geo.i18n import _
    from geo.services.forms import FormMapping, set_mapping

    fields = dict(p.split("=", 1) for p in pairs)
    store = store_of(ctx)
    set_mapping(
        store,
        FormMapping(form, {k.strip(): v.strip() for k, v in fields.items()}, geopoint, time_field, source),
        actor=OPERATOR,
    )
    echo(
        _("form {form}: mapping stored in scenario {scenario}").format(form=form, scenario=store.scenario_id)
    )


@forms.command("list")
@scenario_option
@click.pass_context
@one_line_errors
def forms_list(ctx: click.Context) -> None:
    """List the mapped forms of the scenario, as JSON lines."""
    from dataclasses import asdict

    from geo.services.forms import list_mappings

    for mapping in list_mappings(store_of(ctx)):
        echo(json.dumps(asdict(mapping), ensure_ascii=False, sort_keys=True))


@cli.group("pull")
def pull() -> None:
    """Pull a form's submissions from ODK Central or KoboToolbox; new ones are uploaded, edits update."""


def _print_pull(summary: object, as_json: bool) -> None:
    from geo.i18n import _
    from geo.services.forms import PullSummary

    assert isinstance(summary, PullSummary)  # noqa: S101 - the service's answer
    if as_json:
        echo(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    echo(
        _(
            "{server} {form}: {read} submissions read: {new} new, {edited} edited, {unchanged} unchanged"
        ).format(
            server=summary.server,
            form=summary.form,
            read=summary.read,
            new=summary.new,
            edited=summary.edited,
            unchanged=summary.unchanged,
        )
    )
    if summary.upload:
        echo(
            _("  batch {batch}: accepted {accepted}, rejected {rejected}, duplicate {duplicate}").format(
                batch=summary.upload["batch_id"],
                accepted=summary.upload["accepted"],
                rejected=summary.upload["rejected"],
                duplicate=summary.upload["duplicate"],
            )
        )
    for line in summary.edit_problems:
        echo(_("  edit not applied: {problem}").format(problem=line))


@pull.command("odk")
@click.option("--url", required=True, help="The ODK Central server, such as https://central.example.org.")
@click.option("--project", required=True, help="The project id.")
@click.option("--form", "form", required=True, help="The form id (mapped with `forms map`).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@scenario_option
@click.pass_context
@one_line_errors
def pull_odk(ctx: click.Context, url: str, project: str, form: str, as_json: bool) -> None:
    """Read a form's submissions over OData (TRUCELINE_ODK_USER / TRUCELINE_ODK_PASSWORD: basic auth)."""
    from geo.services.forms import odk_submissions
    from geo.services.forms import pull as run

    subs = odk_submissions(
        url,
        project,
        form,
        user=os.environ.get("TRUCELINE_ODK_USER", ""),
        password=os.environ.get("TRUCELINE_ODK_PASSWORD", ""),
    )
    _print_pull(run(store_of(ctx), "odk", form, subs, actor=OPERATOR), as_json)


@pull.command("kobo")
@click.option("--url", required=True, help="The KoboToolbox server, such as https://kf.kobotoolbox.org.")
@click.option("--form", "form", required=True, help="The form's asset uid (mapped with `forms map`).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@scenario_option
@click.pass_context
@one_line_errors
def pull_kobo(ctx: click.Context, url: str, form: str, as_json: bool) -> None:
    """Read a form's submissions from Kobo's v2 data API (TRUCELINE_KOBO_TOKEN: its API token)."""
    from geo.services.forms import kobo_submissions
    from geo.services.forms import pull as run

    subs = kobo_submissions(url, form, token=os.environ.get("TRUCELINE_KOBO_TOKEN", ""))
    _print_pull(run(store_of(ctx), "kobo", form, subs, actor=OPERATOR), as_json)
