"""``readerpass clients add|list|show|rotate-secret|remove``: relying parties."""

from __future__ import annotations

import click

from ..oidc import clients
from ..oidc.scopes import SCOPES
from ..services.actor import Actor
from .common import context, domain_errors, emit, emit_record, json_option

COLUMNS = ("client_id", "name", "library", "kind", "grant_types", "scopes")


@click.group("clients")
def command() -> None:
    """OpenID Connect clients of member libraries."""


@command.command("add")
@click.argument("name")
@click.option("--library", required=True, help="Code of the member library (its subject sector).")
@click.option("--kind", type=click.Choice(clients.KINDS), default="confidential",
              show_default=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI.")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--grant", "grant_types", multiple=True, type=click.Choice(clients.GRANTS),
              help="Allowed grant (repeat). Default: authorization_code and refresh_token.")
@click.option("--scope", "scopes", multiple=True, help="Allowed scope (repeat). Default: all.")
@click.option("--backchannel-logout-uri")
@json_option
@domain_errors
def add(name: str, library: str, kind: str, redirect_uris: tuple[str, ...],
        logout_uris: tuple[str, ...], grant_types: tuple[str, ...], scopes: tuple[str, ...],
        backchannel_logout_uri: str | None, as_json: bool) -> None:
    """Register client NAME; prints its client_id and (once) its secret."""
    ctx = context()
    with ctx.transaction() as session:
        client, secret = clients.add_client(
            session, ctx, name=name, library=library, kind=kind, redirect_uris=redirect_uris,
            grant_types=grant_types or ("authorization_code", "refresh_token"),
            scopes=scopes or SCOPES, post_logout_redirect_uris=logout_uris,
            backchannel_logout_uri=backchannel_logout_uri, actor=Actor.cli())
        view = clients.client_view(client)
    emit_record({**view, "client_secret": secret}, as_json=as_json)


@command.command("list")
@click.option("--library", help="Only this member library's clients.")
@json_option
@domain_errors
def list_(library: str | None, as_json: bool) -> None:
    """List clients (never secrets)."""
    ctx = context()
    with ctx.transaction() as session:
        rows = [clients.client_view(c) for c in clients.list_clients(session, library)]
    emit(rows, COLUMNS, as_json=as_json)


@command.command("show")
@click.argument("client_id")
@json_option
@domain_errors
def show(client_id: str, as_json: bool) -> None:
    """Show client CLIENT_ID."""
    ctx = context()
    with ctx.transaction() as session:
        emit_record(clients.client_view(clients.get_client(session, client_id)), as_json=as_json)


@command.command("rotate-secret")
@click.argument("client_id")
@domain_errors
def rotate_secret(client_id: str) -> None:
    """Give CLIENT_ID a new secret (printed once); the old one stops working at once."""
    ctx = context()
    with ctx.transaction() as session:
        secret = clients.rotate_secret(session, ctx, client_id, actor=Actor.cli())
    click.echo(secret)


@command.command("remove")
@click.argument("client_id")
@domain_errors
def remove(client_id: str) -> None:
    """Revoke CLIENT_ID: it cannot authenticate and its tokens stop working."""
    ctx = context()
    with ctx.transaction() as session:
        clients.remove_client(session, ctx, client_id, actor=Actor.cli())
    click.echo(f"removed {client_id}")
