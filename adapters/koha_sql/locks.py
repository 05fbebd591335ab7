"""MariaDB named locks around Koha's application-level uniqueness checks.

Koha enforces unique extended attributes in Perl, not with an index, so two
writers must not both check-then-insert the same value at once. ``GET_LOCK`` is
server-wide, hence shared by every process and host talking to the database,
and is freed by the server when the holding session dies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from adapters.errors import Unavailable
from adapters.koha_sql.errors import NAME

_GET_LOCK = text("SELECT GET_LOCK(:n, :t)")
_RELEASE_LOCK = text("SELECT RELEASE_LOCK(:n)")


@contextmanager
def named_lock(engine: Engine, timeout: int, name: str) -> Iterator[Connection]:
    """A connection holding the named lock until the block ends.

    The lock is taken and released outside the work's transaction, so the next
    holder's first read already sees the previous holder's commit. Work the
    block does not commit is rolled back before the lock is released.
    """
    with engine.connect() as conn:
        got = conn.execute(_GET_LOCK, {"n": name, "t": timeout}).scalar()
        conn.commit()
        if got != 1:
            raise Unavailable("timed out waiting for a patron lock", backend=NAME)
        try:
            yield conn
        finally:
            conn.rollback()
            try:
                conn.execute(_RELEASE_LOCK, {"n": name})
                conn.commit()
            except DBAPIError:
                conn.invalidate()  # the server frees a dead session's locks itself
