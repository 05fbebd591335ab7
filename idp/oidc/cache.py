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
  :data:`TTL_SECONDS`.
- A token's own lifetime is checked on every use, cached or not.

Longer-lived caches of tokens that belong to no reader session (the card service's
gate tokens) subscribe with :meth:`HotCache.on_client_change`: they are emptied by
the commits that can end such a token (a revocation, a changed or removed client,
library or signing key), not by every sign-out.

An answer read from the database is not cached when the caches were emptied
while it was read (the generation check in :meth:`TtlCache.put`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
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
#: Of those, the ones that can end a token issued outside any reader session.
CLIENT_CHANGED = (OAuthClient, Library, SigningKey, RevokedAccessToken)

#: session.info key: the set of kinds of change the transaction made (``_ANY``,
#: and ``_CLIENT`` when it can end a client_credentials token).
_FLAG = "readerpass.oidc.cache-stale"
_ANY, _CLIENT = "any", "client"

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
        self._client_watchers: list[Callable[[], None]] = []

    def clear(self, *, clients_changed: bool = True) -> None:
        self.clients.clear()
        self.tokens.clear()
        if clients_changed:
            for watcher in self._client_watchers:
                watcher()

    def on_client_change(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher`` after a commit that may end a token of no reader session."""
        self._client_watchers.append(watcher)

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Empty the caches whenever a session of ``sessions`` commits a change
        that could make an entry stale."""
        # Not guarded by ``event.contains``: SQLAlchemy keys it on the factory's
        # address, which a new factory can share with a freed one, and it would then
        # answer that hooks are set which are not. Watching a factory twice (two apps
        # on one context) runs these hooks twice, which changes nothing.
        event.listen(sessions, "after_flush", _after_flush)
        event.listen(sessions, "do_orm_execute", _orm_execute)
        event.listen(sessions, "after_transaction_end", _transaction_end)
        event.listen(sessions, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        kinds = session.info.get(_FLAG)
        if kinds:
            self.clear(clients_changed=_CLIENT in kinds)


def _kinds(new: Iterable[object], changed: Iterable[object]) -> set[str]:
    """What flushing these new and changed (or deleted) objects may make stale."""
    if any(isinstance(obj, INSERTED) for obj in new):
        return {_ANY, _CLIENT}
    kinds: set[str] = set()
    for obj in changed:
        if isinstance(obj, CLIENT_CHANGED):  # a subset of CHANGED
            return {_ANY, _CLIENT}
        if isinstance(obj, CHANGED):
            kinds.add(_ANY)
    return kinds


def touches_cached_rows(session: Session) -> bool:
    """Whether the pending flush of ``session`` would change a cached answer."""
    return bool(_kinds(session.new, [*session.dirty, *session.deleted]))


def _mark(session: Session, kinds: set[str]) -> None:
    if kinds:
        session.info.setdefault(_FLAG, set()).update(kinds)


def _after_flush(session: Session, _context: Any) -> None:
    # After a flush, new/dirty/deleted still show what was flushed.
    _mark(session, _kinds(session.new, [*session.dirty, *session.deleted]))


def _transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """The flag lives as long as the outermost transaction (its commit has seen it)."""
    if transaction.parent is None:
        session.info.pop(_FLAG, None)


def _orm_execute(state: ORMExecuteState) -> None:
    """Bulk statements (``session.execute(update(...))``) bypass the flush."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    classes = [mapper.class_ for mapper in state.all_mappers]
    if state.is_insert:
        touched = {_ANY, _CLIENT} if any(c in INSERTED for c in classes) else set()
    else:
        touched = {_ANY} if any(c in CHANGED for c in classes) else set()
        if any(c in CLIENT_CHANGED for c in classes):
            touched.add(_CLIENT)
    _mark(state.session, touched)
