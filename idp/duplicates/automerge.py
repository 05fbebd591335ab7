"""Applying the merges the decision rule allows without review.

Only open pairs marked ``auto_merge`` (an equal valid resident-ID hash, agreeing
names, no contradicting birth date) are applied, each in its own transaction
through the ordinary merge, so each gets its plan, snapshot and audit event and
can be undone. The survivor follows the merge rule (assurance, then age). A pair
that can no longer be merged (a reader merged meanwhile, a guardian and child)
is left open for a person and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..context import Context
from ..errors import ReaderPassError
from ..models import DuplicatePair, PairState, Reader
from ..services.actor import Actor
from ..services.merge import apply_merge
from ..services.merge_plan import facts
from ..services.merge_rules import survivor_rank


@dataclass
class AutoMergeReport:
    merged: list[int] = field(default_factory=list)  # merge record ids
    left_open: list[tuple[int, str]] = field(default_factory=list)  # (pair id, why)


def apply_auto_merges(ctx: Context, *, actor: Actor, limit: int | None = None) -> AutoMergeReport:
    report = AutoMergeReport()
    with ctx.transaction() as session:
        query = (select(DuplicatePair.id).where(DuplicatePair.state == PairState.OPEN.value,
                                               DuplicatePair.auto_merge.is_(True))
                 .order_by(DuplicatePair.score.desc(), DuplicatePair.id))
        pair_ids = list(session.scalars(query.limit(limit) if limit else query))
    for pair_id in pair_ids:
        try:
            with ctx.transaction() as session:
                pair = session.get(DuplicatePair, pair_id)
                if pair is None or pair.state != PairState.OPEN:
                    continue
                readers = [session.get(Reader, rid) for rid in (pair.reader_a, pair.reader_b)]
                if None in readers:
                    continue
                survivor, other = sorted((facts(r) for r in readers if r is not None),
                                         key=survivor_rank)
                record = apply_merge(session, ctx, survivor.id, other.id, actor=actor,
                                     reason="automatic: equal resident ID and agreeing names",
                                     pair_id=pair_id)
                session.flush()
                report.merged.append(record.id)
        except ReaderPassError as exc:
            report.left_open.append((pair_id, exc.message))
    return report
