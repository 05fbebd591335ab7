"""One delivery: bring a library's patron in line with the reader as it is now.

Deliveries are convergent rather than replayed: whatever the event, the relay
makes sure the link exists (provisioning it when needed), pushes the
province-owned fields, sets or lifts only the province's block, and restores the
back-link. Running one twice changes nothing the second time.

Merged readers: nothing is delivered for a tombstone (its links moved to the
survivor or wait there to be folded in). A delivery for a survivor first has the
library merge in the local patron of every reader merged into it that is still
linked there (``Capability.MERGE``), or, where the library cannot merge, leaves
both patrons to staff as the link's candidates. Back-links the library holds to
a merged reader's id are kept: that id resolves to the survivor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import (
    AdapterError,
    Capability,
    LibraryAdapter,
    LocalPatron,
    PatronNotFound,
    PatronPatch,
    VersionConflict,
)
from adapters.errors import Conflict as AdapterConflict

from ..context import Context
from ..models import Library, LinkState, Reader, ReaderLink, Status
from ..services.lookup import resolves_to
from ..services.provisioning import (
    ensure_link_row,
    find_or_create,
    link_holding,
    mark_conflict,
    mark_linked,
    province_reader,
)

#: Reader statuses under which the province blocks the local patron.
BLOCKED = frozenset({Status.SUSPENDED, Status.CANCELLED, Status.MERGED})
_VERSION_RETRIES = 3


class Skipped(Exception):
    """Nothing to deliver (e.g. staff unlinked the reader here): the item is done."""


def deliver(session: Session, ctx: Context, adapter: LibraryAdapter, reader: Reader,
            library: Library) -> str:
    """Deliver; return what was done. Raises the port's errors (the caller decides)."""
    now = ctx.now()
    if reader.merged_into is not None:
        raise Skipped(f"merged into reader {reader.merged_into}")
    link = ensure_link_row(session, reader, library, now)
    if link.state == LinkState.UNLINKED:
        raise Skipped("unlinked by staff")
    if link.state == LinkState.CONFLICT:
        raise AdapterConflict("the link is in conflict; resolve it with `readerpass links "
                              "resolve`, then retry", field="link")
    done = "synced"
    if link.state == LinkState.PENDING or link.local_id is None:
        _provision(session, ctx, adapter, reader, library, link)
        done = "provisioned"
    assert link.local_id is not None
    if fold_merged(session, adapter, reader, library, link, now):
        done = "merged local patrons"
    patron = _sync(adapter, reader, link.local_id,
                   lambda other: resolves_to(session, other, reader.id))
    link.local_version, link.local_barcode = patron.version, patron.barcode or None
    link.last_sync_at, link.last_error, link.updated_at = now, None, now
    return done


def _provision(session: Session, ctx: Context, adapter: LibraryAdapter, reader: Reader,
               library: Library, link: ReaderLink) -> None:
    now = ctx.now()
    try:
        patron, method = find_or_create(adapter, reader, library, ctx.today())
        session.flush()
        holder = link_holding(session, library.id, patron, link.id)
        if holder is not None:
            raise AdapterConflict(f"local patron is already linked to reader {holder}",
                                  field="local_id", local_id=patron.local_id)
    except AdapterError as exc:
        if not exc.retryable:
            mark_conflict(link, exc, now)
        raise
    mark_linked(link, patron, method, now)


def fold_merged(session: Session, adapter: LibraryAdapter, reader: Reader, library: Library,
                link: ReaderLink, now: dt.datetime) -> bool:
    """Merge into the reader's patron the patrons still linked here to readers
    merged into it; return whether there were any. A library that cannot merge
    gets both patrons as the link's candidates for staff instead (then Skipped)."""
    # Readers before links, as merge and unmerge lock them: an unmerge running now
    # either finishes first (and the reader is no longer merged here) or waits.
    merged = session.scalars(select(Reader.id).where(Reader.merged_into == reader.id)
                             .order_by(Reader.id).with_for_update()).all()
    if not merged:
        return False
    rows = session.scalars(
        select(ReaderLink)
        .where(ReaderLink.library_id == library.id, ReaderLink.reader_id.in_(merged),
               ReaderLink.state == LinkState.LINKED.value, ReaderLink.local_id.is_not(None))
        .order_by(ReaderLink.id).with_for_update()).all()
    store = adapter.store
    for row in rows:
        assert link.local_id is not None and row.local_id is not None
        if Capability.MERGE not in store.capabilities:
            candidates = [link.local_id, row.local_id]
            _drop(row, f"merged into reader {reader.id}", now)
            link.state, link.candidates, link.updated_at = LinkState.CONFLICT.value, candidates, now
            link.local_id = link.local_barcode = link.local_version = None
            link.last_error = ("two readers were merged and both had a patron here; choose one "
                               "(`readerpass links resolve`)")
            raise Skipped(f"{library.code} cannot merge patrons: left to staff")
        if store.get(row.local_id) is not None:  # else merged by an earlier attempt
            store.merge([link.local_id, row.local_id])
        _drop(row, f"its patron was merged into {link.local_id} of reader {reader.id}", now)
    return bool(rows)


def _drop(row: ReaderLink, note: str, now: dt.datetime) -> None:
    row.state = LinkState.UNLINKED.value
    row.local_id = row.local_barcode = row.local_version = None
    row.candidates, row.last_error, row.updated_at = [], note, now


def _sync(adapter: LibraryAdapter, reader: Reader, local_id: str,
          ours: Callable[[str], bool]) -> LocalPatron:
    """Push province-owned fields, the province block and the back-link, each only
    when it differs (so a repeated delivery makes no change at all). ``ours`` tells
    whether a back-link to another reader id names this reader after a merge."""
    store, subject = adapter.store, province_reader(reader)
    wanted = adapter.mapping.patch(subject)
    patron: LocalPatron | None = None
    for attempt in range(_VERSION_RETRIES):
        patron = store.get(local_id)
        if patron is None:
            raise PatronNotFound(local_id)
        patch = difference(wanted, patron)
        if patch.is_empty():
            break
        try:
            patron = store.update(local_id, patch, patron.version)
            break
        except VersionConflict:
            if attempt == _VERSION_RETRIES - 1:
                raise
            # Somebody changed the patron meanwhile: re-read and re-apply.
    assert patron is not None
    block = Status(reader.status) in BLOCKED
    if block and not patron.blocked_by_province:
        patron = store.suspend(local_id, f"province reader account {reader.status}")
    elif not block and patron.blocked_by_province:
        patron = store.reinstate(local_id)
    if patron.reader_id != reader.id and not (patron.reader_id and ours(patron.reader_id)):
        patron = store.write_backlink(local_id, reader.id)
    return patron


def difference(wanted: PatronPatch, patron: LocalPatron) -> PatronPatch:
    have = {"surname": patron.surname, "first_name": patron.first_name,
            "birth_date": patron.birth_date, "expiry": patron.expiry}
    changes = {name: value for name, value in dataclasses.asdict(wanted).items()
               if value is not None and have[name] != value}
    return PatronPatch(**changes)
