"""Per-process, short-lived copies of what every token request reads.

The token, introspection and userinfo endpoints read the same few rows on each
request: the calling client's registration and the verdict on a presented access
token (revoked? client removed? grant or session ended?). Reading them from the
database each time cost more than all the rest of a request, so each worker keeps
them for :data:`TTL_SECONDS`.

What bounds a stale answer (the security properties stay those of the database):

- A commit in this process that changes a client, a library, a signing key, a
  login session or a grant, or revokes an access token, empties the caches at once
  (ORM events on the context's session factory; bulk UPDATEs included).
- A change committed by another process (another worker, the CLI) is seen within
  :data:`TTL_SECONDS`, or at once where ``readerpass serve`` listens for
  PostgreSQL notifications (:mod:`idp.oidc.changes`).
- A token's own lifetime is checked on every use, cached or not.

An answer read from the database is not cached when the caches were emptied
while it was read (the generation check in :meth:`TtlCache.put`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from ..models import (
    Library,
    LoginSession,
    OAuthClient,
    RevokedAccessToken,
    SessionClient,
    SigningKey,
)

TTL_SECONDS = 1.0
MAX_ENTRIES = 10_000

#: Rows whose insertion can end a cached verdict.
INSERTED = (RevokedAccessToken,)
#: Rows whose change or deletion can end a cached verdict or client.
CHANGED = (OAuthClient, Library, SigningKey, LoginSession, SessionClient, RevokedAccessToken)

_FLAG = "readerpass.oidc.cache-stale"

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A dict whose entries expire; :meth:`clear` also bumps a generation so that
    a value read before the clear is not stored after it."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._max = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[float, V]] = {}
        self.generation = 0

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, key: K, value: V, generation: int) -> None:
        """Store ``value`` read while the cache was at ``generation``."""
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self._max:
                self._entries = {}  # cheaper than LRU bookkeeping; refills within a TTL
            self._entries[key] = (self.clock() + self._ttl, value)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries = {}


class HotCache:
    """The provider's caches and the session hooks that empty them."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.clients: TtlCache[str, Any] = TtlCache(ttl)
        self.tokens: TtlCache[str, Any] = TtlCache(ttl)

    def clear(self) -> None:
        self.clients.clear()
        self.tokens.clear()

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Empty the caches whenever a session of ``sessions`` commits a change
        that could make an entry stale."""
        if not event.contains(sessions, "after_flush", _after_flush):  # once per factory
            event.listen(sessions, "after_flush", _after_flush)
            event.listen(sessions, "do_orm_execute", _orm_execute)
            event.listen(sessions, "after_transaction_end", _transaction_end)
        event.listen(sessions, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.get(_FLAG):
            self.clear()


def touches_cached_rows(session: Session) -> bool:
    """Whether the pending flush of ``session`` would change a cached answer."""
    return (any(isinstance(obj, INSERTED) for obj in session.new)
            or any(isinstance(obj, CHANGED) for obj in session.dirty)
            or any(isinstance(obj, CHANGED) for obj in session.deleted))


def _after_flush(session: Session, _context: Any) -> None:
    # After a flush, new/dirty/deleted still show what was flushed.
    if touches_cached_rows(session):
        session.info[_FLAG] = True


def _transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The flag lives as long as the outermost transaction (its commit has seen it)."""
    if transaction.parent is None:
        session.info.pop(_FLAG, None)


def _orm_execute(state: ORMExecuteState) -> None:
    """Bulk statements (``session.execute(update(...))``) bypass the flush."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    kinds = INSERTED if state.is_insert else CHANGED
    if any(mapper.class_ in kinds for mapper in state.all_mappers):
        state.session.info[_FLAG] = True
