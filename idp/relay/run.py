"""Working through the outbox, library by library.

Per library: nothing is sent while an operator has the library offline or its
circuit breaker is open. Items go in id order, but a reader whose earlier item
is waiting for a retry holds back that reader's later items (order per library
and reader); other readers go ahead. An unavailable library costs an item an
attempt and a backoff; any other error of the port is permanent for that item,
which goes to the dead letters with its reason while the rest keep flowing.
A relay works a library only while it holds the library's lease (``lease``), so
two relays started for the same library never deliver side by side.

Deliveries are recorded in chunks: up to ``CHUNK`` items (or ``CHUNK_TIME``) in one
transaction that locks the library's row once, locks the chunk's items and loads
their readers with one statement each, and commits once. Per item that saves a
commit and several round trips. An unexpected error (not a port error) rolls
back the chunk's records, so its earlier items are delivered again by the next
pass; deliveries are convergent, so that changes nothing at the library.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from adapters import AdapterError

from ..context import Context
from ..errors import ReaderPassError
from ..models import Library, LibraryAdapterConfig, OutboxItem, OutboxState, Reader
from . import lease
from .deliver import Skipped, deliver
from .policy import RelayPolicy

#: Deliveries per transaction, and the longest a transaction stays open for more.
CHUNK = 50
CHUNK_TIME = 2.0  # seconds


@dataclass
class LibraryRun:
    library: str
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    waiting: int = 0
    stopped: str | None = None  # offline, breaker_open, leased (another relay), lease_lost
    errors: list[str] = field(default_factory=list)


def run_once(ctx: Context, *, library: str | None = None, policy: RelayPolicy | None = None,
             rng: random.Random | None = None, batch_size: int = 500) -> list[LibraryRun]:
    """One pass over every library's due items (or one library's)."""
    policy, rng = policy or RelayPolicy(), rng or random.Random()
    with ctx.transaction() as session:
        query = (select(Library.id, Library.code)
                 .join(LibraryAdapterConfig, LibraryAdapterConfig.library_id == Library.id)
                 .order_by(Library.code))
        if library is not None:
            query = query.where(Library.code == library.strip().upper())
        targets = [(row.id, row.code) for row in session.execute(query)]
    return [run_library(ctx, lid, code, policy, rng, batch_size) for lid, code in targets]


def run_library(ctx: Context, library_id: int, code: str, policy: RelayPolicy,
                rng: random.Random, batch_size: int) -> LibraryRun:
    report, owner = LibraryRun(code), lease.new_owner()
    with ctx.transaction() as session:
        switches = session.get(LibraryAdapterConfig, library_id)
        assert switches is not None
        now = ctx.now()
        if switches.offline:
            report.stopped = "offline"
            return report
        if switches.breaker_open_until is not None and switches.breaker_open_until > now:
            report.stopped = "breaker_open"
            return report
        if not lease.acquire(session, library_id, owner, now, policy.lease):
            report.stopped = "leased"
            return report
        queue = session.execute(
            select(OutboxItem.id, OutboxItem.reader_id, OutboxItem.next_attempt_at)
            .where(OutboxItem.library_id == library_id,
                   OutboxItem.state == OutboxState.PENDING.value)
            .order_by(OutboxItem.id).limit(batch_size)).all()
    try:
        _work(ctx, queue, library_id, owner, policy, rng, report)
    finally:
        with ctx.transaction() as session:
            lease.release(session, library_id, owner)
    return report


def _work(ctx: Context, queue: Sequence[Row[int, str, dt.datetime]], library_id: int,
          owner: str, policy: RelayPolicy, rng: random.Random, report: LibraryRun) -> None:
    held: set[str] = set()
    finished: set[int] = set()
    position = 0
    while position < len(queue) and report.stopped is None:
        with ctx.transaction() as session:
            position = _chunk(session, ctx, queue, position, library_id, owner, policy, rng,
                              report, held, finished)


def _chunk(session: Session, ctx: Context, queue: Sequence[Row[int, str, dt.datetime]],
           position: int, library_id: int, owner: str, policy: RelayPolicy,
           rng: random.Random, report: LibraryRun, held: set[str], finished: set[int]) -> int:
    """Deliver from the next ``CHUNK`` items of the queue in one transaction, for at
    most about ``CHUNK_TIME``; return where the next chunk starts."""
    # Locked for the deliveries: another relay's lease attempt skips the library.
    switches = session.get(LibraryAdapterConfig, library_id, with_for_update=True)
    assert switches is not None
    if not lease.holds(switches, owner, ctx.now()):
        report.stopped = "lease_lost"  # expired and taken over: that relay carries on
        return position
    # Renewed once a chunk: a chunk lasts CHUNK_TIME plus one delivery, far less than
    # the lease, and the row stays locked meanwhile.
    switches.lease_until = ctx.now() + policy.lease
    # Held here: the session's identity map keeps objects only while referenced.
    end = min(len(queue), position + CHUNK)  # only items _prefetch locked
    loaded = _prefetch(session, ctx, queue[position:end], library_id, held, finished)
    with session.no_autoflush:  # the chunk's changes go out together at its commit
        position = _deliveries(session, ctx, queue, position, end, switches, policy, rng,
                               report, held, finished)
    del loaded
    return position


def _deliveries(session: Session, ctx: Context, queue: Sequence[Row[int, str, dt.datetime]],
                position: int, end: int, switches: LibraryAdapterConfig, policy: RelayPolicy,
                rng: random.Random, report: LibraryRun, held: set[str],
                finished: set[int]) -> int:
    """Deliver the items from ``position`` up to ``end``, for at most about
    ``CHUNK_TIME``; return where the next chunk starts.

    A delivery's queries do not flush the earlier deliveries' changes first: each
    reads only its own reader's rows (a reader's later items are covered by its
    first, and merged readers' links belong to their survivor's item), so the
    changes wait for the chunk's commit, one flush instead of one per item."""
    started = time.monotonic()
    while position < end:
        if time.monotonic() - started > CHUNK_TIME:
            return position
        item_id, reader_id, due = queue[position]
        position += 1
        if item_id in finished:
            continue
        if reader_id in held or due > ctx.now():
            held.add(reader_id)
            report.waiting += 1
            continue
        # Later items of this reader, already committed when the queue was read: a
        # delivery reads the reader afterwards, so it covers them too.
        later = [i for i, r, _ in queue[position:] if r == reader_id]
        outcome = _attempt(session, ctx, item_id, switches, policy, rng, report, later)
        if outcome == "done":
            finished.update(later)
        if outcome == "retry":
            held.add(reader_id)
        if outcome == "breaker_open":
            report.stopped = outcome
            return position
    return position


