"""``readerpass links list|show|link|unlink|resolve``: staff work on reader links."""

from __future__ import annotations

import click

from ..services import links
from ..services.actor import Actor
from ..services.libraries import get_library
from ..services.lookup import find_reader
from .common import context, domain_errors, emit, emit_record, json_option

COLUMNS = ("id", "reader_id", "library", "state", "method", "local_id", "local_barcode",
           "last_error")


@click.group("links")
def command() -> None:
    """Links between readers and member libraries' local patrons."""


@command.command("list")
@click.option("--library", help="Only links at this library.")
@click.option("--state", type=click.Choice(["pending", "linked", "conflict", "unlinked"]))
@click.option("--reader", "reader_ref", help="Only this reader (id or card number).")
@click.option("--after", type=click.IntRange(0), default=0, help="Continue after this link id.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@domain_errors
def list_(library: str | None, state: str | None, reader_ref: str | None, after: int,
          limit: int, as_json: bool) -> None:
    """List links in id order (staff review conflicts with --state conflict)."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library) if library else None
        reader_id = find_reader(session, reader_ref).id if reader_ref else None
        rows = [links.link_view(link, code) for link, code in links.list_links(
            session, library=lib, state=state, reader_id=reader_id, after=after, limit=limit)]
    emit(rows, COLUMNS, as_json=as_json)


@command.command("show")
@click.argument("reader_ref")
@click.argument("library")
@json_option
@domain_errors
def show(reader_ref: str, library: str, as_json: bool) -> None:
    """Show the link of reader READER_REF at LIBRARY."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library)
        link = links.require_link(session, find_reader(session, reader_ref), lib)
        emit_record(links.link_view(link, lib.code), as_json=as_json)


@command.command("link")
@click.argument("reader_ref")
@click.argument("library")
@click.argument("local_id")
@click.option("--reason", help="Why staff matched these two.")
@json_option
@domain_errors
def link(reader_ref: str, library: str, local_id: str, reason: str | None,
         as_json: bool) -> None:
    """Link reader READER_REF to local patron LOCAL_ID at LIBRARY (writes the back-link)."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library)
        made = links.staff_link(session, ctx, find_reader(session, reader_ref), lib, local_id,
                                actor=Actor.cli(), reason=reason)
        emit_record(links.link_view(made, lib.code), as_json=as_json)


@command.command("unlink")
@click.argument("reader_ref")
@click.argument("library")
@click.option("--reason", required=True, help="Why the link is wrong.")
@domain_errors
def unlink(reader_ref: str, library: str, reason: str) -> None:
    """Break the link of reader READER_REF at LIBRARY."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library)
        links.unlink(session, ctx, find_reader(session, reader_ref), lib, actor=Actor.cli(),
                     reason=reason)
    click.echo(f"unlinked at {lib.code}")


@command.command("resolve")
@click.argument("reader_ref")
@click.argument("library")
@click.option("--local-id", help="The candidate patron that is this reader.")
@click.option("--create", is_flag=True, help="None of them: create a new local patron.")
@click.option("--reason")
@json_option
@domain_errors
def resolve(reader_ref: str, library: str, local_id: str | None, create: bool,
            reason: str | None, as_json: bool) -> None:
    """Settle a conflicting link by choosing a candidate or creating a patron."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library)
        done = links.resolve(session, ctx, find_reader(session, reader_ref), lib,
                             actor=Actor.cli(), local_id=local_id, create=create, reason=reason)
        emit_record(links.link_view(done, lib.code), as_json=as_json)
