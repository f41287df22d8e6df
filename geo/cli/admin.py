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
    store_of,
)
from geo.cli._group import cli
from geo.core.names import printable


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
@one_line_errors
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

    store = store_of(ctx)
    scen = load_scenario(DEMO_MANIFEST)
    stored = store.scenario()
    if stored is None or stored.name != scen.name or stored.zones != scen.zones or stored.rules != scen.rules:
        load_scenario_into_store(store, scen, manifest=str(DEMO_MANIFEST), actor=OPERATOR)
        echo(f"scenario loaded: {scen.name}")
    last_day = end.date() if end else clock.now().date()
    incidents = generate_incidents(scen, n=count, days=days, end=last_day, seed=seed)
    with progress_bar("demo incidents", total=len(incidents)) as progress:
        summary = ingest_frame(
            store, incidents, name=f"synthetic demo {last_day} seed {seed}", progress=progress
        )
    echo(
        f"demo: {summary.accepted} synthetic incidents added ({summary.duplicate} already there), "
        f"{store.count()} in the store at {store.url}"
    )
    if not private:
        from geo.services.settings import get_setting, set_setting

        if not get_setting(store, "public_read", default=False):
            set_setting(store, "public_read", True, actor=OPERATOR)
        echo(
            "demo: public read-only viewing is ON: anyone who can reach the dashboard sees this data "
            "(turn it off under Users & audit, or run the demo with --private)"
        )
    if live:
        _live(store, scen, interval, max_ticks)


def _live(store: Any, scen: Any, interval: float, max_ticks: int | None) -> None:
    """Add a few synthetic incidents at a time, timestamped now, until interrupted."""
    import numpy as np
    import pandas as pd

    from geo.services.demo import generate_incidents
    from geo.services.ingest import ingest_frame

    rng = np.random.default_rng()
    tick = 0
    echo(f"live: adding synthetic incidents about every {interval:g} s (Ctrl-C to stop)")
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
            echo(f"live: +{summary.accepted} at {now:%H:%M:%S} UTC ({summary.new_breaches} breaches)")
    except KeyboardInterrupt:
        echo("live: stopped")


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
    from geo.services.accounts import add_user

    add_user(store_of(ctx), name, role, password, actor=OPERATOR)
    echo(f"user {name}: {role}")


@users.command("list")
@click.pass_context
@one_line_errors
def users_list(ctx: click.Context) -> None:
    """List local accounts."""
    from geo.services.accounts import list_users

    for user in list_users(store_of(ctx), actor=OPERATOR):
        echo(f"{user['name']:<20} {user['role']:<8} {'disabled' if user['disabled'] else 'active'}")


@cli.group("audit", invoke_without_command=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_context
@one_line_errors
def audit_cmd(ctx: click.Context, limit: int) -> None:
    """Print the newest audit log entries (``audit verify`` checks the log's hash chain)."""
    if ctx.invoked_subcommand is not None:
        return
    frame = store_of(ctx).frame(
        f"SELECT at, user_name, action, target, after FROM audit_log "
        f"ORDER BY entry_id DESC LIMIT {int(limit)}"
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
    from geo.services.audit import verify_audit

    check = verify_audit(store_of(ctx), actor=OPERATOR)
    if check.ok:
        head = f"entry {check.head_id} ({check.head_hash[:16]})" if check.head_id else "empty"
        where = f"; head file {check.head_file} agrees" if check.head_file else ""
        echo(f"audit log intact: {check.entries:,} entries, head {head}{where}")
        return
    for problem in check.problems[1:]:
        echo(problem, err=True)
    raise click.ClickException(f"audit log broken: {check.problems[0]}")
