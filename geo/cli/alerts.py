"""Alerts: ``alerts add|list|remove|test``, the queue (``deliveries``, ``requeue``), the worker (``run``)."""

from __future__ import annotations

import json
from typing import Any

import click

from geo.cli._common import OPERATOR, echo, one_line_errors, scenario_option, store_of
from geo.cli._group import cli
from geo.i18n import _


@cli.group()
def alerts() -> None:
    """Alert subscriptions (webhook or e-mail) and their delivery worker."""


@alerts.command("add")
@click.argument("name")
@click.option("--webhook", metavar="URL", help="POST each alert, signed, to this http(s) URL.")
@click.option(
    "--email", metavar="ADDRESS", help="E-mail each alert to this address (SMTP: TRUCELINE_SMTP_*)."
)
@click.option(
    "--zone", "zones", multiple=True, metavar="ZONE", help="Only incidents in this zone (repeatable)."
)
@click.option("--party", "parties", multiple=True, metavar="PARTY", help="Only this party (repeatable).")
@click.option(
    "--verdict",
    "verdicts",
    multiple=True,
    type=click.Choice(["breach", "possible_breach"]),
    help="Verdicts that alert (repeatable; default both).",
)
@click.option("--spikes", is_flag=True, help="Also alert on each new spike of a followed zone × party.")
@click.option("--spikes-only", is_flag=True, help="Alert on new spikes only, never on single incidents.")
@click.option("--digest", type=click.Choice(["daily"]), help="One digest a day instead of one alert each.")
@click.option(
    "--retries", default=5, show_default=True, type=click.IntRange(0, 20), help="Retries after a failure."
)
@click.option(
    "--backoff",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0, 86400),
    help="Seconds before the first retry; doubled at each retry.",
)
@scenario_option
@click.pass_context
@one_line_errors
def alerts_add(
    ctx: click.Context,
    /,
    name: str,
    webhook: str | None,
    email: str | None,
    zones: tuple[str, ...],
    parties: tuple[str, ...],
    verdicts: tuple[str, ...],
    spikes: bool,
    spikes_only: bool,
    digest: str | None,
    retries: int,
    backoff: float,
) -> None:
    """Subscribe a webhook or an e-mail address to the scenario's alerts; prints a webhook's secret once."""
    from geo.services.alerts import add_subscription

    store = store_of(ctx)
    sub = add_subscription(
        store,
        name,
        webhook=webhook,
        email=email,
        zones=zones,
        parties=parties,
        verdicts=verdicts,
        spikes=spikes or spikes_only,
        incidents=not spikes_only,
        digest=digest or "",
        retries=retries,
        backoff_s=backoff,
        actor=OPERATOR,
    )
    echo(
        _("alert {name}: {channel} {target} added to scenario {scenario}").format(
            name=sub.name, channel=sub.channel, target=sub.target, scenario=sub.scenario_id
        )
    )
    if sub.secret:
        echo(_("secret (shown once; the receiver checks X-Truceline-Signature with it): {secret}").format(
            secret=sub.secret
        ))  # fmt: skip


def _describe(sub: Any) -> dict[str, Any]:
    return {
        "name": sub.name,
        "scenario": sub.scenario_id,
        "channel": sub.channel,
        "target": sub.target,
        "zones": list(sub.zones),
        "parties": list(sub.parties),
        "verdicts": list(sub.verdicts),
        "spikes": sub.spikes,
        "digest": sub.digest or None,
        "retries": sub.retries,
        "backoff_s": sub.backoff_s,
    }


@alerts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@scenario_option
@click.pass_context
@one_line_errors
def alerts_list(ctx: click.Context, as_json: bool) -> None:
    """The scenario's subscriptions, with their deliveries counted by status (secrets are never shown)."""
    from geo.services.alerts import delivery_counts, subscriptions

    store = store_of(ctx)
    counts = delivery_counts(store)
    subs = subscriptions(store)
    for sub in subs:
        tally = counts.get(sub.name, {})
        if as_json:
            echo(json.dumps({**_describe(sub), "deliveries": tally}, ensure_ascii=False))
            continue
        follows = ", ".join(
            part
            for part in (
                _("zones {zones}").format(zones=";".join(sub.zones)) if sub.zones else "",
                _("parties {parties}").format(parties=";".join(sub.parties)) if sub.parties else "",
                ";".join(sub.verdicts),
                _("spikes") if sub.spikes else "",
                _("daily digest") if sub.digest else "",
            )
            if part
        )
        shown = ", ".join(f"{k} {v}" for k, v in sorted(tally.items())) or _("none yet")
        echo(
            f"{sub.name}  {sub.channel} {sub.target}  [{follows}]  "
            + _("deliveries: {shown}").format(shown=shown)
        )
    if not subs and not as_json:
        echo(_("No alert subscriptions in scenario {scenario}.").format(scenario=store.scenario_id))


