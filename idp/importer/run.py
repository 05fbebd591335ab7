"""Driving an import: batches, one transaction each, with the checkpoint inside it.

Because the checkpoint moves in the same transaction as the batch it covers, an
import stopped at any moment resumes after the last committed batch: nothing is
imported twice and nothing is skipped. A finished import run again starts from
the beginning; rows an earlier run dealt with (the ``import_rows`` ledger, see
``rowkeys``) or linked some other way are counted as ``already_imported`` and
change nothing.

On PostgreSQL two batches are stored at once (``behind``): each sends its rows
while the server works on the other's, and they commit in order, the cards and
the checkpoint after the batch before has committed. Their rows cannot wait on
each other in the database: the planner gives every batch in flight its own
card numbers, serials, local ids, barcodes and row keys (``claims``). The rare
batch that matched a reader an earlier batch in flight creates stores its rows
after that batch has committed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import Capability, ProvinceCategory
from adapters.port import PatronLister

from ..context import Context
from ..duplicates.scan import Progress as ScanProgress
from ..duplicates.scan import run_scan
from ..errors import InvalidInput
from ..models import ImportRun, Library, LibraryAdapterConfig
from ..services.libraries import get_library
from .ahead import read_ahead
from .behind import Turn, WriteBehind
from .files import file_format, read_rows
from .planner import Statistics
from .prepare import prepare
from .records import Batch
from .rows import SourceRow, from_patron
from .write import Writer

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Source:
    """Where rows come from: the library's adapter, or a file."""

    key: str  # "adapter", or "file:<sha256>"
    total: int | None
    rows: Callable[[str | None], Iterator[SourceRow]]  # rows after a cursor


def adapter_source(ctx: Context, library: Library, batch_size: int) -> Source:
    with ctx.transaction() as session:
        adapter = ctx.adapters.get(session, library)
    store = adapter.store
    if Capability.ITERATE not in store.capabilities or not isinstance(store, PatronLister):
        raise InvalidInput(f"the {store.backend} backend cannot list patrons; import a file "
                           "with --file", field="library")
    lister: PatronLister = store
    back: dict[str, ProvinceCategory] = {}
    for province, local in adapter.mapping.categories.items():
        back.setdefault(local, province)

    def rows(after: str | None) -> Iterator[SourceRow]:
        while page := lister.iter_patrons(after, batch_size):
            for patron in page:
                yield from_patron(patron, back)
            after = page[-1].local_id

    return Source("adapter", lister.count_patrons(), rows)


def file_source(path: Path, fmt: str | None, encoding: str) -> Source:
    kind = file_format(path, fmt)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)

    def rows(after: str | None) -> Iterator[SourceRow]:
        return read_rows(path, kind, encoding=encoding, after=int(after or 0))

    return Source(f"file:{digest.hexdigest()}", None, rows)


def import_patrons(ctx: Context, code: str, source: Source, *, batch_size: int = 1000,
                   dry_run: bool = False, progress: Progress | None = None,
                   scan_progress: ScanProgress | None = None) -> Counter[str]:
    """Import every row of ``source`` into library ``code``; returns the counts.

    The readers the run created or matched then go through one duplicate scan
    (unless ``duplicates.check_online`` is off): checking each batch as it lands
    would load every earlier reader sharing a key with one of its rows, so its cost
    would grow with the import, while one scan loads each reader once.
    """
    with ctx.transaction() as session:
        library = get_library(session, code)
        library_id = library.id
        enqueue = session.get(LibraryAdapterConfig, library_id) is not None
        run_id, cursor = _open_run(session, ctx, library_id, source.key)
        if dry_run:
            session.rollback()
    totals: Counter[str] = Counter()
    prepared = ((batch, [prepare(row, ctx) for row in batch])
                for batch in _batches(source.rows(cursor), batch_size))
    batches = read_ahead(prepared, name="import-read-ahead")
    if dry_run:
        for batch, drafts in batches:
            with ctx.sessions() as session:
                run_id, _ = _open_run(session, ctx, library_id, source.key)  # rolled back
                totals.update(Writer(session, ctx, library_id, run_id,
                                     enqueue=enqueue).write(drafts))
                session.rollback()
            if progress is not None:
                progress(len(batch))
        return totals
    statistics, written = Statistics(), 0

    def store(job: _Job, turn: Turn) -> None:
        nonlocal written
        with ctx.sessions() as session:
            Writer(session, ctx, library_id, run_id, enqueue=enqueue).store(job.batch, turn)
            _checkpoint(session, ctx, run_id, job.cursor, job.batch.counts, done=False)
            session.commit()
            written += job.rows
            if statistics.written(session, written):
                session.commit()
        if progress is not None:
            progress(job.rows)

    # Two batches stored at once on PostgreSQL, whose server works on one while the
    # other's rows are sent; SQLite lets one transaction write at a time.
    writers = 2 if ctx.engine.dialect.name == "postgresql" else 1
    with WriteBehind(store, writers=writers, name="import-write-behind") as behind:
        for batch, drafts in batches:
            # Claims first, then look-ups: a batch committing in between is seen
            # by one or the other (or both, which decides the same).
            in_flight = [job.batch.claims for job in behind.pending()]
            with ctx.sessions() as session:
                planned = Writer(session, ctx, library_id, run_id,
                                 enqueue=enqueue).plan(drafts, in_flight)
                session.rollback()  # look-ups only
            totals.update(planned.counts)
            behind.submit(_Job(planned, batch[-1].cursor, len(batch)))
    with ctx.transaction() as session:
        run_counts = _checkpoint(session, ctx, run_id, None, Counter(), done=True)
    with ctx.transaction() as session:
        statistics.finished(session, written)
    # The run's counts span an interruption: readers an interrupted invocation
    # stored are scanned when the run completes. A re-run that stored no reader
    # has nothing to scan.
    if ctx.settings.duplicates.check_online and (run_counts["created"]
                                                 or run_counts["matched"]):
        report = run_scan(ctx, import_run=run_id, progress=scan_progress)
        totals["possible_duplicates"] = report.queue.get("new", 0)
    return totals


@dataclass(frozen=True)
class _Job:
    batch: Batch
    cursor: str
    rows: int


def _open_run(session: Session, ctx: Context, library_id: int,
              key: str) -> tuple[int, str | None]:
    """The run of this source, new or restarted if it had finished; its id and cursor."""
    run = session.scalar(select(ImportRun).where(ImportRun.library_id == library_id,
                                                 ImportRun.source == key))
    if run is None:
        run = ImportRun(library_id=library_id, source=key, cursor=None, counts={},
                        started_at=ctx.now(), updated_at=ctx.now())
        session.add(run)
        session.flush()
    elif run.finished_at is not None:
        run.cursor, run.finished_at, run.counts = None, None, {}
    return run.id, run.cursor


def _checkpoint(session: Session, ctx: Context, run_id: int, cursor: str | None,
                counts: Counter[str], *, done: bool) -> Counter[str]:
    """Move the run's cursor and add ``counts`` to its own; returns the run's counts."""
    run = session.get(ImportRun, run_id)
    assert run is not None
    if cursor is not None:
        run.cursor = cursor
    merged = Counter(run.counts)
    merged.update(counts)
    run.counts = dict(merged)
    run.updated_at = ctx.now()
    if done:
        run.finished_at = ctx.now()
    return merged


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
