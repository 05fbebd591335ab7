"""Lockout per account and rate limits per address, through the pages, unlocked
by moving the frozen clock; the Redis limiter shares them between two apps."""

from __future__ import annotations

import dataclasses
import secrets
import uuid

import pytest

from idp.app import create_app
from idp.oidc.ratelimit import MemoryRateLimiter, RedisRateLimiter

from ..conftest import START, registration
from .conftest import Browser


def _address() -> str:
    """A fresh client address per test, so Redis counters of other runs never meet."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def _login(app, reader, password, address):
    web = Browser(app)
    web.client.environ_base["REMOTE_ADDR"] = address
    return web.login(reader.card_number, password)


def test_account_locks_after_failures_from_any_address_then_unlocks(app, ctx, clock, reader):
    rules = ctx.settings.oidc
    for _ in range(rules.login_max_failures):
        assert _login(app, reader, "wrong password", _address()).status_code == 401
    locked = _login(app, reader, reader.password, _address())
    assert locked.status_code == 429 and b"locked" in locked.data
    clock.advance(seconds=rules.lockout_seconds - 1)
    assert _login(app, reader, reader.password, _address()).status_code == 429
    clock.advance(seconds=1)
    assert _login(app, reader, reader.password, _address()).status_code == 302


def test_success_resets_the_failure_count(app, ctx, reader):
    for _ in range(ctx.settings.oidc.login_max_failures - 1):
        _login(app, reader, "wrong password", _address())
    assert _login(app, reader, reader.password, _address()).status_code == 302
    assert _login(app, reader, "wrong password", _address()).status_code == 401
    assert _login(app, reader, reader.password, _address()).status_code == 302


def test_address_limit_then_the_next_minute(app, ctx, clock, reader):
    address = _address()
    for _ in range(ctx.settings.oidc.login_attempts_per_address):
        web = Browser(app)
        web.client.environ_base["REMOTE_ADDR"] = address
        page = web.client.get("/login")
        web.client.post("/login", data={"csrf_token": web.csrf(page.get_data(as_text=True)),
                                        "identifier": "12345", "password": "x"})
    blocked = _login(app, reader, reader.password, address)
    assert blocked.status_code == 429 and b"this address" in blocked.data
    assert _login(app, reader, reader.password, _address()).status_code == 302  # others pass
    clock.advance(seconds=60)
    assert _login(app, reader, reader.password, address).status_code == 302


def test_registration_page_is_limited_per_address(app, ctx, people):
    web = Browser(app)
    web.client.environ_base["REMOTE_ADDR"] = _address()
    token = web.csrf(web.client.get("/register").get_data(as_text=True))
    for _ in range(ctx.settings.oidc.login_attempts_per_address):
        assert web.client.post("/register", data={"csrf_token": token}).status_code == 422
    person = people.reader(min_age=20)
    form = {**registration(person), "password_repeat": person.password, "csrf_token": token}
    refused = web.client.post("/register", data=form)
    assert refused.status_code == 429 and b"wait a minute" in refused.data


@pytest.fixture
def redis_apps(ctx, redis_url):
    settings = ctx.settings.model_copy(update={
        "redis": ctx.settings.redis.model_copy(update={"url": redis_url})})
    shared = dataclasses.replace(ctx, settings=settings)
    return create_app(context=shared), create_app(context=shared)


def test_redis_shares_lockout_and_address_limits_between_apps(redis_apps, ctx, clock, reader):
    first, second = redis_apps
    for _ in range(ctx.settings.oidc.login_max_failures):
        assert _login(first, reader, "wrong password", _address()).status_code == 401
    assert _login(second, reader, reader.password, _address()).status_code == 429
    clock.advance(seconds=ctx.settings.oidc.lockout_seconds)
    assert _login(second, reader, reader.password, _address()).status_code == 302

    address = _address()
    limit = ctx.settings.oidc.login_attempts_per_address
    for index in range(limit):
        app = (first, second)[index % 2]
        assert _login(app, reader, "wrong password", address).status_code in (401, 429)
    assert b"this address" in _login(first, reader, reader.password, address).data


@pytest.fixture(params=["memory", "redis"])
def limiter(request):
    if request.param == "memory":
        return MemoryRateLimiter()
    return RedisRateLimiter(request.getfixturevalue("redis_url"),
                            prefix=f"readerpass-test:{uuid.uuid4().hex}:")


def test_limiter_contract(limiter):
    """Both implementations: counts per fixed window, reset, independent keys."""
    now = START
    assert limiter.count("k", window=60, now=now) == 0
    assert [limiter.hit("k", window=60, now=now) for _ in range(3)] == [1, 2, 3]
    assert limiter.count("k", window=60, now=now) == 3
    assert limiter.count("other", window=60, now=now) == 0
    limiter.reset("k", window=60, now=now)
    assert limiter.count("k", window=60, now=now) == 0
    limiter.hit("k", window=60, now=now)
    assert limiter.count("k", window=60, now=now.replace(second=59)) == 1
    assert limiter.count("k", window=60, now=now.replace(minute=now.minute + 1)) == 0
