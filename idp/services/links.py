"""Staff work on reader links: list, show, link by hand, unlink, resolve conflicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from adapters import AdapterError

from ..context import Context
from ..errors import Conflict, InvalidInput, NotFound
from ..models import Library, LinkMethod, LinkState, Reader, ReaderLink
from . import audit
from .actor import Actor
from .lookup import resolves_to
from .paging import library_rows
from .provisioning import ensure_link_row, get_link, link_holding, mark_linked, provision


def list_links(session: Session, *, library: Library | None = None, state: str | None = None,
               reader_id: str | None = None, after: int = 0,
               limit: int = 50) -> Sequence[tuple[ReaderLink, str]]:
    return library_rows(session, ReaderLink, LinkState, "link", library=library, state=state,
                        reader_id=reader_id, after=after, limit=limit)


def require_link(session: Session, reader: Reader, library: Library) -> ReaderLink:
    link = get_link(session, reader.id, library.id)
    if link is None:
        raise NotFound(f"the reader has no link at {library.code}", field="link")
    return link


def staff_link(session: Session, ctx: Context, reader: Reader, library: Library,
               local_id: str, *, actor: Actor, reason: str | None = None) -> ReaderLink:
    """Tie ``reader`` to local patron ``local_id`` as staff decided, back-link included."""
    now = ctx.now()
    store = ctx.adapters.get(session, library).store
    try:
        patron = store.get(local_id)
        if patron is None:
            raise NotFound(f"{library.code} has no local patron {local_id!r}", field="local_id")
        # A back-link to a reader merged into this one already names this reader.
        if not resolves_to(session, patron.reader_id, reader.id):
            patron = store.write_backlink(local_id, reader.id)
    except AdapterError as exc:
        raise Conflict(f"{library.code}: {exc.message}", field="local_id",
                       code=f"adapter_{exc.code}") from None
    link = ensure_link_row(session, reader, library, now)
    session.flush()
    holder = link_holding(session, library.id, patron, link.id)
    if holder is not None:
        raise Conflict(f"local patron {local_id} is linked to another reader; unlink it first",
                       field="local_id")
    before = link.state
    mark_linked(link, patron, LinkMethod.STAFF_MATCHED, now)
    session.flush()
    audit.record(session, actor, "link.link", "reader", reader.id, now=now, reason=reason,
                 details={"library": library.code, "local_id": local_id, "from": before})
    return link


def unlink(session: Session, ctx: Context, reader: Reader, library: Library, *,
           actor: Actor, reason: str) -> ReaderLink:
    """Break the link; the relay stops delivering to this library for this reader.

    The back-link in the library system stays (the port cannot remove it): library
    staff clear it there if the patron really is somebody else.
    """
    link = require_link(session, reader, library)
    if link.state == LinkState.UNLINKED:
        raise Conflict("the link is already unlinked", field="link", code="no_change")
    now = ctx.now()
    details = {"library": library.code, "local_id": link.local_id, "from": link.state}
    link.state, link.local_id, link.local_barcode = LinkState.UNLINKED.value, None, None
    link.local_version, link.candidates, link.updated_at = None, [], now
    session.flush()
    audit.record(session, actor, "link.unlink", "reader", reader.id, now=now, reason=reason,
                 details=details)
    return link


def resolve(session: Session, ctx: Context, reader: Reader, library: Library, *,
            actor: Actor, local_id: str | None, create: bool, reason: str | None) -> ReaderLink:
    """Settle a conflict: choose one candidate patron, or create a new one."""
    link = require_link(session, reader, library)
    if link.state != LinkState.CONFLICT:
        raise Conflict(f"the link is {link.state}, not in conflict", field="link",
                       code="no_conflict")
    if (local_id is None) == (not create):
        raise InvalidInput("give either a local patron id or --create", field="local_id")
    if local_id is not None:
        return staff_link(session, ctx, reader, library, local_id, actor=actor, reason=reason)
    link.state = LinkState.PENDING.value
    resolved = provision(session, ctx, reader, library, actor=actor, match=False)
    audit.record(session, actor, "link.resolve", "reader", reader.id, now=ctx.now(),
                 reason=reason, details={"library": library.code, "state": resolved.state})
    return resolved


def link_view(link: ReaderLink, library_code: str) -> dict[str, Any]:
    return {
        "id": link.id,
        "reader_id": link.reader_id,
        "library": library_code,
        "state": link.state,
        "method": link.method,
        "local_id": link.local_id,
        "local_barcode": link.local_barcode,
        "local_version": link.local_version,
        "candidates": link.candidates,
        "last_sync_at": link.last_sync_at.isoformat() if link.last_sync_at else None,
        "last_error": link.last_error,
    }