def _prefetch(session: Session, ctx: Context, upcoming: Sequence[Row[int, str, dt.datetime]],
              library_id: int, held: set[str], finished: set[int]) -> list[object]:
    """Lock the chunk's items and load their readers with two statements, instead of
    two per delivery (the deliveries then find them in the session); returns them."""
    now = ctx.now()
    items = [i for i, r, due in upcoming if i not in finished and r not in held and due <= now]
    if not items:
        return []
    loaded: list[object] = list(session.scalars(
        select(OutboxItem).where(OutboxItem.id.in_(items)).order_by(OutboxItem.id)
        .with_for_update()))
    wanted = set(items)
    readers = {r for i, r, _ in upcoming if i in wanted}
    loaded.extend(session.scalars(select(Reader).where(Reader.id.in_(readers))))
    loaded.append(session.get(Library, library_id))
    return loaded


def _attempt(session: Session, ctx: Context, item_id: int, switches: LibraryAdapterConfig,
             policy: RelayPolicy, rng: random.Random, report: LibraryRun,
             later: list[int]) -> str:
    """Deliver one item (locked by ``_prefetch``); return done, dead, retry or
    breaker_open."""
    item = session.get(OutboxItem, item_id)
    if item is None or item.state != OutboxState.PENDING:
        return "done"  # another relay got there first
    return _deliver_item(session, ctx, item, switches, policy, rng, report, later)


def _deliver_item(session: Session, ctx: Context, item: OutboxItem,
                  switches: LibraryAdapterConfig, policy: RelayPolicy, rng: random.Random,
                  report: LibraryRun, later: list[int]) -> str:
    library = session.get(Library, item.library_id)
    reader = session.get(Reader, item.reader_id)
    assert library is not None and reader is not None
    now = ctx.now()
    try:
        adapter = ctx.adapters.get(session, library)
        deliver(session, ctx, adapter, reader, library)
    except Skipped as skip:
        _finish(item, OutboxState.DONE, now, f"skipped: {skip}")
        report.delivered += 1
        return "done"
    except AdapterError as exc:
        reason = f"{exc.code}: {exc.message}"
        if not exc.retryable:
            _finish(item, OutboxState.DEAD, now, reason)
            report.dead += 1
            report.errors.append(f"item {item.id}: {reason}")
            return "dead"
        return _retry(item, switches, now, reason, policy, rng, report)
    except ReaderPassError as exc:  # e.g. the stored adapter table no longer validates
        _finish(item, OutboxState.DEAD, now, f"{exc.code}: {exc}")
        report.dead += 1
        return "dead"
    _finish(item, OutboxState.DONE, now, None)
    if later:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(later), OutboxItem.state == OutboxState.PENDING.value)
            .values(state=OutboxState.DONE.value, delivered_at=now,
                    last_error=f"covered by item {item.id}"))
    switches.failures, switches.breaker_open_until = 0, None
    report.delivered += 1
    return "done"


def _retry(item: OutboxItem, switches: LibraryAdapterConfig, now: dt.datetime, reason: str,
           policy: RelayPolicy, rng: random.Random, report: LibraryRun) -> str:
    item.attempts += 1
    item.last_error = reason
    if item.attempts >= policy.max_attempts:
        _finish(item, OutboxState.DEAD, now, f"gave up after {item.attempts} attempts: {reason}")
        report.dead += 1
    else:
        item.next_attempt_at = now + policy.backoff(item.attempts, rng)
        report.retrying += 1
    switches.failures += 1
    if switches.failures >= policy.breaker_threshold:
        switches.breaker_open_until = now + policy.breaker_cooldown
        return "breaker_open"
    return "retry"


def _finish(item: OutboxItem, state: OutboxState, now: dt.datetime, note: str | None) -> None:
    item.state = state.value
    item.last_error = note
    if state is OutboxState.DONE:
        item.delivered_at = now
