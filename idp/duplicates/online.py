"""Checking new readers as they arrive (registration, import) against everyone else.

The same blocking and model as the batch scan, restricted to the blocks of the
new readers: an index look-up per key, so the cost does not grow with the number
of readers. The parameters are the newest full scan's (or the configured ones,
or the documented defaults before any scan).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..context import Context
from ..models import MatchKey, Reader
from . import queue
from .engine import find_pairs
from .features import Record
from .keys import refresh_keys
from .model import MatchModel
from .parameters import DEFAULT_PARAMETERS, Parameters
from .scan import configured_parameters, latest_parameters, records_of


def parameters_for(session: Session, ctx: Context) -> Parameters:
    """The parameters online checks score with (one indexed read of the newest scan)."""
    return configured_parameters(ctx) or latest_parameters(session) or DEFAULT_PARAMETERS


def check(session: Session, ctx: Context, reader: Reader, *, source: str) -> list[
    queue.Candidate
]:
    """Store the reader's keys, then queue its likely duplicates; returns them."""
    refresh_keys(session, ctx, reader)
    if not ctx.settings.duplicates.check_online:
        return []
    return check_ids(session, ctx, [reader.id], source=source)


def check_ids(session: Session, ctx: Context, reader_ids: Sequence[str], *, source: str) -> (
    list[queue.Candidate]
):
    """Queue the likely duplicates of readers whose keys are stored; returns them."""
    settings = ctx.settings.duplicates
    new_ids = set(reader_ids)
    if not new_ids:
        return []
    session.flush()
    own = select(MatchKey.digest).where(MatchKey.reader_id.in_(new_ids))
    sizes = dict(session.execute(
        select(MatchKey.digest, func.count()).where(MatchKey.digest.in_(own))
        .group_by(MatchKey.digest)).all())
    shared = [digest for digest, size in sizes.items() if size > 1]
    if not shared:
        return []
    rows = session.execute(select(MatchKey.kind, MatchKey.digest, MatchKey.reader_id)
                           .where(MatchKey.digest.in_(shared))).all()
    records: list[Record] = list(records_of(session, {reader_id for _, _, reader_id in rows}))
    index = {record.reader_id: i for i, record in enumerate(records)}
    keys = [(kind, digest, index[rid]) for kind, digest, rid in rows if rid in index]
    # The few records here say nothing about how common a name is: no frequencies.
    result = find_pairs(records, keys, parameters_for(session, ctx),
                        max_block=settings.max_block, review_threshold=settings.review_threshold,
                        name_frequencies=False)
    found = []
    for pair in result.pairs:
        left, right = records[pair.first].reader_id, records[pair.second].reader_id
        if left in new_ids or right in new_ids:
            found.append(queue.Candidate.of(left, right, pair.match.weight,
                                            pair.match.auto_merge, pair.match.explanation))
    if found:
        try:
            with session.begin_nested():
                queue.record(session, found, source=source, now=ctx.now())
        except IntegrityError:
            pass  # a concurrent check or scan queued the same pair first
    return found


def score_pair(session: Session, ctx: Context, first: str, second: str) -> queue.Candidate:
    """The model's verdict on two given readers (a pair staff propose), key or no key."""
    records = {record.reader_id: record for record in records_of(session, {first, second})}
    if first not in records or second not in records:
        return queue.Candidate.of(first, second, 0.0, False, {"unscored": "a merged reader"})
    match = MatchModel(parameters_for(session, ctx)).match(records[first], records[second])
    return queue.Candidate.of(first, second, match.weight, match.auto_merge, match.explanation)
