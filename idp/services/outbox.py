"""Writing changes to the outbox in the caller's transaction (DESIGN "Outbox").

A change reaches the reader's home library and every library the reader is
linked with (or being linked with), provided that library has an adapter.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import LibraryAdapterConfig, LinkState, OutboxItem, OutboxState, Reader, ReaderLink

_FOLLOWED = (LinkState.PENDING.value, LinkState.LINKED.value)


def target_libraries(session: Session, reader: Reader) -> list[int]:
    linked = select(ReaderLink.library_id).where(
        ReaderLink.reader_id == reader.id, ReaderLink.state.in_(_FOLLOWED))
    return list(session.scalars(
        select(LibraryAdapterConfig.library_id).where(or_(
            LibraryAdapterConfig.library_id == reader.home_library_id,
            LibraryAdapterConfig.library_id.in_(linked),
        )).order_by(LibraryAdapterConfig.library_id)))


def add_item(session: Session, library_id: int, reader_id: str, event: str,
             now: dt.datetime) -> OutboxItem:
    item = OutboxItem(library_id=library_id, reader_id=reader_id, event=event,
                      state=OutboxState.PENDING.value, attempts=0, next_attempt_at=now,
                      created_at=now)
    session.add(item)
    return item


def enqueue(session: Session, reader: Reader, event: str, *, now: dt.datetime) -> int:
    """Queue ``event`` for every library that follows ``reader``; returns how many."""
    session.flush()  # the reader row must exist before items point at it
    targets = target_libraries(session, reader)
    for library_id in targets:
        add_item(session, library_id, reader.id, event, now)
    return len(targets)
