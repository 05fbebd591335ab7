"""Rate limits and lockout counters: a small protocol, in-process or Redis.

Fixed windows keyed by ``ctx.now()``, so tests move a frozen clock instead of
sleeping. In-process counters suit one server; with ``[redis] url`` every
worker and server shares them.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

from ..errors import RateLimited

ADDRESS_WINDOW = 60


class RateLimiter(Protocol):
    def hit(self, key: str, *, window: int, now: dt.datetime) -> int:
        """Count one event for ``key`` in the current window; return the count."""

    def count(self, key: str, *, window: int, now: dt.datetime) -> int:
        """Events for ``key`` in the current window."""

    def reset(self, key: str, *, window: int, now: dt.datetime) -> None:
        """Forget ``key``'s events in the current window."""


def _bucket(key: str, window: int, now: dt.datetime) -> tuple[str, int]:
    start = int(now.timestamp()) // window * window
    return f"{key}@{start}", start


def retry_after(window: int, now: dt.datetime) -> int:
    """Seconds until the current window ends."""
    start = int(now.timestamp()) // window * window
    return max(1, start + window - int(now.timestamp()))


def limit_address(limiter: RateLimiter, kind: str, address: str, *, limit: int,
                  now: dt.datetime) -> None:
    """Count a request of ``kind`` from ``address``; refuse past ``limit`` a minute."""
    if limiter.hit(f"{kind}-addr:{address}", window=ADDRESS_WINDOW, now=now) > limit:
        raise RateLimited("too many attempts from this address; wait a minute",
                          retry_after=retry_after(ADDRESS_WINDOW, now))


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def _prune(self, now: dt.datetime) -> None:
        if len(self._counts) > 100_000:
            cutoff = int(now.timestamp()) - 86400
            self._counts = {k: v for k, v in self._counts.items() if v[1] >= cutoff}

    def hit(self, key: str, *, window: int, now: dt.datetime) -> int:
        bucket, start = _bucket(key, window, now)
        with self._lock:
            self._prune(now)
            count = self._counts.get(bucket, (0, start))[0] + 1
            self._counts[bucket] = (count, start)
            return count

    def count(self, key: str, *, window: int, now: dt.datetime) -> int:
        bucket, _ = _bucket(key, window, now)
        with self._lock:
            return self._counts.get(bucket, (0, 0))[0]

    def reset(self, key: str, *, window: int, now: dt.datetime) -> None:
        bucket, _ = _bucket(key, window, now)
        with self._lock:
            self._counts.pop(bucket, None)


class RedisRateLimiter:
    def __init__(self, url: str, *, prefix: str = "readerpass:rl:"):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def hit(self, key: str, *, window: int, now: dt.datetime) -> int:
        bucket, _ = _bucket(self._prefix + key, window, now)
        pipe = self._redis.pipeline()
        pipe.incr(bucket)
        pipe.expire(bucket, window * 2)
        count, _ = pipe.execute()
        return int(count)

    def count(self, key: str, *, window: int, now: dt.datetime) -> int:
        bucket, _ = _bucket(self._prefix + key, window, now)
        value = self._redis.get(bucket)
        return int(value) if value is not None else 0

    def reset(self, key: str, *, window: int, now: dt.datetime) -> None:
        bucket, _ = _bucket(self._prefix + key, window, now)
        self._redis.delete(bucket)


def make_limiter(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
