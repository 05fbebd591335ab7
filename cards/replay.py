"""Replay caches: a token is admitted once per (card serial, issued-at).

The key is the decoded (serial, issued_at) pair, never the signature bytes: ECDSA
signatures are malleable ((r, s) and (r, n - s) both verify), so a cache keyed on them
would let a copied token through twice. An entry lives until the token can no longer
pass the expiry check (``expires_at + skew``), then it is forgotten.

:func:`cards.verify.verify` calls :meth:`ReplayCache.first_use` only after every other
check passed, so forged or expired tokens never occupy cache space.
"""

from __future__ import annotations

import heapq
import threading
from typing import Any, Protocol

from cards.token import serial_to_text


class ReplayCache(Protocol):
    def first_use(self, serial: bytes, issued_at: int, keep_until: int, now: int) -> bool:
        """Record the use; True the first time, False for a replay.

        ``keep_until`` is the last second at which the token could still verify.
        """
        ...


class MemoryReplayCache:
    """In-process cache for one gate: a dict plus a min-heap of expiry times.

    Memory is bounded by ``max_entries``. When full, the entry closest to expiry is
    dropped first: it is the one whose replay window is shortest.
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: dict[tuple[bytes, int], int] = {}
        self._expiry: list[tuple[int, bytes, int]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def _purge(self, now: int) -> None:
        while self._expiry and self._expiry[0][0] < now:
            _, serial, issued_at = heapq.heappop(self._expiry)
            self._entries.pop((serial, issued_at), None)

    def first_use(self, serial: bytes, issued_at: int, keep_until: int, now: int) -> bool:
        self._purge(now)
        key = (serial, issued_at)
        if key in self._entries:
            return False
        if len(self._entries) >= self.max_entries:
            _, old_serial, old_issued_at = heapq.heappop(self._expiry)
            del self._entries[(old_serial, old_issued_at)]
        self._entries[key] = keep_until
        heapq.heappush(self._expiry, (keep_until, serial, issued_at))
        return True


class RedisLike(Protocol):
    """The one Redis command we need (``redis.Redis.set``), so tests and gates can inject."""

    def set(self, name: str, value: str, *, ex: int | None = None, nx: bool = False) -> object: ...


class RedisReplayCache:
    """Cache shared by a library's gates: ``SET key 1 NX EX ttl`` is atomic in Redis.

    The TTL is computed from the gate's ``now`` rather than Redis's clock, so it is the
    same window the gate's own expiry check uses. Keys: ``{prefix}{serial}:{issued_at}``.
    """

    def __init__(self, client: RedisLike, prefix: str = "readerpass:replay:") -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = "readerpass:replay:") -> RedisReplayCache:
        return cls(ThreadClients(url), prefix)

    def first_use(self, serial: bytes, issued_at: int, keep_until: int, now: int) -> bool:
        ttl = max(1, keep_until - now + 1)
        key = f"{self.prefix}{serial_to_text(serial)}:{issued_at}"
        return bool(self.client.set(key, "1", ex=ttl, nx=True))


class ThreadClients:
    """``SET`` sent and read on one Redis connection per thread.

    The client's command path (argument handling, the connection lock and pool
    bookkeeping, the retry wrapper) costs about as much CPU as the send and the
    read themselves for a command this small, so the command goes to the
    connection directly. A connection must not be shared between threads: each
    thread has its own, made on its first command (after any fork). A command that
    meets a broken connection (Redis restarted, or closed an idle client) is sent
    once more on a new one, as the client's own retry would; a second failure is
    raised, so a cache that cannot be reached refuses rather than admits.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def connection(self) -> Any:
        found = getattr(self._local, "connection", None)
        if found is None:
            import redis  # imported here so gates without Redis never load the client

            found = self._local.connection = redis.ConnectionPool.from_url(
                self.url).make_connection()
        return found

    def set(self, name: str, value: str, *, ex: int | None = None, nx: bool = False) -> object:
        import redis

        command = ("SET", name, value, *(("EX", ex) if ex is not None else ()),
                   *(("NX",) if nx else ()))
        connection = self.connection()
        try:
            connection.send_command(*command)
            return connection.read_response()
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            connection.send_command(*command)
            return connection.read_response()
