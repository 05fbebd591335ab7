"""The status (lost-card) list as the service keeps it: bits on the card rows, one
version row per change, a head row that serialises versions.

Every change bumps the version and records which indices it revoked or restored,
so a delta from any recent version is the list of changes since, replayed backwards
from the current bits (FORMAT.md §7). Re-signing without changes is a version too
(an empty change): gates refuse data older than their maximum age, and a delta needs
a newer version to exist. Versions older than ``cards.delta_history_seconds`` are
pruned; gates holding one get a 404 and download the full list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cards import StatusList

from ..context import Context
from ..models import Card, CardStatusHead, CardStatusVersion

HEAD_ID = 1
#: The list grows in steps of this many bits, so a new card rarely needs a new version.
GROWTH = 1024
#: A bulk allocation grows it past the need by this many times its own count: an
#: import of thousand-reader batches then publishes a version every 15 batches or
#: so, not every one (each version is a row, a lock of the head and a flush inside
#: the import's serial section, and a list for every gate to fetch).
AHEAD = 15


def head(session: Session) -> CardStatusHead:
    found = session.get(CardStatusHead, HEAD_ID)
    if found is None:
        raise RuntimeError("card_status_head is missing: run `readerpass db upgrade`")
    return found


def lock_head(session: Session, *, shared: bool = False) -> CardStatusHead:
    """The head row, locked until commit (FOR UPDATE, or FOR SHARE when reading a
    consistent snapshot of bits and version on PostgreSQL; SQLite locks the file)."""
    found = session.scalars(
        select(CardStatusHead).where(CardStatusHead.id == HEAD_ID)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)).one_or_none()
    if found is None:
        raise RuntimeError("card_status_head is missing: run `readerpass db upgrade`")
    return found


def allocate_index(session: Session) -> int:
    """The next status-list index: sequential, never reused. Grows the list when
    needed (the growth is published with the caller's version bump)."""
    return allocate_indices(session, 1).start


def allocate_indices(session: Session, count: int) -> range:
    """``count`` consecutive new indices under one lock of the head row (a bulk
    import takes a batch's worth at once); grows the list as :func:`allocate_index`."""
    row = lock_head(session)
    start = row.next_index
    row.next_index += count
    last = row.next_index - 1
    if count and last >= row.size:
        wanted = last + 1 + count * AHEAD
        row.size = -(-wanted // GROWTH) * GROWTH  # whole steps
    return range(start, start + count)


def bump(session: Session, ctx: Context, *, revoke: Iterable[int] = (),
         restore: Iterable[int] = ()) -> int:
    """Record a new version with these changes; return its number."""
    row = lock_head(session)
    row.version += 1
    session.add(CardStatusVersion(version=row.version, issued_at=ctx.now(), size=row.size,
                                  revoked=sorted(set(revoke)), restored=sorted(set(restore))))
    session.flush()
    return row.version


def latest_issued_at(session: Session, version: int) -> dt.datetime | None:
    row = session.get(CardStatusVersion, version)
    return row.issued_at if row is not None else None


def refresh_interval(ctx: Context) -> int:
    """Re-sign every third of the gates' maximum age: two missed runs stay safe."""
    return max(1, ctx.settings.cards.max_age_seconds // 3)


def publish(session: Session, ctx: Context, *, force: bool = False) -> list[str]:
    """Re-sign what is older than :func:`refresh_interval` (or everything with
    ``force``), prune old versions; return what happened. The caller commits."""
    now = ctx.now()
    stale_before = now - dt.timedelta(seconds=refresh_interval(ctx))
    row = head(session)
    done: list[str] = []
    issued = latest_issued_at(session, row.version)
    if force or issued is None or issued <= stale_before or issued > now:
        done.append(f"status list version {bump(session, ctx)}")
    row = lock_head(session)
    trust_at = row.trust_issued_at
    if force or trust_at is None or trust_at <= stale_before or trust_at > now:
        row.trust_issued_at = now
        if row.trust_version == 0:
            row.trust_version = 1
        done.append(f"trust list version {row.trust_version} re-signed")
    keep_after = now - dt.timedelta(seconds=ctx.settings.cards.delta_history_seconds)
    session.execute(delete(CardStatusVersion).where(CardStatusVersion.issued_at < keep_after,
                                                    CardStatusVersion.version < row.version))
    return done


def needs_publication(session: Session, ctx: Context) -> bool:
    row = head(session)
    issued = latest_issued_at(session, row.version)
    limit = ctx.now() - dt.timedelta(seconds=refresh_interval(ctx))
    return (issued is None or issued <= limit or row.trust_issued_at is None
            or row.trust_issued_at <= limit)


def current_list(session: Session, row: CardStatusHead) -> StatusList:
    """The bits at the head's version (read under the head's share lock)."""
    issued = latest_issued_at(session, row.version)
    if issued is None:
        raise RuntimeError("the status list has not been published yet")
    revoked = session.scalars(select(Card.status_index).where(Card.revoked.is_(True)))
    return StatusList.from_indices(row.size, revoked, row.version, int(issued.timestamp()))


def list_at(session: Session, current: StatusList, version: int) -> StatusList | None:
    """The list as it was at ``version``, or None when that history is gone."""
    if not 0 < version < current.version:
        return None
    rows = list(session.scalars(
        select(CardStatusVersion).where(CardStatusVersion.version >= version,
                                        CardStatusVersion.version <= current.version)
        .order_by(CardStatusVersion.version.desc())))
    if len(rows) != current.version - version + 1:
        return None
    base = rows[-1]
    bits = bytearray(current.bits)
    for row in rows[:-1]:  # undo each newer version's changes, newest first
        for index in row.revoked:
            bits[index >> 3] &= ~(1 << (index & 7)) & 0xFF
        for index in row.restored:
            bits[index >> 3] |= 1 << (index & 7)
    del bits[(base.size + 7) // 8:]
    return StatusList(base.size, version, int(base.issued_at.timestamp()), bytes(bits))


def head_version(ctx: Context) -> int:
    with ctx.sessions() as session:
        return head(session).version
