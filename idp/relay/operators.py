"""What operators do with the outbox: look at it and send dead letters again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInput, NotFound
from ..models import Library, OutboxItem, OutboxState
from ..services import audit
from ..services.actor import Actor
from ..services.paging import library_rows


def list_items(session: Session, *, library: Library | None = None, state: str | None = None,
               reader_id: str | None = None, after: int = 0,
               limit: int = 50) -> Sequence[tuple[OutboxItem, str]]:
    return library_rows(session, OutboxItem, OutboxState, "outbox", library=library,
                        state=state, reader_id=reader_id, after=after, limit=limit)


def counts(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Library.code, OutboxItem.state, func.count())
        .join(Library, Library.id == OutboxItem.library_id)
        .group_by(Library.code, OutboxItem.state))
    return {(code, state): n for code, state, n in rows}


def retry(session: Session, ids: Sequence[int], *, library: Library | None, all_dead: bool,
          actor: Actor, now: dt.datetime) -> int:
    """Send dead (or waiting) items again at once, with a fresh attempt count."""
    if bool(ids) == all_dead:
        raise InvalidInput("give item ids or --all-dead", field="ids")
    query = select(OutboxItem).where(OutboxItem.state != OutboxState.DONE.value)
    if ids:
        query = query.where(OutboxItem.id.in_(ids))
    else:
        query = query.where(OutboxItem.state == OutboxState.DEAD.value)
    if library is not None:
        query = query.where(OutboxItem.library_id == library.id)
    items = session.scalars(query).all()
    missing = sorted(set(ids) - {item.id for item in items})
    if missing:
        raise NotFound(f"no undelivered outbox item {missing[0]}", field="ids")
    for item in items:
        item.state, item.attempts, item.next_attempt_at = OutboxState.PENDING.value, 0, now
        audit.record(session, actor, "outbox.retry", "outbox", str(item.id), now=now,
                     details={"reader": item.reader_id, "last_error": item.last_error})
    return len(items)


def purge(session: Session, *, older_than: dt.timedelta, library: Library | None,
          actor: Actor, now: dt.datetime) -> int:
    """Delete delivered items delivered before ``now - older_than``; dead and pending
    items are never purged (they still need somebody). One audit event per purge."""
    if older_than < dt.timedelta(days=1):
        raise InvalidInput("keep delivered items at least one day", field="older_than")
    query = delete(OutboxItem).where(OutboxItem.state == OutboxState.DONE.value,
                                     OutboxItem.delivered_at < now - older_than)
    if library is not None:
        query = query.where(OutboxItem.library_id == library.id)
    removed = int(getattr(session.execute(query.execution_options(
        synchronize_session=False)), "rowcount", 0))
    audit.record(session, actor, "outbox.purge", "outbox", library.code if library else "*",
                 now=now, details={"older_than_days": older_than.days, "removed": removed})
    return removed


def item_view(item: OutboxItem, library_code: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "library": library_code,
        "reader_id": item.reader_id,
        "event": item.event,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat(),
        "last_error": item.last_error,
        "created_at": item.created_at.isoformat(),
        "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
    }
