"""Undoing a merge from its record's snapshot.

The other reader comes back as it was (status, attributes, documents, wards,
blocking keys) and takes back the links that moved, with a new card: its old
serials stay revoked, and its sessions, tokens and consents stay ended. The
survivor keeps what changed after the merge: an attribute it took from the other
goes back only if it still holds the value the merge gave it.

Refused: a merge already undone, and one whose survivor has since been merged
into a third reader (undo that later merge first, so that each undo meets the
state its own merge left).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..cardsvc import lifecycle
from ..context import Context
from ..duplicates.keys import refresh_keys
from ..errors import Conflict, NotFound
from ..models import (
    DuplicatePair,
    IdentityDocument,
    KeyKind,
    MatchKey,
    MergeState,
    PairState,
    Reader,
    ReaderMerge,
    Status,
)
from . import audit, merge_links, outbox
from . import merge_snapshot as snap
from .actor import Actor
from .merge import check_reason, lock_reader
from .merge_roles import require_province

EVENT = "reader.unmerge"


def find_merge(session: Session, merge_id: int) -> ReaderMerge:
    record = session.get(ReaderMerge, merge_id)
    if record is None:
        raise NotFound(f"no merge {merge_id}", field="merge")
    return record


def apply_unmerge(session: Session, ctx: Context, merge_id: int, *, actor: Actor,
                  reason: str | None = None) -> ReaderMerge:
    """Undo merge ``merge_id``; the caller commits."""
    require_province(actor, "undo merges")
    reason = check_reason(reason)
    record = find_merge(session, merge_id)
    locked = {reader_id: lock_reader(session, reader_id)
              for reader_id in sorted({record.survivor_id, record.other_id})}
    survivor, other = locked[record.survivor_id], locked[record.other_id]
    session.refresh(record, with_for_update=True)
    _check(session, record, survivor, other)
    data: dict[str, Any] = record.snapshot
    now = ctx.now()
    reverted, kept = [], []
    for attribute in data["taken"]:
        if snap.same(survivor, data["survivor_after"], attribute):
            snap.load(survivor, {column: data["survivor"][column]
                                 for column in snap.COLUMNS[attribute]})
            reverted.append(attribute)
        else:
            kept.append(attribute)
    survivor.updated_at = now
    snap.load(other, data["other"])
    other.merged_into, other.updated_at = None, now
    session.execute(update(IdentityDocument).where(
        IdentityDocument.id.in_(data["documents"]), IdentityDocument.reader_id == survivor.id)
        .values(reader_id=other.id))
    session.expire(survivor, ["documents", "home_library"])
    session.expire(other, ["documents", "home_library"])
    for ward in session.scalars(select(Reader).where(Reader.id.in_(data["wards"]),
                                                     Reader.guardian_id == survivor.id)):
        ward.guardian_id, ward.updated_at = other.id, now
    session.flush()
    merge_links.restore(session, data["links"], survivor, other, now)
    _restore_keys(session, ctx, data["keys"], survivor, other)
    card = (lifecycle.issue_anew(session, ctx, other, actor=actor).serial
            if data["cards"] else None)
    if record.pair_id is not None:
        pair = session.get(DuplicatePair, record.pair_id)
        assert pair is not None
        pair.state, pair.decided_by, pair.decided_at = PairState.UNMERGED.value, str(actor), now
        pair.updated_at = now
    record.state, record.undone_by, record.undone_at = MergeState.UNDONE.value, str(actor), now
    session.flush()
    details = {"merge": record.id, "reverted": reverted, "kept": kept, "card": card}
    audit.record(session, actor, "reader.unmerge", "reader", survivor.id, now=now,
                 reason=reason, details={**details, "other": other.id})
    audit.record(session, actor, "reader.unmerged", "reader", other.id, now=now,
                 reason=reason, details={**details, "survivor": survivor.id})
    outbox.enqueue(session, other, EVENT, now=now)
    outbox.enqueue(session, survivor, EVENT, now=now)
    session.flush()
    return record


def _check(session: Session, record: ReaderMerge, survivor: Reader, other: Reader) -> None:
    if record.state == MergeState.UNDONE:
        raise Conflict(f"merge {record.id} was already undone by {record.undone_by}",
                       field="merge", code="already_undone")
    if survivor.status == Status.MERGED:
        later = session.scalar(select(ReaderMerge.id).where(
            ReaderMerge.other_id == survivor.id, ReaderMerge.state == MergeState.APPLIED.value)
            .order_by(ReaderMerge.id.desc()).limit(1))
        raise Conflict(f"the survivor {survivor.id} was merged into {survivor.merged_into} "
                       f"later (merge {later}); undo that merge first", field="merge",
                       code="survivor_merged")
    if other.status != Status.MERGED or other.merged_into != survivor.id:
        raise Conflict(f"reader {other.id} is no longer a tombstone of {survivor.id}",
                       field="merge", code="not_a_tombstone")


def _restore_keys(session: Session, ctx: Context, keys: dict[str, list[list[str]]],
                  survivor: Reader, other: Reader) -> None:
    """The other's keys as they were (claimed-document keys cannot be recomputed);
    the survivor loses the claims it only had from the other."""
    claimed = KeyKind.CLAIMED_DOCUMENT.value
    session.execute(delete(MatchKey).where(MatchKey.reader_id == other.id))
    session.add_all(MatchKey(reader_id=other.id, kind=kind, digest=digest)
                    for kind, digest in keys["other"])
    borrowed = ({digest for kind, digest in keys["other"] if kind == claimed}
                - {digest for kind, digest in keys["survivor"] if kind == claimed})
    if borrowed:
        session.execute(delete(MatchKey).where(MatchKey.reader_id == survivor.id,
                                               MatchKey.kind == claimed,
                                               MatchKey.digest.in_(borrowed)))
    session.flush()
    refresh_keys(session, ctx, other)
    refresh_keys(session, ctx, survivor)
