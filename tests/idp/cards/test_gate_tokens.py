"""The online endpoint's per-worker cache of gate tokens: how long an entry lives,
what empties it at once, and what a change made by another process has to wait for."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from idp.cardsvc.auth import Gate, GateTokens
from idp.cardsvc.runtime import EXTENSION as CARDS
from idp.context import Context
from idp.models import Library, LoginSession, Reader
from idp.oidc import clients, sessions
from idp.oidc.runtime import EXTENSION as OIDC
from idp.services.actor import Actor

from ..oidc.test_cache import Ticks
from .helpers import bearer, gate_token, token_for

GATE = Gate("c1", 1, "CITY")


def test_an_entry_lives_the_ttl_and_never_past_its_token() -> None:
    cache = GateTokens(ttl=30)
    cache.put("t", GATE, expires_at=2000, now=1000, generation=cache.generation)
    assert cache.get("t", 1029) == GATE and cache.get("t", 1030) is None
    cache.put("t", GATE, expires_at=1010, now=1000, generation=cache.generation)
    assert cache.get("t", 1009) == GATE and cache.get("t", 1010) is None
    assert cache.get("t", 999) is None  # a clock set back does not stretch it
    assert cache.get("other", 1000) is None


def test_a_check_that_overlapped_a_clear_is_not_kept() -> None:
    cache = GateTokens(ttl=30)
    generation = cache.generation  # a request starts checking a token ...
    cache.clear()  # ... a revocation commits meanwhile
    cache.put("t", GATE, expires_at=2000, now=1000, generation=generation)
    assert cache.get("t", 1000) is None


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    cache = GateTokens(ttl=30, max_entries=3)
    for n in range(5):
        cache.put(f"t{n}", GATE, expires_at=2000, now=1000, generation=cache.generation)
    assert len(cache) == 3
    assert [cache.get(f"t{n}", 1000) is not None for n in range(5)] == [
        False, False, True, True, True]  # the oldest went first
    off = GateTokens(ttl=0)
    off.put("t", GATE, expires_at=2000, now=1000, generation=off.generation)
    assert off.get("t", 1000) is None and len(off) == 0


@pytest.fixture
def gate_client(make_client, signing_keys, card_keys):
    return make_client(library="CITY", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])


class Scanner:
    def __init__(self, app: Any, ctx: Context, reader_id: str, token: str):
        self.web = app.test_client()
        self.ctx = ctx
        self.reader_id = reader_id
        self.token = token

    def status(self) -> int:
        response = self.web.post("/cards/verify", headers=bearer(self.token),
                                 json={"token": token_for(self.ctx, self.reader_id)})
        return int(response.status_code)


def test_a_revocation_here_ends_a_cached_gate_token_at_once(app, ctx, gate_client, reader):
    token = gate_token(app, gate_client.client_id, gate_client.secret)
    scanner = Scanner(app, ctx, reader.reader_id, token)
    assert scanner.status() == 200
    assert len(app.extensions[CARDS].gates) == 1
    revoked = app.test_client().post("/oauth/revoke", data={"token": token},
                                     auth=(gate_client.client_id, gate_client.secret))
    assert revoked.status_code == 200
    assert scanner.status() == 401


def test_another_process_change_is_seen_within_the_window(app, ctx, settings, clock,
                                                          gate_client, reader):
    """A context the app does not watch stands for the CLI or another worker."""
    token = gate_token(app, gate_client.client_id, gate_client.secret)
    scanner = Scanner(app, ctx, reader.reader_id, token)
    # The OIDC verdict cache (1 s) runs on ticks we move, so only the gate cache is left.
    oidc = app.extensions[OIDC].cache
    ticks = Ticks()
    oidc.clients.clock = oidc.tokens.clock = ticks
    assert scanner.status() == 200
    other = Context.build(settings, clock=clock)
    try:
        with other.transaction() as session:
            clients.remove_client(session, other, gate_client.client_id, actor=Actor.cli())
    finally:
        other.dispose()
    ticks.now += 60
    window = settings.cards.gate_token_cache_seconds
    assert window == 30
    clock.advance(seconds=window - 1)
    assert scanner.status() == 200  # still inside the documented window
    clock.advance(seconds=1)
    assert scanner.status() == 401


def test_sign_outs_keep_gate_tokens_and_client_changes_end_them(app, ctx, gate_client,
                                                                 reader):
    token = gate_token(app, gate_client.client_id, gate_client.secret)
    scanner = Scanner(app, ctx, reader.reader_id, token)
    assert scanner.status() == 200
    gates = app.extensions[CARDS].gates
    oidc = app.extensions[OIDC].cache
    assert oidc.tokens.get(token) is not None
    with ctx.transaction() as session:
        login = sessions.start(session, ctx, session.get(Reader, reader.reader_id))
    with ctx.transaction() as session:  # a reader signs out: ends only readers' tokens
        session.get(LoginSession, login.id).ended_at = ctx.now()
    assert oidc.tokens.get(token) is None and len(gates) == 1
    with ctx.transaction() as session:  # a bulk change of a library, as an import might
        session.execute(update(Library).where(Library.code == "CITY")
                        .values(name="City Library (renamed)"))
    assert len(gates) == 0
