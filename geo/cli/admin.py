"""``demo``, ``users`` and ``audit``."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click

from geo import clock
from geo.cli._common import (
    OPERATOR,
    ROLES,
    echo,
    one_line_errors,
    progress_bar,
    scenario_option,
    store_of,
)
from geo.cli._group import cli
from geo.core.names import printable


@cli.command("demo")
@click.option(
    "--scenario",
    "pack_id",
    metavar="ID",
    help="The scenario pack to load (korea, lebanon-2024, libya-2020; default korea).",
)
@click.option("--all", "all_packs", is_flag=True, help="Load every shipped scenario pack, side by side.")
@click.option("--live", is_flag=True, help="Then keep adding synthetic incidents until interrupted.")
@click.option(
    "--n",
    "count",
    type=int,
    help="How many synthetic incidents (default: 6000 for korea, the pack's own number for the others).",
)
@click.option("--days", default=200, show_default=True, help="korea: days of history, ending today.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option(
    "--end", type=click.DateTime(["%Y-%m-%d"]), help="korea: last day of the history (default today, UTC)."
)
@click.option("--interval", default=20.0, show_default=True, help="--live: mean seconds between incidents.")
@click.option("--max-ticks", type=int, help="--live: stop after this many additions (for scripts).")
@click.option("--private", is_flag=True, help="Leave public read-only viewing off (sign-in needed).")
@click.pass_context
@one_line_errors
def demo_cmd(
    ctx: click.Context,
    pack_id: str | None,
    all_packs: bool,
    live: bool,
    count: int | None,
    days: int,
    seed: int,
    end: datetime | None,
    interval: float,
    max_ticks: int | None,
    private: bool,
) -> None:
    """Load a shipped scenario pack (or all of them) with its incidents into the store."""
    from geo.i18n import _, language
    from geo.localize import number
    from geo.services.packs import load_pack, pack_ids

    if all_packs and (pack_id or live):
        raise click.UsageError("--all loads every pack: give it without --scenario and --live")
    store = store_of(ctx, create=True)
    wanted = pack_ids() if all_packs else [pack_id or "korea"]
    last_day = end.date() if end else clock.now().date()
    for pack in wanted:
        with progress_bar(f"{pack} incidents") as progress:
            loaded = load_pack(
                store, pack, actor=OPERATOR, seed=seed, n=count, days=days, end=last_day, progress=progress
            )
        if loaded.scenario_loaded:
            name = loaded.scenario.text("scenario.name", language(), loaded.scenario.name)
            echo(_("scenario loaded: {pack}: {name}").format(pack=pack, name=name))
        for label, s in loaded.uploads:
            echo(
                _(
                    "demo: {pack}: {upload}: {added} added ({duplicate} already there, {rejected} rejected)"
                ).format(
                    pack=pack,
                    upload=label,
                    added=number(s.accepted),
                    duplicate=number(s.duplicate),
                    rejected=number(s.rejected),
                )
            )
        echo(
            _("demo: {pack}: {count} incidents in the scenario at {url}").format(
                pack=pack, count=number(store.using(pack).count()), url=store.url
            )
        )
    if not private:
        from geo.services.settings import get_setting, set_setting

        if not get_setting(store, "public_read", default=False):
            set_setting(store, "public_read", True, actor=OPERATOR)
        echo(
            _(
                "demo: public read-only viewing is ON: anyone who can reach the dashboard sees this data "
                "(turn it off under Users & audit, or run the demo with --private)"
            )
        )
    if live:
        scoped = store.using(wanted[0])
        _live(scoped, scoped.scenario(), wanted[0], interval, max_ticks)


def _live(store: Any, scen: Any, pack: str, interval: float, max_ticks: int | None) -> None:
    """Add a few synthetic incidents at a time, timestamped now, until interrupted."""
    import numpy as np
    import pandas as pd

    from geo.services.ingest import ingest_frame
    from geo.services.packs import live_incidents

    rng = np.random.default_rng()
    tick = 0
    from geo.i18n import _

    echo(
        _("live: adding synthetic incidents about every {seconds} s (Ctrl-C to stop)").format(
            seconds=f"{interval:g}"
        )
    )
    try:
        while max_ticks is None or tick < max_ticks:
            time.sleep(float(rng.exponential(interval)) if max_ticks is None else 0.0)
            seed = int(rng.integers(1, 2**31))
            fresh = live_incidents(pack, scen, n=int(rng.integers(1, 4)), seed=seed)
            now = pd.Timestamp(clock.now())
            fresh["occurred_at"] = now - pd.to_timedelta(rng.integers(0, 120, len(fresh)), unit="s")
            fresh["occurred_from"] = fresh["occurred_to"] = fresh["occurred_at"]
            fresh["source_event_id"] = [f"LIVE-{seed}-{i}" for i in range(len(fresh))]
            summary = ingest_frame(store, fresh, name="synthetic live feed")
            tick += 1
            echo(
                _("live: +{count} at {time} UTC ({breaches} breaches)").format(
                    count=summary.accepted, time=f"{now:%H:%M:%S}", breaches=summary.new_breaches
                )
            )
    except KeyboardInterrupt:
        echo(_("live: stopped"))


@cli.group()
def users() -> None:
    """Local accounts for the embedded store."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.password_option(help="Password (prompted when not given).")
