"""The usual online verification, answered below Flask, gets the answer the view
gives, headers included; every other request goes through the view."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters import PatronMatch
from cards import CardKey, MemoryReplayCache, TokenSigner, new_serial
from idp.cardsvc.quick import MAX_BODY, QuickVerify
from idp.cardsvc.runtime import EXTENSION as CARDS
from idp.models import LinkState, ReaderLink
from idp.oidc.ratelimit import MemoryRateLimiter
from tests.idp.adapters.conftest import city, register, store  # noqa: F401  (fixtures)

from .helpers import bearer, gate_token, reader_token, redis_workers, staff_token, token_for

PATH = "/cards/verify"
JSON = "application/json"


@pytest.fixture
def gate_client(make_client, signing_keys, card_keys):
    return make_client(library="CITY", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])


@contextmanager
def _counting_view(app: Any) -> Iterator[list[str]]:
    """Names each request that reaches the view."""
    calls: list[str] = []
    view = app.view_functions["cards_gate.verify"]

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("view")
        return view(*args, **kwargs)

    app.view_functions["cards_gate.verify"] = counted
    try:
        yield calls
    finally:
        app.view_functions["cards_gate.verify"] = view


def _answer(response: Any) -> tuple[Any, ...]:
    return response.status_code, sorted(response.headers.items()), response.get_data()


class Asker:
    """Sends a request twice, with and without the quick path, each time to a fresh
    replay cache and then once more (which finds the first in that cache)."""

    def __init__(self, app: Any):
        self.app = app
        self.web = app.test_client()
        self.runtime = app.extensions[CARDS]

    def twice(self, body: bytes, headers: dict[str, str], content_type: str = JSON,
              **kw: Any) -> list[tuple[Any, ...]]:
        def ask() -> list[tuple[Any, ...]]:
            self.runtime.replay = MemoryReplayCache()
            return [_answer(self.web.post(PATH, data=body, content_type=content_type,
                                          headers=headers, **kw)) for _ in range(2)]

        answered = ask()
        with mock.patch.object(QuickVerify, "usual_request", return_value=None):
            expected = ask()
        assert answered == expected, (body, headers, content_type)
        return answered


@pytest.fixture
def world(app, ctx, gate_client, make_client, reader, clock) -> dict[str, Any]:
    """A gate token the worker has seen (so cached), tokens of every other kind, and
    card texts of every verdict."""
    web = app.test_client()
    clock.advance(seconds=1200)  # the card key is older than the expired token
    now = int(clock().timestamp())
    revoked = gate_token(app, gate_client.client_id, gate_client.secret)
    web.post(PATH, json={"token": "x"}, headers=bearer(revoked))  # in the cache, until:
    assert web.post("/oauth/revoke", data={"token": revoked},
                    auth=(gate_client.client_id, gate_client.secret)).status_code == 200
    cached = gate_token(app, gate_client.client_id, gate_client.secret)
    warm = web.post(PATH, json={"token": token_for(ctx, reader.reader_id, now - 60)},
                    headers=bearer(cached))
    assert warm.status_code == 200 and warm.json["ok"] is True
    unseen = gate_token(app, gate_client.client_id, gate_client.secret)
    opac = make_client()
    good = token_for(ctx, reader.reader_id, now)
    return {
        "cached": cached, "good": good,
        "authorizations": {
            "cached": f"Bearer {cached}", "lower-case scheme": f"bearer {cached}",
            "spaces": f"Bearer   {cached}  ", "unseen": f"Bearer {unseen}",
            "revoked": f"Bearer {revoked}",
            "reader's": f"Bearer {reader_token(app, ctx, reader.reader_id, opac.client_id)}",
            "junk": "Bearer junk", "basic": f"Basic {cached}", "empty": "Bearer ", "none": None,
        },
        "texts": {
            "ok": good, "spaced": f" {good} ",
            "expired": token_for(ctx, reader.reader_id, now - 900),
            "future": token_for(ctx, reader.reader_id, now + 900),
            "foreign": TokenSigner(CardKey.generate()).sign(new_serial(), 0, now, 120),
            "junk": "hello", "long junk": "RP1" + "A" * 144,
            "lowercase": good.lower(),
        },
    }


def _headers(authorization: str | None) -> dict[str, str]:
    return {} if authorization is None else {"Authorization": authorization}


def test_every_card_verdict_is_the_view_s(app, world):
    asker = Asker(app)
    reasons = set()
    for name, text in world["texts"].items():
        answers = asker.twice(json.dumps({"token": text}).encode(), bearer(world["cached"]))
        assert [status for status, _, _ in answers] == [200, 200], name
        reasons.update(json.loads(body)["reason"] for _, _, body in answers)
    assert {"ok", "replayed", "expired", "not_yet_valid", "unknown_key",
            "malformed"} <= reasons


def test_every_authorization_and_body_is_answered_as_the_view_does(app, world):
    good = world["good"]
    bodies: list[tuple[str, bytes]] = [
        (JSON, json.dumps({"token": good}).encode()),
        (JSON, json.dumps({"token": good, "gate": "north"}).encode()),
        (JSON, json.dumps({"token": good}).encode("utf-16")),
        (JSON, json.dumps({"token": ""}).encode()),
        (JSON, json.dumps({"token": "A" * 301}).encode()),
        (JSON, json.dumps({"token": 5}).encode()),
        (JSON, json.dumps([good]).encode()),
        (JSON, b"null"), (JSON, b'{"token": '), (JSON, b""), (JSON, b"\xff\xfe{"),
        (JSON, json.dumps({"token": good, "pad": "x" * MAX_BODY}).encode()),
        (f"{JSON}; charset=utf-8", json.dumps({"token": good}).encode()),
        ("application/merge-patch+json", json.dumps({"token": good}).encode()),
        ("text/plain", good.encode()),
        ("text/plain", json.dumps({"token": good}).encode()),
    ]
    asker = Asker(app)
    statuses = set()
    for (name, authorization), (content_type, body) in itertools.product(
            world["authorizations"].items(), bodies):
        for status, _, _ in asker.twice(body, _headers(authorization), content_type):
            statuses.add((name, status))
    assert {("cached", 200), ("cached", 400), ("unseen", 200), ("revoked", 401),
            ("reader's", 403), ("junk", 401), ("none", 401)} <= statuses


def test_usual_requests_never_reach_the_view(app, world):
    web = app.test_client()
    with _counting_view(app) as calls:
        for name, text in world["texts"].items():
            for authorization in ("cached", "lower-case scheme", "spaces"):
                response = web.post(PATH, json={"token": text},
                                    headers=_headers(world["authorizations"][authorization]))
                assert response.status_code == 200, (name, authorization)
                assert calls == [], (name, authorization)
    with _counting_view(app) as calls:
        web.post(PATH, data=world["good"], content_type="text/plain",
                 headers=bearer(world["cached"]))
        assert calls == ["view"]
        web.post(PATH, json={"token": world["good"]},
                 headers=_headers(world["authorizations"]["unseen"]))
    assert calls == ["view", "view"]


def test_a_body_over_the_request_limit_or_shorter_than_announced_goes_to_flask(app, world):
    asker = Asker(app)
    body = json.dumps({"token": world["good"]}).encode()
    app.config["MAX_CONTENT_LENGTH"] = len(body) - 1
    assert {status for status, _, _ in asker.twice(body, bearer(world["cached"]))} == {413}
    app.config["MAX_CONTENT_LENGTH"] = None
    short = asker.twice(body, bearer(world["cached"]),
                        environ_overrides={"CONTENT_LENGTH": str(len(body) + 5)})
    assert {status for status, _, _ in short} == {400}


def test_in_debug_mode_the_json_is_flask_s_too(app, world):
    app.debug = True
    answers = Asker(app).twice(json.dumps({"token": world["good"]}).encode(),
                               bearer(world["cached"]))
    assert b'\n  "detail"' in answers[0][2]  # indented, as Flask's debug JSON


def test_an_error_after_the_verification_started_is_answered_by_flask_s_handlers(
        app, ctx, world, gate_client):
    runtime = app.extensions[CARDS]
    body = json.dumps({"token": world["good"]}).encode()
    limiter = runtime.verify_limiter = MemoryRateLimiter()
    for _ in range(ctx.settings.cards.verifications_per_minute):
        limiter.hit(f"card-verify:{gate_client.client_id}", window=60, now=ctx.now())
    limited = Asker(app).twice(body, bearer(world["cached"]))
    assert {status for status, _, _ in limited} == {429}
    assert all(dict(headers)["Retry-After"] for _, headers, _ in limited)

    runtime.verify_limiter = MemoryRateLimiter()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    class Down:  # fails after the replay cache has taken the token
        def first(self, **_: Any) -> None:
            raise ConnectionError("the database is down")

    runtime.admission = Down()
    web = app.test_client()
    answers = []
    for quick in (True, False):
        runtime.replay = MemoryReplayCache()
        with (nullcontext() if quick else
              mock.patch.object(QuickVerify, "usual_request", return_value=None)):
            answers.append(_answer(web.post(PATH, data=body, content_type=JSON,
                                            headers=bearer(world["cached"]))))
    assert answers[0] == answers[1] and answers[0][0] == 500


def test_a_first_admission_links_the_reader_and_closes_its_session(
        app, ctx, gate_client, reader, register, city, store):  # noqa: F811
    web = app.test_client()
    gate = gate_token(app, gate_client.client_id, gate_client.secret)
    assert web.post(PATH, json={"token": token_for(ctx, reader.reader_id)},
                    headers=bearer(gate)).json["ok"] is True  # the gate token is now known
    newcomer = register()
    pool = ctx.engine.pool
    before = pool.checkedout()
    with _counting_view(app) as calls:
        first = web.post(PATH, json={"token": token_for(ctx, newcomer.id)}, headers=bearer(gate))
    assert calls == [] and first.status_code == 200 and first.json["ok"] is True
    patron = store.find(PatronMatch(reader_id=newcomer.id))
    assert patron is not None and first.json["local_barcode"] == patron.barcode
    with ctx.sessions() as session:
        link = session.scalars(select(ReaderLink).filter_by(reader_id=newcomer.id)).one()
    assert link.state == LinkState.LINKED and link.local_barcode == patron.barcode
    assert pool.checkedout() == before


def test_a_revoked_card_and_a_revoked_gate_token(app, ctx, world, reader, gate_client):
    web = app.test_client()
    text = token_for(ctx, reader.reader_id)
    assert web.post(f"/api/readers/{reader.reader_id}/card/lost", json={},
                    headers=bearer(staff_token(ctx))).status_code == 200
    answers = Asker(app).twice(json.dumps({"token": text}).encode(), bearer(world["cached"]))
    assert json.loads(answers[0][2])["reason"] == "revoked"
    assert web.post("/oauth/revoke", data={"token": world["cached"]},
                    auth=(gate_client.client_id, gate_client.secret)).status_code == 200
    with _counting_view(app) as calls:
        refused = web.post(PATH, json={"token": text}, headers=bearer(world["cached"]))
    assert refused.status_code == 401 and calls == ["view"]


@pytest.mark.redis
def test_two_workers_share_the_redis_replay_cache(app, ctx, gate_client, reader, redis_url,
                                                   settings):
    workers = redis_workers(ctx, settings, redis_url)
    gate = gate_token(workers[0], gate_client.client_id, gate_client.secret)
    for worker in workers:  # each worker has now seen the gate token
        worker.test_client().post(PATH, json={"token": "x"}, headers=bearer(gate))
    text = token_for(ctx, reader.reader_id)
    with _counting_view(workers[0]) as first, _counting_view(workers[1]) as second:
        answers = [worker.test_client().post(PATH, json={"token": text}, headers=bearer(gate))
                   for worker in workers]
    assert [answer.json["reason"] for answer in answers] == ["ok", "replayed"]
    assert first == second == []


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.binary(max_size=300),
    st.dictionaries(st.sampled_from(["token", "Token", "x"]),
                    st.one_of(st.text(max_size=320), st.integers(), st.none()),
                    max_size=3).map(lambda d: json.dumps(d).encode())),
    content_type=st.sampled_from([JSON, "text/plain", f"{JSON}; charset=utf-8"]),
    authorization=st.sampled_from(["cached", "spaces", "junk", "none", "revoked"]))
def test_generated_requests_get_the_view_s_answer(app, world, body: bytes, content_type: str,
                                                  authorization: str):
    Asker(app).twice(body, _headers(world["authorizations"][authorization]), content_type)
