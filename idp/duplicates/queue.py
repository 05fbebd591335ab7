"""The review queue: candidate pairs, ranked by score, and the decisions on them.

A pair is stored once, readers in id order. A decision is final for the pair:
"not the same person" (dismissed) and undone merges (unmerged) are never proposed
again, whatever later scans find; an open pair is re-scored in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound
from ..models import DuplicatePair, PairState
from ..services import audit
from ..services.actor import Actor

#: States that end a pair's life in the queue.
DECIDED = frozenset({PairState.DISMISSED, PairState.MERGED, PairState.UNMERGED})


@dataclass(frozen=True)
class Candidate:
    """A scored pair as the match model found it."""

    reader_a: str
    reader_b: str
    score: float
    auto_merge: bool
    explanation: dict[str, Any]

    @classmethod
    def of(cls, left: str, right: str, score: float, auto_merge: bool,
           explanation: dict[str, Any]) -> Candidate:
        a, b = sorted((left, right))
        return cls(a, b, round(score, 3), auto_merge, explanation)


def _existing(session: Session, keys: Sequence[tuple[str, str]]) -> dict[
    tuple[str, str], DuplicatePair
]:
    found: dict[tuple[str, str], DuplicatePair] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for pair in session.scalars(select(DuplicatePair).where(
                tuple_(DuplicatePair.reader_a, DuplicatePair.reader_b).in_(chunk))):
            found[(pair.reader_a, pair.reader_b)] = pair
    return found


def record(session: Session, candidates: Iterable[Candidate], *, source: str,
           now: dt.datetime) -> dict[str, int]:
    """Store what the model found; returns counts (new, rescored, decided_before)."""
    wanted = {(c.reader_a, c.reader_b): c for c in candidates}
    existing = _existing(session, list(wanted))
    counts = {"new": 0, "rescored": 0, "decided_before": 0}
    fresh = []
    for key, candidate in wanted.items():
        pair = existing.get(key)
        if pair is None:
            fresh.append({
                "reader_a": candidate.reader_a, "reader_b": candidate.reader_b,
                "score": candidate.score, "auto_merge": candidate.auto_merge,
                "explanation": candidate.explanation, "source": source,
                "state": PairState.OPEN.value, "created_at": now, "updated_at": now})
            counts["new"] += 1
        elif pair.state in DECIDED:
            counts["decided_before"] += 1
        elif (pair.score, pair.auto_merge) != (candidate.score, candidate.auto_merge):
            pair.score, pair.auto_merge = candidate.score, candidate.auto_merge
            pair.explanation, pair.updated_at = candidate.explanation, now
            counts["rescored"] += 1
    if fresh:
        session.execute(insert(DuplicatePair), fresh)
    return counts


def get_pair(session: Session, pair_id: int) -> DuplicatePair:
    pair = session.get(DuplicatePair, pair_id)
    if pair is None:
        raise NotFound(f"no candidate pair has the id {pair_id}", field="pair")
    return pair


def pair_of(session: Session, left: str, right: str) -> DuplicatePair | None:
    a, b = sorted((left, right))
    return session.scalar(select(DuplicatePair).where(DuplicatePair.reader_a == a,
                                                      DuplicatePair.reader_b == b))


def list_pairs(session: Session, *, state: PairState | None = PairState.OPEN,
               reader: str | None = None, auto_only: bool = False,
               after: tuple[float, int] | None = None, limit: int = 100) -> Sequence[
    DuplicatePair
]:
    """Pairs by descending score (then id); ``after`` is the last (score, id) seen."""
    query = select(DuplicatePair)
    if state is not None:
        query = query.where(DuplicatePair.state == state.value)
    if reader is not None:
        query = query.where(or_(DuplicatePair.reader_a == reader,
                                DuplicatePair.reader_b == reader))
    if auto_only:
        query = query.where(DuplicatePair.auto_merge.is_(True))
    if after is not None:
        score, last_id = after
        query = query.where(or_(DuplicatePair.score < score,
                                and_(DuplicatePair.score == score, DuplicatePair.id > last_id)))
    return session.scalars(query.order_by(DuplicatePair.score.desc(), DuplicatePair.id)
                           .limit(limit)).all()


def dismiss(session: Session, pair: DuplicatePair, *, actor: Actor, reason: str | None,
            now: dt.datetime) -> DuplicatePair:
    """Record "not the same person": the pair is never proposed again."""
    if pair.state != PairState.OPEN:
        raise Conflict(f"the pair is {pair.state}, not open", field="pair", code="pair_decided")
    pair.state, pair.decided_by, pair.decided_at = PairState.DISMISSED.value, str(actor), now
    pair.reason, pair.updated_at = reason, now
    audit.record(session, actor, "duplicates.dismiss", "duplicate_pair", str(pair.id), now=now,
                 reason=reason, details={"readers": [pair.reader_a, pair.reader_b],
                                         "score": pair.score})
    return pair
