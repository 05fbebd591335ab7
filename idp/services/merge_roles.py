"""Who may do what with duplicates: library staff propose merges of their own
library's readers; only province administrators (and the system's own batch
jobs) apply and undo them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Forbidden
from ..models import Library, LinkState, Reader, ReaderLink
from .actor import Actor, Role

PROVINCE = frozenset({Role.ADMIN, Role.SYSTEM})


def require_province(actor: Actor, doing: str) -> None:
    if actor.role not in PROVINCE:
        raise Forbidden(f"only province administrators {doing}; library staff may propose "
                        "a merge for review")


def require_reach(session: Session, actor: Actor, readers: Iterable[Reader]) -> None:
    """Staff act only for readers homed at or linked to their own library."""
    if actor.role in PROVINCE:
        return
    if actor.role is not Role.STAFF:
        raise Forbidden("only staff and administrators work on duplicates")
    if actor.library is None:
        raise Forbidden("this staff token belongs to no member library; create one with "
                        "`readerpass tokens create NAME --role staff --library CODE`")
    library_id = session.scalar(select(Library.id).where(Library.code == actor.library))
    for reader in readers:
        if reader.home_library_id == library_id:
            continue
        linked = session.scalar(select(ReaderLink.id).where(
            ReaderLink.reader_id == reader.id, ReaderLink.library_id == library_id,
            ReaderLink.state != LinkState.UNLINKED.value))
        if linked is None:
            raise Forbidden(f"reader {reader.id} is neither homed at nor linked to "
                            f"{actor.library}")
