"""``readerpass libraries offline|online|reconcile``: operating a library's adapter."""

from __future__ import annotations

import click

from ..relay.reconcile import reconcile
from ..services.actor import Actor
from ..services.libraries import get_library
from ..services.library_adapters import set_offline
from .common import context, domain_errors, emit, json_option


@click.command("offline")
@click.argument("code")
@click.option("--reason", required=True, help="Shown to operators, e.g. 'ILS upgrade'.")
@domain_errors
def offline(code: str, reason: str) -> None:
    """Stop deliveries to library CODE; changes queue up until it is online again."""
    ctx = context()
    with ctx.transaction() as session:
        set_offline(session, get_library(session, code), True, actor=Actor.cli(),
                    now=ctx.now(), reason=reason)
    click.echo(f"{code.upper()} is offline; deliveries wait")


@click.command("online")
@click.argument("code")
@domain_errors
def online(code: str) -> None:
    """Resume deliveries to library CODE (and close its circuit breaker)."""
    ctx = context()
    with ctx.transaction() as session:
        set_offline(session, get_library(session, code), False, actor=Actor.cli(),
                    now=ctx.now())
    click.echo(f"{code.upper()} is online")




@click.command("reconcile")
@click.argument("code")
@click.option("--repair", is_flag=True, help="Fix links and queue deliveries for the drift.")
@json_option
@domain_errors
def reconcile_cmd(code: str, repair: bool, as_json: bool) -> None:
    """Compare library CODE's links with its patron database and report drift."""
    ctx = context()
    with ctx.transaction() as session:
        drift = reconcile(session, ctx, get_library(session, code), repair=repair,
                          actor=Actor.cli())
    emit([d.view() for d in drift], ("reader_id", "local_id", "kind", "detail", "repair"),
         as_json=as_json)


COMMANDS = (offline, online, reconcile_cmd)
