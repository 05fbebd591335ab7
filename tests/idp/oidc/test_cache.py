"""The workers' caches of clients and token verdicts: what empties them at once,
and how long another process's change can go unseen."""

from __future__ import annotations

import gc
from typing import Any

from sqlalchemy import create_engine, update

from idp.context import Context
from idp.db import make_session_factory
from idp.models import OAuthClient
from idp.oidc import clients
from idp.oidc.cache import TTL_SECONDS, HotCache, TtlCache
from idp.oidc.runtime import EXTENSION
from idp.services.actor import Actor


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    ticks = Ticks()
    cache: TtlCache[str, int] = TtlCache(ttl=1.0, clock=ticks)
    cache.put("a", 1, cache.generation)
    ticks.now += 0.99
    assert cache.get("a") == 1
    ticks.now += 0.01
    assert cache.get("a") is None


def test_a_value_read_before_a_clear_is_not_stored_after_it() -> None:
    cache: TtlCache[str, int] = TtlCache()
    generation = cache.generation  # a request starts reading the database ...
    cache.clear()  # ... a commit empties the cache meanwhile ...
    cache.put("a", 1, generation)  # ... and what the request read may be stale
    assert cache.get("a") is None
    cache.put("a", 2, cache.generation)
    assert cache.get("a") == 2


def test_a_full_cache_starts_over() -> None:
    cache: TtlCache[int, int] = TtlCache(max_entries=3)
    for key in range(4):
        cache.put(key, key, cache.generation)
    assert [cache.get(key) for key in range(4)] == [None, None, None, 3]


def _cc(app: Any, client: Any) -> Any:
    return app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                  auth=(client.client_id, client.secret))


def test_a_rotated_secret_is_refused_at_once(app, ctx, make_client, signing_keys) -> None:
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    assert _cc(app, backend).status_code == 200  # cached now
    with ctx.transaction() as session:
        clients.rotate_secret(session, ctx, backend.client_id, actor=Actor.cli())
    assert _cc(app, backend).json["error"] == "invalid_client"


def test_another_process_change_is_seen_within_the_ttl(app, settings, clock, make_client,
                                                       signing_keys) -> None:
    """A context the app does not watch stands for the CLI or another worker."""
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    resource = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    token = _cc(app, backend).json["access_token"]
    web = app.test_client()

    def introspect() -> Any:
        return web.post("/oauth/introspect", data={"token": token},
                        auth=(resource.client_id, resource.secret)).json

    assert introspect()["active"] is True
    caches = app.extensions[EXTENSION].cache
    ticks = Ticks()
    caches.clients.clock = caches.tokens.clock = ticks
    caches.clear()
    assert introspect()["active"] is True and _cc(app, backend).status_code == 200
    other = Context.build(settings, clock=clock)
    try:
        with other.transaction() as session:
            clients.remove_client(session, other, backend.client_id, actor=Actor.cli())
    finally:
        other.dispose()
    ticks.now += TTL_SECONDS
    assert introspect() == {"active": False}
    assert _cc(app, backend).json["error"] == "invalid_client"


def test_a_revoked_session_ends_cached_tokens_at_once(app, ctx, make_client, signing_keys,
                                                      signed_in) -> None:
    from sqlalchemy import update

    from idp.models import SessionClient

    from .test_tokens import _tokens

    client = make_client()
    access = _tokens(app, signed_in, client)["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert app.test_client().get("/oauth/userinfo", headers=headers).status_code == 200
    with ctx.transaction() as session:  # a bulk UPDATE, as a merge would issue
        session.execute(update(SessionClient).values(revoked_at=ctx.now()))
    assert app.test_client().get("/oauth/userinfo", headers=headers).status_code == 401


def test_protocol_endpoints_open_no_cookie_session(app, make_client, signing_keys) -> None:
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    web = app.test_client()
    web.set_cookie("session", "not-even-signed")
    answer = web.post("/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(backend.client_id, backend.secret))
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers and "Cookie" not in answer.headers.get("Vary", "")
    assert "Set-Cookie" in web.get("/login").headers  # the pages keep theirs (CSRF)


def test_each_new_session_factory_has_its_commits_empty_the_cache() -> None:
    """A factory made after an earlier one was freed may take its address; the hooks
    must still be set on it (SQLAlchemy's ``event.contains`` keys on addresses)."""
    engine = create_engine("sqlite://")
    OAuthClient.__table__.create(engine)
    for _ in range(20):
        sessions = make_session_factory(engine)
        cache = HotCache()
        cache.watch(sessions)
        generation = cache.clients.generation
        with sessions() as session:
            session.execute(update(OAuthClient).values(name="renamed"))  # a bulk change
            session.commit()
        assert cache.clients.generation == generation + 1
        del sessions, cache
        gc.collect()  # the next factory may be made where this one was
    engine.dispose()
