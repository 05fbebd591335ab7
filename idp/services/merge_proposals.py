"""Staff proposing a merge for review: the duplicate pair of the two readers
(made, or found in the queue) records who proposed it and why; an administrator
then applies it with ``apply_merge(..., pair_id=...)``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..duplicates.online import score_pair
from ..errors import Conflict
from ..models import DuplicatePair, PairState
from . import audit
from .actor import Actor
from .lookup import find_reader
from .merge import check_reason
from .merge_plan import facts
from .merge_roles import require_reach
from .merge_rules import check_mergeable

#: The review queue tells a pair a person proposed by its source.
SOURCE = "staff"


def propose_merge(session: Session, ctx: Context, first_ref: str, second_ref: str, *,
                  actor: Actor, reason: str | None = None) -> DuplicatePair:
    reason = check_reason(reason)
    first = find_reader(session, first_ref, follow=False)
    second = find_reader(session, second_ref, follow=False)
    require_reach(session, actor, (first, second))
    check_mergeable(facts(first), facts(second))
    low, high = sorted((first.id, second.id))
    now = ctx.now()
    pair = session.scalar(select(DuplicatePair).where(
        DuplicatePair.reader_a == low, DuplicatePair.reader_b == high).with_for_update())
    if pair is None:
        # Scored like any candidate, so the queue ranks it with the others.
        verdict = score_pair(session, ctx, low, high)
        pair = DuplicatePair(reader_a=low, reader_b=high, score=verdict.score,
                             auto_merge=verdict.auto_merge, explanation=verdict.explanation,
                             source=SOURCE, state=PairState.OPEN.value,
                             created_at=now, updated_at=now)
        session.add(pair)
    elif pair.state != PairState.OPEN:
        raise Conflict(f"these readers were already judged ({pair.state} by "
                       f"{pair.decided_by}); they are not proposed again", field="pair",
                       code="pair_decided")
    pair.proposed_by, pair.updated_at = str(actor), now
    pair.reason = reason or pair.reason
    session.flush()
    audit.record(session, actor, "duplicate.propose", "duplicate_pair", str(pair.id), now=now,
                 reason=reason, details={"readers": [low, high]})
    return pair


def pair_view(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.id, "reader_a": pair.reader_a, "reader_b": pair.reader_b,
        "score": pair.score, "auto_merge": pair.auto_merge, "source": pair.source,
        "state": pair.state, "proposed_by": pair.proposed_by, "reason": pair.reason,
        "decided_by": pair.decided_by,
        "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
        "created_at": pair.created_at.isoformat(), "updated_at": pair.updated_at.isoformat(),
    }
