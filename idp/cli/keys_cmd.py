"""``readerpass keys list|rotate|retire``: OpenID Connect signing keys."""

from __future__ import annotations

import click

from ..oidc import keys
from ..services.actor import Actor
from .common import context, domain_errors, emit, json_option, lines


@click.group("keys")
def command() -> None:
    """Signing keys of ID tokens and access tokens (published in the JWKS)."""


@command.command("list")
@json_option
@domain_errors
def list_(as_json: bool) -> None:
    """List keys and their state: next, active, retiring, retired."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [keys.key_view(k) for k in keys.list_keys(session)]
    emit(rows, ("kid", "alg", "state", "created_at", "activated_at", "retire_after"),
         as_json=as_json)


@command.command("rotate")
@click.option("--force", is_flag=True,
              help="Promote the next key even if relying parties may not have fetched it yet.")
@domain_errors
def rotate(force: bool) -> None:
    """Let the next key sign, retire the active one, publish a new next key.

    The first run creates the first active key and its successor.
    """
    ctx = context()
    with ctx.transaction() as session:
        lines(keys.rotate(session, ctx, actor=Actor.cli(), force=force))


@command.command("retire")
@click.argument("kid", required=False)
@click.option("--force", is_flag=True, help="Retire KID although its tokens have not expired.")
@domain_errors
def retire(kid: str | None, force: bool) -> None:
    """Remove retiring keys whose tokens have expired from the JWKS (or only KID)."""
    ctx = context()
    with ctx.transaction() as session:
        retired = keys.retire(session, ctx, kid, actor=Actor.cli(), force=force)
    lines(f"retired {k}" for k in retired) if retired else click.echo("nothing to retire")
