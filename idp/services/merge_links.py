"""Reader links through a merge and its undoing.

A merge applies each library's :class:`~merge_rules.LinkAction` to the link rows
and records the rows as they were; unmerge puts back what nobody has changed
since. Moving a link keeps the row (its id, history and local patron); when two
rows meet at one library the local patron passes from one to the other, cleared
first because a local patron id belongs to one link per library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LinkState, Reader, ReaderLink
from .merge_plan import MergePlan
from .merge_rules import LinkAction

FIELDS = ("state", "method", "local_id", "local_barcode", "local_version", "candidates",
          "last_error")


def dump(link: ReaderLink) -> dict[str, Any]:
    values: dict[str, Any] = {"id": link.id, "reader_id": link.reader_id}
    values.update({field: getattr(link, field) for field in FIELDS})
    values["candidates"] = list(link.candidates)
    return values


def _put(link: ReaderLink, values: dict[str, Any], now: dt.datetime) -> None:
    for field in FIELDS:
        setattr(link, field, values[field])
    link.updated_at = now


def _clear(link: ReaderLink, state: LinkState, note: str, now: dt.datetime) -> None:
    link.state = state.value
    link.local_id = link.local_barcode = link.local_version = None
    link.candidates = []
    link.last_error = note
    link.updated_at = now


def relink(session: Session, plan: MergePlan, survivor: Reader, other: Reader,
           now: dt.datetime) -> list[dict[str, Any]]:
    """Apply the plan's link actions; return the rows as they were, per library."""
    rows = {link.id: link for link in session.scalars(select(ReaderLink).where(
        ReaderLink.reader_id.in_((survivor.id, other.id))))}
    recorded: list[dict[str, Any]] = []
    for step in plan.links:
        mine = rows[step.survivor_link.id] if step.survivor_link else None
        theirs = rows[step.other_link.id] if step.other_link else None
        if theirs is None or step.action in (LinkAction.KEEP, LinkAction.DROP):
            continue
        recorded.append({"library_id": step.library_id, "action": step.action.value,
                         "survivor": dump(mine) if mine else None, "other": dump(theirs)})
        if step.action is LinkAction.MOVE:
            theirs.reader_id, theirs.updated_at = survivor.id, now
        elif step.action is LinkAction.TAKE:
            assert mine is not None
            patron = dump(theirs)
            _clear(theirs, LinkState.UNLINKED, f"its patron passed to reader {survivor.id} "
                   "in a merge", now)
            session.flush()
            _put(mine, {**patron, "last_error": None}, now)
        elif step.action is LinkAction.CONFLICT:
            assert mine is not None and mine.local_id and theirs.local_id
            candidates = [mine.local_id, theirs.local_id]
            _clear(theirs, LinkState.UNLINKED, f"merged into reader {survivor.id}", now)
            _clear(mine, LinkState.CONFLICT, "two readers were merged and both had a patron "
                   "here; choose one (`readerpass links resolve`)", now)
            mine.candidates = candidates
        # MERGE_LOCAL: the other's row stays linked on the tombstone until the relay
        # has the library merge its patron into the survivor's (relay.deliver).
    session.flush()
    return recorded


def _holder(session: Session, link: ReaderLink, local_id: str) -> int | None:
    return session.scalar(select(ReaderLink.id).where(
        ReaderLink.library_id == link.library_id, ReaderLink.local_id == local_id,
        ReaderLink.id != link.id).limit(1))


def _locked(session: Session, link_id: int) -> ReaderLink | None:
    """Re-read and lock: the relay may just have folded the row's patron in."""
    return session.get(ReaderLink, link_id, with_for_update=True, populate_existing=True)


def _pending(link: ReaderLink, note: str, now: dt.datetime) -> None:
    """Let the relay find or create the reader's patron again."""
    _clear(link, LinkState.PENDING, note, now)


def restore(session: Session, recorded: list[dict[str, Any]], survivor: Reader,
            other: Reader, now: dt.datetime) -> None:
    """Give the restored reader its links back; rows changed since the merge stay
    as they are (the survivor keeps them)."""
    for entry in recorded:
        before_mine, before_theirs = entry["survivor"], entry["other"]
        theirs = _locked(session, before_theirs["id"])
        mine = _locked(session, before_mine["id"]) if before_mine else None
        if theirs is None:
            continue
        action = LinkAction(entry["action"])
        if action is LinkAction.MOVE:
            if theirs.reader_id == survivor.id:
                theirs.reader_id, theirs.updated_at = other.id, now
            continue
        if action is LinkAction.MERGE_LOCAL:
            if theirs.state == LinkState.UNLINKED and theirs.local_id is None:
                _pending(theirs, "its patron was merged at the library; linking anew", now)
            continue
        # TAKE and CONFLICT: the survivor's row is restored only if untouched since.
        assert mine is not None
        wanted = before_theirs["local_id"]
        untouched = (mine.local_id == wanted if action is LinkAction.TAKE else
                     mine.state == LinkState.CONFLICT and mine.local_id is None
                     and sorted(mine.candidates) == sorted([before_mine["local_id"], wanted]))
        if untouched:
            _put(mine, before_mine, now)
            session.flush()
        if _holder(session, theirs, wanted) is None:
            _put(theirs, before_theirs, now)
        else:
            _pending(theirs, f"its patron {wanted} stayed with reader {survivor.id}", now)
        session.flush()
    session.flush()
