"""One relay at a time per library: a lease on the library's adapter row.

Two relays working the same library at once could deliver a reader's items out
of order, or race each other on one local patron. A relay therefore takes the
library's lease before reading its queue, renews it with every chunk of deliveries and
gives it up when the pass ends. The lease has an expiry, so a relay that dies
holding it blocks the library only until then; no transaction stays open
longer than a chunk of deliveries (``run.CHUNK_TIME``).

Taking the lease is one conditional ``UPDATE`` (owner empty, ours, or expired),
atomic on every database. On PostgreSQL and MariaDB the row is first locked with
``SELECT ... FOR UPDATE SKIP LOCKED``: a relay that finds another one in the
middle of a delivery (which holds that row lock) moves on instead of waiting.
SQLite has a single writer, which serialises the ``UPDATE`` by itself.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..models import LibraryAdapterConfig

_ROW = LibraryAdapterConfig


def new_owner() -> str:
    """A name for one relay pass, unique across processes and machines."""
    return f"relay-{uuid.uuid4().hex}"


def acquire(session: Session, library_id: int, owner: str, now: dt.datetime,
            ttl: dt.timedelta) -> bool:
    """Take (or renew) the lease for ``owner``; False when another relay holds it."""
    if session.get_bind().dialect.name != "sqlite":
        locked = session.scalar(select(_ROW.library_id).where(_ROW.library_id == library_id)
                                .with_for_update(skip_locked=True))
        if locked is None:
            return False
    taken = session.execute(
        update(_ROW)
        .where(_ROW.library_id == library_id,
               or_(_ROW.lease_owner.is_(None), _ROW.lease_owner == owner,
                   _ROW.lease_until.is_(None), _ROW.lease_until <= now))
        .values(lease_owner=owner, lease_until=now + ttl)
        .execution_options(synchronize_session=False))
    session.expire_all()
    return bool(getattr(taken, "rowcount", 0) == 1)


def holds(switches: LibraryAdapterConfig, owner: str, now: dt.datetime) -> bool:
    """Whether ``owner`` still holds the lease (checked inside each delivery)."""
    return (switches.lease_owner == owner and switches.lease_until is not None
            and switches.lease_until > now)


def release(session: Session, library_id: int, owner: str) -> None:
    session.execute(
        update(_ROW).where(_ROW.library_id == library_id, _ROW.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False))
