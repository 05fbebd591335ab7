"""Applying a merge, in the caller's one transaction (DESIGN "Duplicates and merge").

The other reader becomes a tombstone of the survivor: status ``merged``,
``merged_into`` set, no mobile, password, documents or keys; its reader id and
card number keep resolving to the survivor (``lookup.find_reader``). The
survivor takes the attributes the rules give it, the other's documents, wards
and links; the other's sessions, tokens, consents and cards end; each affected
library gets one outbox event; the merge record keeps the plan, the evidence and
the snapshot unmerge restores from.

Both reader rows are locked in id order before anything is read for the plan,
so two merges that share a reader run one after the other, and the second sees
the first's tombstone and is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..cardsvc import lifecycle
from ..context import Context
from ..duplicates.keys import drop_keys, refresh_keys
from ..errors import InvalidInput, NotFound
from ..models import (
    DuplicatePair,
    IdentityDocument,
    KeyKind,
    MergeState,
    PairState,
    Reader,
    ReaderMerge,
    Status,
)
from ..oidc.reader_access import end_all_access
from . import audit, merge_links, outbox
from . import merge_snapshot as snap
from .actor import Actor
from .lookup import find_reader
from .merge_plan import MergePlan, plan_for
from .merge_roles import require_province

EVENT = "reader.merge"


def lock_readers(session: Session, first_ref: str, second_ref: str) -> tuple[Reader, Reader]:
    """Both readers, row-locked (FOR UPDATE on PostgreSQL) in id order, re-read."""
    first = find_reader(session, first_ref, follow=False).id
    second = find_reader(session, second_ref, follow=False).id
    locked = {reader_id: lock_reader(session, reader_id) for reader_id in
              sorted({first, second})}
    return locked[first], locked[second]


def lock_reader(session: Session, reader_id: str) -> Reader:
    return session.scalars(
        select(Reader).where(Reader.id == reader_id).with_for_update(of=Reader)
        .execution_options(populate_existing=True)).one()


def check_reason(reason: str | None) -> str | None:
    if reason is not None:
        reason = reason.strip() or None
    if reason is not None and len(reason) > 500:
        raise InvalidInput("must be at most 500 characters", field="reason")
    return reason


def apply_merge(session: Session, ctx: Context, survivor_ref: str, other_ref: str, *,
                actor: Actor, reason: str | None = None,
                pair_id: int | None = None) -> ReaderMerge:
    """Merge ``other_ref`` into ``survivor_ref``; the caller commits."""
    require_province(actor, "apply merges")
    reason = check_reason(reason)
    survivor, other = lock_readers(session, survivor_ref, other_ref)
    plan = plan_for(session, ctx, survivor, other)
    pair = _pair(session, plan, pair_id)
    now = ctx.now()
    taken = plan.taken()
    snapshot: dict[str, Any] = {
        "format": snap.FORMAT,
        "taken": taken,
        "other": snap.dump(other, snap.OTHER_COLUMNS),
        "survivor": snap.dump(survivor, snap.taken_columns(taken)),
        "documents": [document.id for document in plan.documents],
        "wards": list(plan.wards),
        "keys": {"other": snap.keys_of(session, other.id),
                 "survivor": snap.keys_of(session, survivor.id)},
    }
    _take(plan, survivor, other)
    survivor.updated_at = now
    snapshot["survivor_after"] = snap.dump(survivor, snap.taken_columns(taken))
    _move_documents(session, plan, survivor, other)
    for ward in session.scalars(select(Reader).where(Reader.id.in_(plan.wards))):
        ward.guardian_id, ward.updated_at = survivor.id, now
    snapshot["links"] = merge_links.relink(session, plan, survivor, other, now)
    _tombstone(other, survivor, now)
    session.flush()
    ended = end_all_access(session, ctx, other.id, actor=actor)
    snapshot["cards"] = lifecycle.cancel_all(session, ctx, other, actor=actor,
                                             reason=f"merged into reader {survivor.id}")
    claimed = [digest for kind, digest in snapshot["keys"]["other"]
               if kind == KeyKind.CLAIMED_DOCUMENT]
    drop_keys(session, other.id)
    refresh_keys(session, ctx, survivor, claimed_documents=claimed)
    evidence = _evidence(plan, pair, reason)
    if pair is not None:
        pair.state, pair.decided_by, pair.decided_at = PairState.MERGED.value, str(actor), now
        pair.updated_at = now
    record = ReaderMerge(
        survivor_id=survivor.id, other_id=other.id, pair_id=pair.id if pair else None,
        plan=plan.to_json(), snapshot=snapshot, evidence=evidence,
        state=MergeState.APPLIED.value, applied_by=str(actor), applied_at=now)
    session.add(record)
    session.flush()
    details = {"merge": record.id, "taken": taken, "libraries": list(plan.notified),
               "cards_cancelled": snapshot["cards"], "access_ended": ended.to_json()}
    audit.record(session, actor, "reader.merge", "reader", survivor.id, now=now, reason=reason,
                 details={**details, "other": other.id, "evidence": evidence})
    audit.record(session, actor, "reader.merged", "reader", other.id, now=now, reason=reason,
                 details={"merge": record.id, "survivor": survivor.id})
    session.flush()
    # The outbox items come last: the relay may pick them up the moment we commit,
    # and they name the survivor as it now is.
    for step in plan.links:
        if step.notified:
            outbox.add_item(session, step.library_id, survivor.id, EVENT, now)
    session.flush()
    return record


def _pair(session: Session, plan: MergePlan, pair_id: int | None) -> DuplicatePair | None:
    if pair_id is None:
        return session.get(DuplicatePair, plan.pair.id) if plan.pair else None
    pair = session.get(DuplicatePair, pair_id)
    if pair is None:
        raise NotFound(f"no duplicate pair {pair_id}", field="pair_id")
    if {pair.reader_a, pair.reader_b} != {plan.survivor.id, plan.other.id}:
        raise InvalidInput(f"pair {pair_id} is about readers {pair.reader_a} and "
                           f"{pair.reader_b}, not these two", field="pair_id")
    return pair


def _evidence(plan: MergePlan, pair: DuplicatePair | None, reason: str | None) -> dict[str, Any]:
    """Why these two were merged: the operator's reason, and the duplicate pair's
    score and explanation when the merge came from the review queue."""
    found: dict[str, Any] = {"reason": reason, "survivor_because": plan.why, "pair": None}
    if pair is not None:
        found["pair"] = {"id": pair.id, "score": pair.score, "auto_merge": pair.auto_merge,
                         "source": pair.source, "explanation": pair.explanation,
                         "proposed_by": pair.proposed_by, "state_before": pair.state}
    return found


def _take(plan: MergePlan, survivor: Reader, other: Reader) -> None:
    """Copy the attributes the survivor takes from the other."""
    for choice in plan.choices:
        if choice.source != "other":
            continue
        if choice.attribute == "assurance":
            assert choice.other is not None
            survivor.assurance = choice.other
        elif choice.attribute == "home_library":
            survivor.home_library = other.home_library
        else:
            for column in snap.COLUMNS[choice.attribute]:
                setattr(survivor, column, getattr(other, column))


def _move_documents(session: Session, plan: MergePlan, survivor: Reader,
                    other: Reader) -> None:
    ids = [document.id for document in plan.documents]
    if ids:
        session.execute(update(IdentityDocument).where(IdentityDocument.id.in_(ids))
                        .values(reader_id=survivor.id))
    session.expire(survivor, ["documents"])
    session.expire(other, ["documents"])


def _tombstone(other: Reader, survivor: Reader, now: dt.datetime) -> None:
    """What stays of the other reader: its ids, names and dates for the record; no
    number to find it by and no password to sign in with."""
    other.status = Status.MERGED.value
    other.merged_into = survivor.id
    other.mobile_enc = other.mobile_hash = None
    other.mobile_verified_at = None
    other.password_hash = None
    other.updated_at = now


def list_merges(session: Session, reader_id: str | None = None, *,
                limit: int = 50) -> list[ReaderMerge]:
    """Newest first; with ``reader_id``, the merges it took part in either way."""
    query = select(ReaderMerge).order_by(ReaderMerge.id.desc()).limit(limit)
    if reader_id is not None:
        query = query.where((ReaderMerge.survivor_id == reader_id)
                            | (ReaderMerge.other_id == reader_id))
    return list(session.scalars(query))


def merge_view(record: ReaderMerge) -> dict[str, Any]:
    """A merge as staff see it (the snapshot stays inside: it holds ciphertexts)."""
    return {
        "id": record.id, "survivor_id": record.survivor_id, "other_id": record.other_id,
        "pair_id": record.pair_id, "state": record.state, "applied_by": record.applied_by,
        "applied_at": record.applied_at.isoformat(), "undone_by": record.undone_by,
        "undone_at": record.undone_at.isoformat() if record.undone_at else None,
        "plan": record.plan, "evidence": record.evidence,
    }
