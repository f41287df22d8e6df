"""Review of possible duplicates: ``links list``, ``links confirm``, ``links reject``, ``links undo``."""

from __future__ import annotations

import json

import click

from geo.cli._common import OPERATOR, echo, one_line_errors, store_of
from geo.cli._group import cli
from geo.i18n import N_

_STATUSES = ("pending", "confirmed", "rejected")
_STATUS_WORDS = (N_("pending"), N_("confirmed"), N_("rejected"))
"""The statuses marked for translation: the human output shows them with ``_``."""
_KINDS = ("cross_source", "same_source_lookalike")


@cli.group()
def links() -> None:
    """Pairs of reports that may be one event: list them, confirm, reject, undo."""


@links.command("list")
@click.option("--status", default="pending", show_default=True, type=click.Choice(_STATUSES))
@click.option("--kind", type=click.Choice(_KINDS), help="Only links of this kind.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(min=1), help="Page number.")
@click.option(
    "--per-page", default=50, show_default=True, type=click.IntRange(1, 200), help="Pairs per page."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the page and its pairs).")
@click.pass_context
@one_line_errors
def links_list(
    ctx: click.Context, status: str, kind: str | None, page: int, per_page: int, as_json: bool
) -> None:
    """List a page of linked pairs, newest first: both reports, distance and gap."""
    from geo.services.review import review_queue

    found = review_queue(
        store_of(ctx), actor=OPERATOR, status=status, kind=kind, page=page, per_page=per_page
    )
    if as_json:
        pairs = found.pairs.astype(object).where(found.pairs.notna(), None)
        echo(
            json.dumps(
                {
                    "status": found.status,
                    "page": found.page,
                    "pages": found.pages,
                    "total": found.total,
                    "counts": found.counts,
                    "pairs": pairs.to_dict(orient="records"),
                },
                default=str,
                ensure_ascii=False,
            )
        )
        return
    from geo.i18n import _
    from geo.localize import number

    counts = _(", ").join(f"{number(n)} {_(name)}" for name, n in found.counts.items())
    echo(
        _("{total} {status} pair(s), page {page} of {pages} ({counts})").format(
            total=number(found.total),
            status=_(found.status),
            page=found.page,
            pages=found.pages,
            counts=counts,
        )
    )
    for pair in found.pairs.itertuples():
        gap = (
            _("times overlap")
            if not pair.gap_s
            else _("{minutes} min apart").format(minutes=number(pair.gap_s / 60, decimals=0))
        )
        echo(
            f"{pair.earlier_incident_id} ({pair.earlier_source} {pair.earlier_source_event_id}, "
            f"{pair.earlier_occurred_at:%Y-%m-%d %H:%M}) ~ {pair.later_incident_id} ({pair.later_source} "
            f"{pair.later_source_event_id}, {pair.later_occurred_at:%Y-%m-%d %H:%M}): {pair.kind}, "
            f"{number(pair.distance_m, decimals=0)} m, {gap}"
            + (
                "; " + _("{status} by {user}").format(status=_(pair.status), user=pair.reviewed_by)
                if pair.reviewed_by
                else ""
            )
        )


def _decide(ctx: click.Context, first: int, second: int, decision: str, note: str) -> None:
    from geo.i18n import _
    from geo.services.review import decide

    decide(store_of(ctx), first, second, decision, actor=OPERATOR, note=note)
    what = _("the same event") if decision == "same" else _("different events")
    echo(
        _("incidents {first} and {second}: {what}").format(
            first=min(first, second), second=max(first, second), what=what
        )
    )


@links.command("confirm")
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.option("--note", default="", help="Why, in a sentence (kept with the decision).")
@click.pass_context
@one_line_errors
def links_confirm(ctx: click.Context, first: int, second: int, note: str) -> None:
    """Confirm that two linked reports are the same event (they count once)."""
    _decide(ctx, first, second, "same", note)


@links.command("reject")
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.option("--note", default="", help="Why, in a sentence (kept with the decision).")
@click.pass_context
@one_line_errors
def links_reject(ctx: click.Context, first: int, second: int, note: str) -> None:
    """Find that two linked reports are different events (they count apart)."""
    _decide(ctx, first, second, "different", note)


@links.command("undo")
@click.argument("first", type=int)
@click.argument("second", type=int)
@click.pass_context
@one_line_errors
def links_undo(ctx: click.Context, first: int, second: int) -> None:
    """Undo the last decision on a pair: it gets back the status it had before."""
    from geo.i18n import _
    from geo.services.review import undo

    restored = undo(store_of(ctx), first, second, actor=OPERATOR)
    echo(
        _("incidents {first} and {second}: back to {status}").format(
            first=min(first, second), second=max(first, second), status=_(restored)
        )
    )
