"""``readerpass cards ...``: card keys, the trust anchor, publication, card lifecycle
and the card-sharing report."""

from __future__ import annotations

import datetime as dt
import json

import click

from ..cardsvc import keys, lifecycle, scans, status
from ..services.actor import Actor
from ..services.lookup import find_reader
from .common import (
    CommandFailed,
    context,
    domain_errors,
    emit,
    emit_record,
    json_option,
    lines,
)


@click.group("cards")
def command() -> None:
    """Reader cards: keys, trust anchor, status-list publication, lifecycle."""


@command.group("keys")
def keys_group() -> None:
    """Card-signing keys (published to gates in the signed trust list)."""


@keys_group.command("list")
@json_option
@domain_errors
def keys_list(as_json: bool) -> None:
    """List card keys and the anchor: next, active, retiring, retired."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [keys.key_view(row) for row in keys.list_keys(session)]
    emit(rows, ("kid", "role", "state", "created_at", "not_after", "retire_after"),
         as_json=as_json)


@keys_group.command("rotate")
@click.option("--force", is_flag=True,
              help="Let the next key sign although gates may not have its trust list yet.")
@domain_errors
def keys_rotate(force: bool) -> None:
    """Let the next card key sign, retire the active one, publish a new next key.

    The first run creates the trust anchor, the first card key and its successor.
    """
    ctx = context()
    with ctx.transaction() as session:
        lines(keys.rotate(session, ctx, actor=Actor.cli(), force=force))


@keys_group.command("retire")
@click.argument("kid", required=False)
@click.option("--force", is_flag=True, help="Retire KID although its tokens may be valid.")
@domain_errors
def keys_retire(kid: str | None, force: bool) -> None:
    """Drop retiring card keys whose tokens can no longer be valid (or only KID)."""
    ctx = context()
    with ctx.transaction() as session:
        retired = keys.retire(session, ctx, kid, actor=Actor.cli(), force=force)
    lines(f"retired {k}" for k in retired) if retired else click.echo("nothing to retire")


@command.group("anchor")
def anchor_group() -> None:
    """The province trust anchor that gates pin."""


@anchor_group.command("export")
@domain_errors
def anchor_export() -> None:
    """Print the anchor's public JWK (give it to gates: `gate sync --anchor FILE`)."""
    ctx = context()
    with ctx.transaction() as session:
        row = keys.anchor_row(session)
    if row is None:
        raise CommandFailed("no trust anchor yet: run `readerpass cards keys rotate` first")
    click.echo(json.dumps(row.public_jwk, sort_keys=True))


@anchor_group.command("list")
@json_option
@domain_errors
def anchor_list(as_json: bool) -> None:
    """List the trust anchors: active, retiring (after a rotation), retired."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [keys.key_view(row) for row in keys.list_keys(session)
                if row.role == "anchor"]
    emit(rows, ("kid", "state", "transition", "created_at", "retire_after", "retired_at"),
         as_json=as_json)


@anchor_group.command("rotate")
@domain_errors
def anchor_rotate() -> None:
    """Make a new trust anchor, signed over by the current one (an anchor transition
    that gates follow at their next sync); lists are signed by the new anchor at once."""
    ctx = context()
    with ctx.transaction() as session:
        lines(keys.rotate_anchor(session, ctx, actor=Actor.cli()))


@anchor_group.command("retire")
@click.argument("kid", required=False)
@click.option("--force", is_flag=True, help="Retire KID before its overlap has ended.")
@domain_errors
def anchor_retire(kid: str | None, force: bool) -> None:
    """Erase the private part of old anchors whose overlap (cards.anchor_overlap_seconds)
    has ended, or only KID. Their transitions stay published."""
    ctx = context()
    with ctx.transaction() as session:
        retired = keys.retire_anchors(session, ctx, kid, actor=Actor.cli(), force=force)
    lines(f"retired anchor {k}" for k in retired) if retired else click.echo(
        "nothing to retire")


@command.command("publish")
@click.option("--force", is_flag=True, help="Re-sign now even if the lists are fresh.")
@domain_errors
def publish(force: bool) -> None:
    """Re-sign the status and trust lists if they are getting old (run it from a timer,
    at least every third of cards.max_age_seconds), and prune old deltas."""
    ctx = context()
    with ctx.transaction() as session:
        if keys.anchor_row(session) is None:
            raise CommandFailed("no trust anchor yet: run `readerpass cards keys rotate` first")
        done = status.publish(session, ctx, force=force)
    lines(done) if done else click.echo("lists are fresh; nothing to re-sign")


def _card_command(action: str, summary: str) -> None:
    @command.command(action, help=summary)
    @click.argument("ref")
    @click.option("--reason", help="Why (recorded in the audit log; required to suspend "
                                   "or cancel).")
    @json_option
    @domain_errors
    def run(ref: str, reason: str | None, as_json: bool) -> None:
        ctx = context()
        with ctx.transaction() as session:
            reader = find_reader(session, ref)
            card = lifecycle.change(session, ctx, reader, action, actor=Actor.cli(),
                                    reason=reason)
            emit_record(lifecycle.card_view(card), as_json=as_json)


for _action, _summary in (
    ("lost", "Report REF's card lost: gates refuse it after their next sync."),
    ("reissue", "Give REF a new card (new serial and status index); the old one is revoked."),
    ("suspend", "Suspend REF's card (needs --reason)."),
    ("restore", "Restore REF's lost, suspended or expired card."),
    ("expire", "Mark REF's card expired."),
    ("cancel", "Cancel REF's card for good (needs --reason)."),
):
    _card_command(_action, _summary)


@command.command("show")
@click.argument("ref")
@json_option
@domain_errors
def show(ref: str, as_json: bool) -> None:
    """Show the current card of REF (reader id or province card number)."""
    ctx = context()
    with ctx.transaction() as session:
        card = lifecycle.require_card(session, find_reader(session, ref))
        emit_record(lifecycle.card_view(card), as_json=as_json)


@command.command("issue")
@click.argument("ref")
@json_option
@domain_errors
def issue(ref: str, as_json: bool) -> None:
    """Issue REF's card if they have none (readers also get one on first use)."""
    ctx = context()
    with ctx.transaction() as session:
        card = lifecycle.issue(session, ctx, find_reader(session, ref), actor=Actor.cli())
        emit_record(lifecycle.card_view(card), as_json=as_json)


@command.command("sharing")
@click.option("--window", "window", type=click.IntRange(1, 10080),
              help="Minutes between admissions at two libraries (default: "
                   "cards.sharing_window_minutes).")
@click.option("--hours", type=click.IntRange(1, 24 * 90), default=24, show_default=True,
              help="Look at scans of the last HOURS hours.")
@json_option
@domain_errors
def sharing(window: int | None, hours: int, as_json: bool) -> None:
    """Cards admitted at two libraries within WINDOW minutes (possible card sharing)."""
    ctx = context()
    minutes = window or ctx.settings.cards.sharing_window_minutes
    with ctx.transaction() as session:
        found = scans.shared_cards(session, since=ctx.now() - dt.timedelta(hours=hours),
                                   window_minutes=minutes)
    emit([item.to_json() for item in found],
         ("serial", "libraries", "first_at", "last_at", "scans"), as_json=as_json)
