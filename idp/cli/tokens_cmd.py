"""``readerpass tokens create|list|revoke``: staff API credentials."""

from __future__ import annotations

import click

from ..services import staff
from ..services.actor import Actor, Role
from .common import context, domain_errors, emit, json_option


@click.group("tokens")
def command() -> None:
    """Bearer tokens for the staff API."""


@command.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "staff"]), default="admin",
              show_default=True)
@click.option("--library", help="Member library a staff token works for (staff only).")
@domain_errors
def create(name: str, role: str, library: str | None) -> None:
    """Create token NAME and print its secret (shown only this once)."""
    ctx = context()
    with ctx.transaction() as session:
        secret = staff.create_token(session, ctx.hasher, name, role=Role(role), library=library,
                                    actor=Actor.cli(), now=ctx.now())
    click.echo(secret)


@command.command("list")
@json_option
@domain_errors
def list_(as_json: bool) -> None:
    """List active tokens (names and roles, never secrets)."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [staff.token_view(t, code) for t, code in staff.list_tokens(session)]
    emit(rows, ("name", "role", "library", "created_at"), as_json=as_json)


@command.command("revoke")
@click.argument("name")
@domain_errors
def revoke(name: str) -> None:
    """Revoke token NAME at once."""
    ctx = context()
    with ctx.transaction() as session:
        staff.revoke_token(session, name, actor=Actor.cli(), now=ctx.now())
    click.echo(f"revoked {name}")
