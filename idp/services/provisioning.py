"""Just-in-time provisioning: make sure a reader has a patron at a member library.

Called at a reader's first single sign-on to a library and by the relay. The
order follows DESIGN "Adapters": the back-link first (the library already knows
this reader), then the library's matching rule (same surname, given name and
birth date; ambiguity goes to staff as a conflict), and only then a new patron,
created with an idempotency key derived from reader and library so that a retry
never makes a second one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import (
    AdapterError,
    AmbiguousMatch,
    LibraryAdapter,
    LocalPatron,
    PatronMatch,
    ProvinceCategory,
    ProvinceReader,
)
from adapters.errors import Conflict as AdapterConflict

from ..context import Context
from ..models import Library, LinkMethod, LinkState, Reader, ReaderLink
from . import audit, outbox
from .actor import Actor


def province_reader(reader: Reader) -> ProvinceReader:
    return ProvinceReader(
        reader_id=reader.id, surname=reader.family_name, first_name=reader.given_name,
        birth_date=reader.birth_date, category=ProvinceCategory(reader.category),
        expiry=reader.expires_on,
    )


def idempotency_key(reader_id: str, library_code: str) -> str:
    """One key per (reader, library): the create that key names happens once."""
    return f"readerpass:{library_code}:{reader_id}"


def get_link(session: Session, reader_id: str, library_id: int) -> ReaderLink | None:
    return session.scalar(select(ReaderLink).where(
        ReaderLink.reader_id == reader_id, ReaderLink.library_id == library_id))


def local_barcode(session: Session, reader_id: str, library_code: str) -> str | None:
    """The reader's barcode at ``library_code`` when linked there (for ``reader_card``)."""
    return session.scalar(
        select(ReaderLink.local_barcode)
        .join(Library, Library.id == ReaderLink.library_id)
        .where(ReaderLink.reader_id == reader_id, Library.code == library_code.upper(),
               ReaderLink.state == LinkState.LINKED.value))


def link_holding(session: Session, library_id: int, patron: LocalPatron,
                 except_id: int | None) -> str | None:
    """The reader another link already ties to this patron's id or barcode."""
    same = ReaderLink.local_id == patron.local_id
    if patron.barcode:
        same = same | (ReaderLink.local_barcode == patron.barcode)
    return session.scalar(select(ReaderLink.reader_id).where(
        ReaderLink.library_id == library_id, same, ReaderLink.id != except_id).limit(1))


def ensure_link_row(session: Session, reader: Reader, library: Library,
                    now: dt.datetime) -> ReaderLink:
    link = get_link(session, reader.id, library.id)
    if link is None:
        link = ReaderLink(reader_id=reader.id, library_id=library.id,
                          state=LinkState.PENDING.value, candidates=[], created_at=now,
                          updated_at=now)
        session.add(link)
    return link


def mark_linked(link: ReaderLink, patron: LocalPatron, method: LinkMethod | None,
                now: dt.datetime) -> None:
    link.state = LinkState.LINKED.value
    if method is not None:
        link.method = method.value
    link.local_id = patron.local_id
    link.local_barcode = patron.barcode or None
    link.local_version = patron.version
    link.candidates = []
    link.last_sync_at = now
    link.last_error = None
    link.updated_at = now


def mark_conflict(link: ReaderLink, error: AdapterError, now: dt.datetime) -> None:
    link.state = LinkState.CONFLICT.value
    link.local_id = link.local_barcode = link.local_version = None
    if isinstance(error, AmbiguousMatch):
        link.candidates = list(error.local_ids)
    elif isinstance(error, AdapterConflict) and error.local_id:
        link.candidates = [error.local_id]
    link.last_error = f"{error.code}: {error.message}"
    link.updated_at = now


def find_or_create(adapter: LibraryAdapter, reader: Reader, library: Library, today: dt.date,
                   *, match: bool = True) -> tuple[LocalPatron, LinkMethod]:
    """The local patron for ``reader``, back-linked; raises the port's errors."""
    store, subject = adapter.store, province_reader(reader)
    found = store.find(adapter.mapping.match_linked(subject))
    if found is not None:
        return found, LinkMethod.AUTO_MATCHED
    if match:
        found = store.find(PatronMatch(surname=subject.surname, first_name=subject.first_name,
                                       birth_date=subject.birth_date))
        if found is not None:
            if found.reader_id not in (None, reader.id):
                raise AdapterConflict("the matching patron is linked to another reader",
                                      field="reader_id", local_id=found.local_id)
            return store.write_backlink(found.local_id, reader.id), LinkMethod.AUTO_MATCHED
    request = adapter.mapping.create_request(subject, barcode=reader.card_number, today=today)
    created = store.create(request, idempotency_key(reader.id, library.code))
    return store.write_backlink(created.local_id, reader.id), LinkMethod.CREATED


def provision(session: Session, ctx: Context, reader: Reader, library: Library, *,
              actor: Actor | None = None, match: bool = True) -> ReaderLink:
    """The reader's link at ``library``: linked, or pending (library unreachable; the
    relay finishes it), or conflict (staff must decide). Never raises the port's errors."""
    now = ctx.now()
    link = ensure_link_row(session, reader, library, now)
    if link.state in (LinkState.LINKED, LinkState.CONFLICT) and match:
        return link
    adapter = ctx.adapters.get(session, library)
    try:
        patron, method = find_or_create(adapter, reader, library, ctx.today(), match=match)
    except AdapterError as exc:
        if exc.retryable:
            link.state, link.updated_at = LinkState.PENDING.value, now
            link.last_error = f"{exc.code}: {exc.message}"
            session.flush()
            outbox.add_item(session, library.id, reader.id, "link.provision", now)
        else:
            mark_conflict(link, exc, now)
        session.flush()
        return link
    session.flush()
    holder = link_holding(session, library.id, patron, link.id)
    if holder is not None:
        mark_conflict(link, AdapterConflict(
            f"local patron is already linked to reader {holder}", field="local_id",
            local_id=patron.local_id), now)
        session.flush()
        return link
    mark_linked(link, patron, method, now)
    session.flush()
    audit.record(session, actor or Actor.system("provisioning"), "link.provision", "reader",
                 reader.id, now=now, details={"library": library.code, "method": method.value,
                                              "local_id": patron.local_id})
    return link