@alerts.command("remove")
@click.argument("name")
@scenario_option
@click.pass_context
@one_line_errors
def alerts_remove(ctx: click.Context, name: str) -> None:
    """Remove a subscription; its alerts not yet delivered go with it."""
    from geo.services.alerts import remove_subscription

    dropped = remove_subscription(store_of(ctx), name, actor=OPERATOR)
    echo(_("alert {name}: removed ({count} undelivered alerts dropped)").format(name=name, count=dropped))


@alerts.command("test")
@click.argument("name")
@scenario_option
@click.pass_context
@one_line_errors
def alerts_test(ctx: click.Context, name: str) -> None:
    """Send a test alert to a subscription now; exit 1 if it did not get through."""
    from geo.services.alerts import deliver_due, deliveries, test_alert

    store = store_of(ctx)
    delivery_id = test_alert(store, name, actor=OPERATOR)
    deliver_due(store)
    found = next((d for d in deliveries(store) if d.delivery_id == delivery_id), None)
    if found is not None and found.status == "sent":
        echo(_("alert {name}: test alert {id} delivered").format(name=name, id=delivery_id))
        return
    error = found.last_error if found is not None else ""
    raise click.ClickException(
        _("alert {name}: test alert {id} not delivered ({status}): {error}").format(
            name=name, id=delivery_id, status=found.status if found else "?", error=error
        )
    )


@alerts.command("deliveries")
@click.option(
    "--status",
    type=click.Choice(["held", "pending", "sending", "sent", "dead", "bundled"]),
    help="Only these; dead is the dead-letter list.",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@scenario_option
@click.pass_context
@one_line_errors
def alerts_deliveries(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """The scenario's queued and past alerts, newest first."""
    from geo.services.alerts import deliveries

    for d in deliveries(store_of(ctx), status=status, limit=limit):
        if as_json:
            echo(
                json.dumps(
                    {**d.__dict__, **{k: str(getattr(d, k)) for k in ("next_at", "created_at", "sent_at")}}
                )
            )
            continue
        echo(
            f"{d.delivery_id:>6}  {d.status:<8} {d.subscription:<16} {d.event_key:<28} "
            + _("attempts {n}").format(n=d.attempts)
            + (f"  {d.last_error}" if d.last_error else "")
        )


@alerts.command("requeue")
@click.argument("delivery_ids", nargs=-1, type=int)
@scenario_option
@click.pass_context
@one_line_errors
def alerts_requeue(ctx: click.Context, delivery_ids: tuple[int, ...]) -> None:
    """Send dead-lettered alerts again: those given, else every one of the scenario."""
    from geo.services.alerts import requeue

    count = requeue(store_of(ctx), list(delivery_ids) or None, actor=OPERATOR)
    echo(_("{count} dead-lettered alerts queued again").format(count=count))


@alerts.command("run")
@click.option(
    "--poll",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds between rounds.",
)
@click.option(
    "--lease",
    default=120.0,
    show_default=True,
    type=click.FloatRange(1, 86400),
    help="Seconds a claimed alert stays with this worker before another may send it.",
)
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.pass_context
@one_line_errors
def alerts_run(ctx: click.Context, poll: float, lease: float, once: bool) -> None:
    """Deliver alerts (every scenario's) until SIGTERM or Ctrl-C; several workers may share a store."""
    import signal
    import threading
    from datetime import timedelta

    from geo.services.alerts import DeliveryReport, deliver_due, run_worker

    store = store_of(ctx)
    if once:
        _print_round(deliver_due(store, lease=timedelta(seconds=lease)), quiet=False)
        return
    stop = threading.Event()

    def stopping(signum: int, frame: object) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    echo(_("alerts worker: delivering every {poll} s; SIGTERM or Ctrl-C stops it").format(poll=poll))

    def each(done: DeliveryReport) -> None:
        _print_round(done, quiet=True)

    total = run_worker(store, stop, poll_s=poll, lease=timedelta(seconds=lease), on_round=each)
    echo(
        _("alerts worker: stopped; {sent} sent, {dead} dead-lettered").format(
            sent=total.sent, dead=total.dead
        )
    )


def _print_round(done: Any, *, quiet: bool, err: bool = False) -> None:
    """One line for a round of deliveries (none when nothing happened and ``quiet``)."""
    if quiet and not (done.sent or done.retrying or done.dead or done.digests or done.errors):
        return
    echo(
        _("alerts: {sent} sent, {retrying} to retry, {dead} dead-lettered, {digests} digests made").format(
            sent=done.sent, retrying=done.retrying, dead=done.dead, digests=done.digests
        ),
        err=err,
    )
    for line in done.errors[:10]:
        echo(f"  {line}", err=True)


AFTER_INGEST_BUDGET_S = 30.0
"""The longest an ingest command spends delivering; the worker sends whatever is left."""


def deliver_after_ingest(store: Any) -> None:
    """One round of deliveries after a command-line ingest (its alerts, and any others due), at most 30 s."""
    from geo.services.alerts import deliver_due

    if not store.scalar("SELECT COUNT(*) FROM alert_deliveries WHERE status IN ('pending', 'held')"):
        return
    done = deliver_due(store, budget_s=AFTER_INGEST_BUDGET_S)
    _print_round(done, quiet=True, err=True)  # on stderr: stdout stays the ingest's (--json)
