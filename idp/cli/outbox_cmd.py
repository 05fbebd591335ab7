"""``readerpass outbox run|list|dead|retry|purge``: deliveries to member libraries."""

from __future__ import annotations

import datetime as dt
import time

import click

from ..relay import operators
from ..relay.run import LibraryRun, run_once
from ..services.actor import Actor
from ..services.libraries import get_library
from ..services.lookup import find_reader
from .common import context, domain_errors, emit, json_option

COLUMNS = ("id", "library", "reader_id", "event", "state", "attempts", "next_attempt_at",
           "last_error")


@click.group("outbox")
def command() -> None:
    """Changes waiting to reach member libraries' patron databases."""


def _summary(run: LibraryRun) -> str:
    line = (f"{run.library}: delivered {run.delivered}, retrying {run.retrying}, "
            f"dead {run.dead}, waiting {run.waiting}")
    return line + (f" ({run.stopped})" if run.stopped else "")


@command.command("run")
@click.option("--once", is_flag=True, help="One pass over the due items, then exit.")
@click.option("--library", help="Only this library (run one relay per library to shard).")
@click.option("--batch-size", type=click.IntRange(1, 10000), default=500, show_default=True)
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True,
              help="Seconds between passes when not --once.")
@domain_errors
def run(once: bool, library: str | None, batch_size: int, interval: float) -> None:
    """Deliver due items with retries, backoff, a breaker per library and dead letters."""
    ctx = context()
    if library:
        with ctx.transaction() as session:
            get_library(session, library)
    while True:
        for result in run_once(ctx, library=library, batch_size=batch_size):
            if once or result.delivered or result.dead or result.retrying:
                click.echo(_summary(result))
            for error in result.errors:
                click.echo(f"  dead letter: {error}", err=True)
        if once:
            return
        time.sleep(interval)


def _list(library: str | None, state: str | None, reader_ref: str | None, after: int,
          limit: int, as_json: bool) -> None:
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library) if library else None
        reader_id = find_reader(session, reader_ref).id if reader_ref else None
        rows = [operators.item_view(item, code) for item, code in operators.list_items(
            session, library=lib, state=state, reader_id=reader_id, after=after, limit=limit)]
    emit(rows, COLUMNS, as_json=as_json)


@command.command("list")
@click.option("--library")
@click.option("--state", type=click.Choice(["pending", "done", "dead"]))
@click.option("--reader", "reader_ref", help="Reader id or card number.")
@click.option("--after", type=click.IntRange(0), default=0, help="Continue after this item id.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@domain_errors
def list_(library: str | None, state: str | None, reader_ref: str | None, after: int,
          limit: int, as_json: bool) -> None:
    """List outbox items in id order."""
    _list(library, state, reader_ref, after, limit, as_json)


@command.command("dead")
@click.option("--library")
@click.option("--after", type=click.IntRange(0), default=0)
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
@domain_errors
def dead(library: str | None, after: int, limit: int, as_json: bool) -> None:
    """List dead letters with the reason each was given up."""
    _list(library, "dead", None, after, limit, as_json)


@command.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="Every dead letter (of --library, if given).")
@click.option("--library")
@domain_errors
def retry(ids: tuple[int, ...], all_dead: bool, library: str | None) -> None:
    """Queue dead or waiting items IDS again, due now, with a fresh attempt count."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library) if library else None
        count = operators.retry(session, list(ids), library=lib, all_dead=all_dead,
                                actor=Actor.cli(), now=ctx.now())
    click.echo(f"queued {count} again")


@command.command("purge")
@click.option("--older-than", "days", type=click.IntRange(1), required=True,
              help="Delete items delivered more than DAYS days ago.")
@click.option("--library")
@domain_errors
def purge(days: int, library: str | None) -> None:
    """Delete delivered items; dead and pending ones stay."""
    ctx = context()
    with ctx.transaction() as session:
        lib = get_library(session, library) if library else None
        removed = operators.purge(session, older_than=dt.timedelta(days=days), library=lib,
                                  actor=Actor.cli(), now=ctx.now())
    click.echo(f"purged {removed} delivered items")
