"""``readerpass cards ...``: card keys, the trust anchor, publication, card lifecycle
and the card-sharing report."""

from __future__ import annotations

import json

import click

from ..cardsvc import keys, status
from ..services.actor import Actor
from .common import CommandFailed, context, domain_errors, emit, json_option, lines


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
