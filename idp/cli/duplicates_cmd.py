"""``readerpass duplicates scan|list|show|dismiss|merge-auto|rekey``."""

from __future__ import annotations

import time

import click
from sqlalchemy import select

from ..duplicates import queue
from ..duplicates.automerge import apply_auto_merges
from ..duplicates.keys import rebuild_keys
from ..duplicates.scan import run_scan
from ..duplicates.views import pair_detail, pair_row
from ..errors import InvalidInput
from ..models import PairState, Reader
from ..services.actor import Actor
from ..services.lookup import find_reader
from .common import context, domain_errors, emit, emit_record, json_option

COLUMNS = ("id", "score", "auto_merge", "state", "reader_a", "reader_b", "source")


@click.group("duplicates")
def command() -> None:
    """Find duplicate readers and decide on them (merge with `readers merge`)."""


@command.command("scan")
@click.option("--library", "code", help="Only readers of this member library (home or linked).")
@click.option("--new", "new_only", is_flag=True,
              help="Only readers created since the previous scan.")
@domain_errors
def scan(code: str | None, new_only: bool) -> None:
    """Compare readers sharing a blocking key and fill the review queue."""
    if code and new_only:
        raise InvalidInput("use either --library or --new", field="library")
    ctx = context()
    started = time.monotonic()

    def progress(stage: str, done: int, total: int | None) -> None:
        of = f" of {total:,}" if total is not None and total != done else ""
        click.echo(f"{stage}: {done:,}{of}  ({time.monotonic() - started:,.1f} s)", err=True)

    report = run_scan(ctx, library=code, new_only=new_only, actor=Actor.cli(),
                      progress=progress)
    for block in report.skipped_blocks:
        click.echo(f"skipped a block of {block['size']:,} readers sharing a {block['kind']} key",
                   err=True)
    click.echo(f"scan {report.scan_id} ({report.scope}): {report.readers:,} readers, "
               f"{report.compared:,} pairs compared, {report.found:,} candidates "
               f"({report.auto_merge:,} qualify for automatic merge), "
               f"{report.queue.get('new', 0):,} new in the queue, "
               f"{report.queue.get('decided_before', 0):,} decided before; "
               f"{time.monotonic() - started:,.1f} s")


@command.command("list")
@click.option("--state", type=click.Choice([*(s.value for s in PairState), "all"]),
              default="open", show_default=True)
@click.option("--reader", "reader_ref", help="Only pairs with this reader (id or card number).")
@click.option("--auto", "auto_only", is_flag=True, help="Only pairs that qualify for auto-merge.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@json_option
@domain_errors
def list_command(state: str, reader_ref: str | None, auto_only: bool, limit: int,
                 as_json: bool) -> None:
    """The review queue, highest score first (--json: one line per pair)."""
    ctx = context()
    with ctx.transaction() as session:
        reader = find_reader(session, reader_ref).id if reader_ref else None
        rows: list[dict[str, object]] = []
        after: tuple[float, int] | None = None
        while len(rows) < limit:
            page = queue.list_pairs(session, state=None if state == "all" else PairState(state),
                                    reader=reader, auto_only=auto_only, after=after,
                                    limit=min(1000, limit - len(rows)))
            rows.extend(pair_row(pair) for pair in page)
            if len(page) < 1000:
                break
            after = (page[-1].score, page[-1].id)
    emit(rows, COLUMNS, as_json=as_json)


@command.command("show")
@click.argument("pair_id", type=int)
@json_option
@domain_errors
def show(pair_id: int, as_json: bool) -> None:
    """One pair: both readers side by side and why the model matched them."""
    ctx = context()
    with ctx.transaction() as session:
        detail = pair_detail(session, ctx, queue.get_pair(session, pair_id))
    if as_json:
        emit_record(detail, as_json=True)
        return
    readers = detail.pop("readers")
    explanation = detail.pop("explanation")
    emit_record(detail, as_json=False)
    click.echo("")
    fields = ("id", "card_number", "family_name", "given_name", "sex", "birth_date", "mobile",
              "documents", "home_library", "status", "assurance", "created_at")
    emit([{"field": name, **{f"reader {i + 1}": _short(r.get(name)) for i, r in
                             enumerate(readers)}} for name in fields],
         ("field", *(f"reader {i + 1}" for i in range(len(readers)))), as_json=False)
    click.echo("")
    emit([{"comparison": name, **(value if isinstance(value, dict) else {"weight": value})}
          for name, value in explanation.items()],
         ("comparison", "level", "weight"), as_json=False)


def _short(value: object) -> object:
    if isinstance(value, list):
        return ", ".join(f"{d.get('type')} {d.get('number')}" for d in value if isinstance(d, dict))
    return value


@command.command("dismiss")
@click.argument("pair_id", type=int)
@click.option("--reason", help="Why they are not the same person (kept in the audit log).")
@domain_errors
def dismiss(pair_id: int, reason: str | None) -> None:
    """Record that a pair is not the same person; it is never proposed again."""
    ctx = context()
    with ctx.transaction() as session:
        pair = queue.dismiss(session, queue.get_pair(session, pair_id), actor=Actor.cli(),
                             reason=reason, now=ctx.now())
        click.echo(f"pair {pair.id} dismissed")


@command.command("merge-auto")
@click.option("--limit", type=click.IntRange(1), help="At most this many merges.")
@domain_errors
def merge_auto(limit: int | None) -> None:
    """Merge the open pairs the rule allows without review (same resident ID, same name).

    Each is an ordinary merge: planned, recorded and undoable with `readers unmerge`.
    """
    ctx = context()
    report = apply_auto_merges(ctx, actor=Actor.cli(), limit=limit)
    for pair_id, why in report.left_open:
        click.echo(f"pair {pair_id} left for review: {why}", err=True)
    click.echo(f"merged {len(report.merged):,} pairs"
               + (f" (merge ids {', '.join(map(str, report.merged))})"
                  if 0 < len(report.merged) <= 20 else ""))


@command.command("rekey")
@domain_errors
def rekey() -> None:
    """Recompute every reader's blocking keys (after an upgrade or a bulk load)."""
    ctx = context()
    with ctx.transaction() as session:
        ids = list(session.scalars(select(Reader.id).order_by(Reader.id)))
    done = 0
    for start in range(0, len(ids), 1000):
        with ctx.transaction() as session:
            done += rebuild_keys(session, ctx, ids[start:start + 1000])
        click.echo(f"keys: {done:,} of {len(ids):,} readers", err=True)
    click.echo(f"rebuilt the keys of {done:,} readers")
