"""One delivery: bring a library's patron in line with the reader as it is now.

Deliveries are convergent rather than replayed: whatever the event, the relay
makes sure the link exists (provisioning it when needed), pushes the
province-owned fields, sets or lifts only the province's block, and restores the
back-link. Running one twice changes nothing the second time.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from adapters import (
    AdapterError,
    LibraryAdapter,
    LocalPatron,
    PatronNotFound,
    PatronPatch,
    VersionConflict,
)
from adapters.errors import Conflict as AdapterConflict

from ..context import Context
from ..models import Library, LinkState, Reader, ReaderLink, Status
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
    patron = _sync(adapter, reader, link.local_id)
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


def _sync(adapter: LibraryAdapter, reader: Reader, local_id: str) -> LocalPatron:
    """Push province-owned fields, the province block and the back-link, each only
    when it differs (so a repeated delivery makes no change at all)."""
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
    if patron.reader_id != reader.id:
        patron = store.write_backlink(local_id, reader.id)
    return patron


def difference(wanted: PatronPatch, patron: LocalPatron) -> PatronPatch:
    have = {"surname": patron.surname, "first_name": patron.first_name,
            "birth_date": patron.birth_date, "expiry": patron.expiry}
    changes = {name: value for name, value in dataclasses.asdict(wanted).items()
               if value is not None and have[name] != value}
    return PatronPatch(**changes)
