"""Replay caches: in-process (bounded, expiring) and Redis-backed (shared between gates)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from cards import MemoryReplayCache, RedisReplayCache, ReplayCache, serial_to_text
from cards.replay import ThreadClients

from .conftest import NOW

SERIAL = bytes(10)


def test_memory_cache_admits_once_until_the_entry_expires() -> None:
    cache = MemoryReplayCache()
    assert cache.first_use(SERIAL, NOW, keep_until=NOW + 89, now=NOW)
    assert not cache.first_use(SERIAL, NOW, keep_until=NOW + 89, now=NOW + 89)
    assert cache.first_use(SERIAL, NOW + 60, keep_until=NOW + 149, now=NOW + 60)
    # after keep_until the token can no longer verify, so the entry may go
    assert cache.first_use(SERIAL, NOW, keep_until=NOW + 89, now=NOW + 90)
    assert len(cache) == 2


def test_memory_cache_is_bounded_and_drops_the_soonest_expiry_first() -> None:
    cache = MemoryReplayCache(max_entries=3)
    for i, keep in enumerate((NOW + 50, NOW + 10, NOW + 30)):
        assert cache.first_use(bytes([i]) * 10, NOW, keep, NOW)
    assert cache.first_use(b"\x09" * 10, NOW, NOW + 60, NOW)
    assert len(cache) == 3
    assert cache.first_use(b"\x01" * 10, NOW, NOW + 10, NOW)  # the dropped one
    assert not cache.first_use(b"\x00" * 10, NOW, NOW + 50, NOW)
    with pytest.raises(ValueError):
        MemoryReplayCache(max_entries=0)


def test_memory_cache_expires_entries_it_no_longer_needs() -> None:
    cache = MemoryReplayCache()
    for i in range(1000):
        cache.first_use(i.to_bytes(10, "big"), NOW, NOW + 100, NOW)
    cache.first_use(b"\xff" * 10, NOW + 200, NOW + 300, NOW + 200)
    assert len(cache) == 1


class FakeRedis:
    """Records the arguments of SET so the TTL arithmetic can be checked exactly."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None, bool]] = []

    def set(self, name: str, value: str, *, ex: int | None = None, nx: bool = False) -> bool:
        self.calls.append((name, ex, nx))
        return True


def test_redis_cache_fails_closed_when_redis_is_unreachable() -> None:
    cache = RedisReplayCache.from_url("redis://127.0.0.1:1/0", prefix="p:")
    with pytest.raises(redis.ConnectionError):
        cache.first_use(SERIAL, NOW, NOW + 89, NOW)


@pytest.mark.redis
def test_redis_cache_from_url_gives_each_thread_its_own_connection(redis_url: str) -> None:
    cache = RedisReplayCache.from_url(redis_url, prefix="p:")
    assert isinstance(cache.client, ThreadClients) and cache.prefix == "p:"
    here = cache.client.connection()
    with ThreadPoolExecutor(1) as pool:
        there = pool.submit(cache.client.connection).result()
    assert isinstance(here, redis.Connection) and here is cache.client.connection()
    assert there is not here
    here.disconnect()
    there.disconnect()


@pytest.mark.redis
def test_redis_cache_sends_again_on_a_connection_redis_closed(redis_url: str) -> None:
    prefix = f"readerpass-test:{secrets.token_hex(8)}:"
    cache = RedisReplayCache.from_url(redis_url, prefix=prefix)
    connection = cache.client.connection()
    connection.send_command("CLIENT", "ID")
    admin = redis.Redis.from_url(redis_url)
    try:
        assert admin.client_kill_filter(_id=connection.read_response()) == 1
        assert cache.first_use(SERIAL, NOW, NOW + 89, NOW)  # on a new connection
        assert not cache.first_use(SERIAL, NOW, NOW + 89, NOW + 1)
        assert admin.ttl(f"{prefix}{serial_to_text(SERIAL)}:{NOW}") > 0
    finally:
        admin.delete(f"{prefix}{serial_to_text(SERIAL)}:{NOW}")
        admin.close()
        connection.disconnect()


def test_redis_cache_uses_set_nx_with_the_token_window() -> None:
    fake = FakeRedis()
    cache: ReplayCache = RedisReplayCache(fake, prefix="lib42:")
    assert cache.first_use(SERIAL, NOW, keep_until=NOW + 89, now=NOW + 9)
    assert fake.calls == [(f"lib42:AAAAAAAAAAAAAAAA:{NOW}", 81, True)]


@pytest.mark.redis
def test_one_cache_used_by_many_threads_admits_each_token_once(redis_url: str) -> None:
    prefix = f"readerpass-test:{secrets.token_hex(8)}:"
    cache = RedisReplayCache.from_url(redis_url, prefix=prefix)
    serials = [secrets.token_bytes(10) for _ in range(200)]

    def use(serial: bytes) -> bool:
        return cache.first_use(serial, NOW, NOW + 89, NOW)

    try:
        with ThreadPoolExecutor(8) as pool:
            first = list(pool.map(use, serials))
            again = list(pool.map(use, serials))
        assert all(first) and not any(again)
    finally:
        cleanup = redis.Redis.from_url(redis_url)
        cleanup.delete(*(f"{prefix}{serial_to_text(serial)}:{NOW}" for serial in serials))
        cleanup.close()


@pytest.mark.redis
def test_redis_cache_is_shared_between_gates(redis_url: str) -> None:
    prefix = f"readerpass-test:{secrets.token_hex(8)}:"
    client_a, client_b = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    gate_a = RedisReplayCache(client_a, prefix=prefix)
    gate_b = RedisReplayCache(client_b, prefix=prefix)
    serial = secrets.token_bytes(10)
    try:
        assert gate_a.first_use(serial, NOW, NOW + 89, NOW)
        assert not gate_b.first_use(serial, NOW, NOW + 89, NOW + 1)
        assert not gate_a.first_use(serial, NOW, NOW + 89, NOW + 2)
        assert gate_b.first_use(serial, NOW + 60, NOW + 149, NOW + 60)
        ttl = client_a.ttl(f"{prefix}{serial_to_text(serial)}:{NOW}")
        assert 0 < ttl <= 90
    finally:
        client_a.delete(*(f"{prefix}{serial_to_text(serial)}:{at}" for at in (NOW, NOW + 60)))
        client_a.close()
        client_b.close()
