"""``readerpass import``: onboard a member library's existing patrons."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from sqlalchemy import select

from ..importer.run import adapter_source, file_source, import_patrons
from ..models import ImportIssue
from ..services.libraries import get_library
from .common import context, domain_errors, emit, json_option

ORDER = ("read", "created", "matched", "linked", "already_imported", "not_imported", "issues",
         "possible_duplicates")


@click.command("import")
@click.option("--library", "code", required=True, help="Member library code.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV or JSON lines file instead of the library's adapter (see README).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]),
              help="File format (default: from the file name).")
@click.option("--encoding", default="utf-8", show_default=True,
              help="File encoding, e.g. gb18030 for older exports.")
@click.option("--batch-size", type=click.IntRange(1, 20000), default=1000, show_default=True)
@click.option("--dry-run", is_flag=True, help="Validate and count; change nothing.")
@domain_errors
def command(code: str, path: Path | None, fmt: str | None, encoding: str, batch_size: int,
            dry_run: bool) -> None:
    """Make province readers of a library's patrons, link them, list what needs review.

    Resumes after the last committed batch when run again after an interruption.
    """
    ctx = context()
    with ctx.transaction() as session:
        library = get_library(session, code)
    source = (file_source(path, fmt, encoding) if path is not None
              else adapter_source(ctx, library, batch_size))
    started = time.monotonic()
    scan_started: list[float] = []

    def scanned(stage: str, done: int, total: int | None) -> None:
        if not scan_started:
            scan_started.append(time.monotonic())
            click.echo(f"\nimported at {done_rate():,.0f} patrons/s; checking the imported "
                       "readers for duplicates", err=True)
        of = f" of {total:,}" if total is not None and total != done else ""
        click.echo(f"  {stage}: {done:,}{of}  ({time.monotonic() - scan_started[0]:,.1f} s)",
                   err=True)

    def done_rate() -> float:
        return done / max(time.monotonic() - started, 1e-6)

    done = 0
    with click.progressbar(length=source.total or 0, label=f"importing {library.code}",
                           file=sys.stderr, show_eta=source.total is not None,
                           show_pos=True) as bar:
        def advance(n: int) -> None:
            nonlocal done
            done += n
            bar.label = f"importing {library.code} at {done_rate():,.0f} patrons/s"
            bar.update(n)

        counts = import_patrons(ctx, library.code, source, batch_size=batch_size,
                                dry_run=dry_run, progress=advance, scan_progress=scanned)
    elapsed = time.monotonic() - started
    summary = ", ".join(f"{key} {counts.get(key, 0)}" for key in ORDER)
    click.echo(("dry run: " if dry_run else "") + summary)
    click.echo(f"{counts.get('read', 0) / max(elapsed, 1e-6):,.0f} patrons/s with the "
               "duplicate check", err=True)
    if counts.get("issues") and not dry_run:
        click.echo(f"review: readerpass import-issues --library {library.code}", err=True)
    if counts.get("possible_duplicates"):
        click.echo("review: readerpass duplicates list", err=True)


@click.command("import-issues")
@click.option("--library", "code", required=True, help="Member library code.")
@click.option("--kind", type=click.Choice(["not_imported", "invalid_field",
                                           "possible_duplicate", "not_linked"]))
@click.option("--after", type=click.IntRange(0), default=0, help="Continue after this id.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
@domain_errors
def issues_command(code: str, kind: str | None, after: int, limit: int, as_json: bool) -> None:
    """The review list of an import: rows not imported, values dropped, possible duplicates."""
    ctx = context()
    with ctx.transaction() as session:
        library = get_library(session, code)
        query = (select(ImportIssue).where(ImportIssue.library_id == library.id,
                                           ImportIssue.id > after)
                 .order_by(ImportIssue.id).limit(limit))
        if kind:
            query = query.where(ImportIssue.kind == kind)
        rows = [{"id": i.id, "source": i.source_ref, "kind": i.kind, "field": i.field,
                 "problem": i.problem, "reader_id": i.reader_id, "candidates": i.candidates}
                for i in session.scalars(query)]
    emit(rows, ("id", "source", "kind", "field", "problem", "reader_id"), as_json=as_json)


#: Commands this module adds besides ``command``.
extra_commands = (issues_command,)