@click.pass_context
@one_line_errors
def users_add(ctx: click.Context, name: str, role: str, password: str) -> None:
    """Create or update a local account."""
    from geo.i18n import _
    from geo.services.accounts import TEST_HASHING_WARNING, add_user, password_hashing

    if password_hashing() == "test":
        echo(_(TEST_HASHING_WARNING), err=True)
    add_user(store_of(ctx), name, role, password, actor=OPERATOR)
    echo(_("user {name}: {role}").format(name=name, role=role))


@users.command("list")
@click.pass_context
@one_line_errors
def users_list(ctx: click.Context) -> None:
    """List local accounts."""
    from geo.i18n import _
    from geo.services.accounts import list_users, scenario_roles

    store = store_of(ctx)
    for user in list_users(store, actor=OPERATOR):
        bound = scenario_roles(store, user["name"])
        where = (
            _(", ").join(_("{role} in {scenario}").format(role=r, scenario=s) for s, r in bound.items())
            if bound
            else _("all scenarios")
        )
        state = _("disabled") if user["disabled"] else _("active")
        echo(f"{user['name']:<20} {user['role']:<8} {state:<8} {where}")


@users.command("grant")
@click.argument("name")
@click.option("--scenario", "scenario_id", required=True, metavar="ID", help="The scenario.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The account's role in it.")
@click.pass_context
@one_line_errors
def users_grant(ctx: click.Context, name: str, scenario_id: str, role: str) -> None:
    """Bind an account to a scenario with a role there: it then sees only the scenarios it is bound to."""
    from geo.i18n import _
    from geo.services.accounts import grant_scenario

    grant_scenario(store_of(ctx), name, scenario_id, role, actor=OPERATOR)  # type: ignore[arg-type]
    echo(_("user {name}: {role} in {scenario}").format(name=name, role=role, scenario=scenario_id))


@users.command("revoke")
@click.argument("name")
@click.option("--scenario", "scenario_id", required=True, metavar="ID", help="The scenario.")
@click.pass_context
@one_line_errors
def users_revoke(ctx: click.Context, name: str, scenario_id: str) -> None:
    """Remove an account's binding to a scenario (bound to none, it has its role everywhere)."""
    from geo.i18n import _
    from geo.services.accounts import revoke_scenario

    revoke_scenario(store_of(ctx), name, scenario_id, actor=OPERATOR)
    echo(_("user {name}: no longer bound to {scenario}").format(name=name, scenario=scenario_id))


@cli.group("audit", invoke_without_command=True)
@click.option("--limit", default=50, show_default=True)
@scenario_option
@click.pass_context
@one_line_errors
def audit_cmd(ctx: click.Context, limit: int) -> None:
    """Print the newest audit entries, the scenario's and store-wide ones (``audit verify``: the chain)."""
    if ctx.invoked_subcommand is not None:
        return
    store = store_of(ctx)
    frame = store.frame(
        "SELECT at, user_name, action, target, after FROM audit_log WHERE scenario_id IN (?, '') "
        f"ORDER BY entry_id DESC LIMIT {int(limit)}",
        (store.scenario_id,),
    )
    for row in frame.itertuples():
        echo(
            f"{row.at:%Y-%m-%d %H:%M:%S}  {printable(row.user_name):<10} {printable(row.action):<14} "
            f"{printable(row.target)}  {printable(row.after)}"
        )


@audit_cmd.command("verify")
@click.pass_context
@one_line_errors
def audit_verify(ctx: click.Context) -> None:
    """
    Check the audit log: each entry's hash, the chain, the count, the recorded head, the triggers.

    Exits 1 naming the first broken entry when anything was changed, removed or slipped in.
    """
    from geo.i18n import _
    from geo.localize import number
    from geo.services.audit import verify_audit

    check = verify_audit(store_of(ctx), actor=OPERATOR)
    if check.ok:
        head = (
            _("entry {id} ({hash})").format(id=check.head_id, hash=check.head_hash[:16])
            if check.head_id
            else _("empty")
        )
        where = _("; head file {file} agrees").format(file=check.head_file) if check.head_file else ""
        echo(
            _("audit log intact: {entries} entries, head {head}{where}").format(
                entries=number(check.entries), head=head, where=where
            )
        )
        return
    for problem in check.problems[1:]:
        echo(problem, err=True)
    raise click.ClickException(_("audit log broken: {problem}").format(problem=check.problems[0]))
