"""The usual introspection and client_credentials requests, answered without
Authlib's machinery, get the answer Authlib gives; every other request goes
through Authlib."""

from __future__ import annotations

import base64
import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import quote, quote_plus

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.oidc import endpoints, quick, server

from .test_tokens import _tokens

FORM = "application/x-www-form-urlencoded"
CC = "client_credentials"
INTROSPECT, TOKEN = "/oauth/introspect", "/oauth/token"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote(client_id)}:{quote(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _body(pairs: list[tuple[str, str]], encoding: str = "plain") -> bytes:
    """Form text, its values as they are, percent-encoded or with ``+`` for space."""
    escape = {"plain": str, "percent": quote, "plus": quote_plus}[encoding]
    return "&".join(f"{escape(name)}={escape(value)}" for name, value in pairs).encode()


@contextmanager
def _counting_authlib() -> Iterator[list[str]]:
    """Names the requests that reach Authlib's introspection endpoint or token grants."""
    calls: list[str] = []
    introspect = endpoints.Introspection.create_endpoint_response
    token = server.Server.create_token_response

    def introspect_counted(self: Any, request: Any) -> Any:
        calls.append("introspection")
        return introspect(self, request)

    def token_counted(self: Any, request: Any = None) -> Any:
        calls.append("token")
        return token(self, request)

    with mock.patch.object(endpoints.Introspection, "create_endpoint_response",
                           introspect_counted), \
            mock.patch.object(server.Server, "create_token_response", token_counted):
        yield calls


def _comparable(answer: Any) -> tuple[Any, ...]:
    """Status and body; an issued access token as its JOSE header and claims,
    without the ``jti`` that is new in every token."""
    data = answer.get_json(silent=True)
    if answer.status_code != 200 or not isinstance(data, dict) or "access_token" not in data:
        return answer.status_code, answer.get_data()
    token = data.pop("access_token")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims.pop("jti")
    return answer.status_code, data, jwt.get_unverified_header(token), claims


def _same_answer_as_authlib(web: Any, path: str, body: bytes, headers: dict[str, str],
                            content_type: str = FORM, query: str = "") -> int:
    """Asks twice, with and without the quick paths; returns the status."""
    def ask() -> Any:
        return web.post(path, data=body, content_type=content_type, headers=headers,
                        query_string=query)

    answered = ask()
    with mock.patch.object(quick, "introspection", return_value=None), \
            mock.patch.object(quick, "client_credentials", return_value=None):
        expected = ask()
    assert _comparable(answered) == _comparable(expected), (path, body, headers, query)
    for name in ("Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate"):
        assert answered.headers.get(name) == expected.headers.get(name), name
    return int(answered.status_code)


@pytest.fixture
def world(app, signed_in, make_client, signing_keys) -> dict[str, Any]:
    """Clients of two libraries, and tokens of every kind introspection meets."""
    resource = make_client(grant_types=[CC], scopes=["reader_card"])
    backend = make_client(grant_types=[CC], scopes=["reader_card"])
    stranger = make_client(library="CITY", grant_types=[CC], scopes=["reader_card"])
    opac = make_client()
    public = make_client(kind="public")
    both = make_client(grant_types=["authorization_code", CC])  # may ask for openid
    web = app.test_client()

    def client_token(client: Any) -> str:
        return str(web.post(TOKEN, data={"grant_type": CC},
                            auth=(client.client_id, client.secret)).json["access_token"])

    reader = _tokens(app, signed_in, opac)
    revoked = client_token(backend)
    assert web.post("/oauth/revoke", data={"token": revoked},
                    auth=(backend.client_id, backend.secret)).status_code == 200
    own = client_token(backend)
    return {
        "web": web, "resource": resource, "backend": backend, "stranger": stranger,
        "opac": opac, "public": public, "own": own, "reader": reader["access_token"],
        "clients": [resource, backend, stranger, opac, public, both],
        "tokens": [own, reader["access_token"], client_token(stranger), revoked,
                   reader["refresh_token"], own[:-4] + ("AAAA" if own[-4:] != "AAAA" else "BBBB"),
                   "", "not a token"],
    }


def test_usual_introspections_do_not_reach_authlib_and_others_do(world):
    web, resource = world["web"], world["resource"]
    with _counting_authlib() as calls:
        by_post = web.post(INTROSPECT, data={
            "token": world["own"], "client_id": resource.client_id,
            "client_secret": resource.secret})
        by_basic = web.post(INTROSPECT, data={"token": world["reader"],
                                              "token_type_hint": "access_token"},
                            headers=_basic(resource.client_id, resource.secret))
        assert calls == []
        assert by_post.json["active"] is True
        assert by_post.json["client_id"] == world["backend"].client_id
        assert by_basic.json["active"] is True and by_basic.json["sub"]
        assert by_post.headers["Cache-Control"] == "no-store"
        assert by_post.headers["Pragma"] == "no-cache"
        foreign = web.post(INTROSPECT, data={"token": world["own"]},
                           headers=_basic(world["stranger"].client_id, world["stranger"].secret))
        assert foreign.json == {"active": False} and calls == ["introspection"]
        refresh = web.post(INTROSPECT, data={"token": world["tokens"][4]},
                           headers=_basic(resource.client_id, resource.secret))
        assert refresh.json == {"active": False}  # another client's
        assert calls == ["introspection"] * 2


def test_usual_client_credentials_requests_do_not_reach_authlib_and_their_tokens_work(world):
    web, backend, resource = world["web"], world["backend"], world["resource"]
    with _counting_authlib() as calls:
        by_post = web.post(TOKEN, data=_body([("grant_type", CC), ("scope", "reader_card"),
                                              ("client_id", backend.client_id),
                                              ("client_secret", backend.secret)]),
                           content_type=FORM)
        by_basic = web.post(TOKEN, data={"grant_type": CC},
                            headers=_basic(backend.client_id, backend.secret))
        assert calls == []
        assert by_post.status_code == 200 and by_post.headers["Cache-Control"] == "no-store"
        assert by_post.json["scope"] == "reader_card" and by_basic.json["scope"] == ""
        for issued in (by_post, by_basic):
            seen = web.post(INTROSPECT, data={"token": issued.json["access_token"]},
                            auth=(resource.client_id, resource.secret)).json
            assert seen["active"] is True and seen["client_id"] == backend.client_id
        encoded = [web.post(TOKEN, data=body, content_type=FORM,
                            headers=_basic(backend.client_id, backend.secret))
                   for body in (b"grant_type=client%5Fcredentials&scope=reader%5Fcard",
                                b"grant_type=client_credentials&scope=reader_card+reader_card")]
        assert [answer.json["scope"] for answer in encoded] == ["reader_card",
                                                                 "reader_card reader_card"]
        assert calls == []
        wrong = web.post(TOKEN, data={"grant_type": CC},
                         auth=(backend.client_id, resource.secret))
        assert wrong.status_code == 401 and calls == ["token"]


@pytest.mark.parametrize("path", [INTROSPECT, TOKEN])
def test_every_combination_of_client_secret_and_method_gets_authlib_s_answer(world, path):
    """Each client with its own secret, another's, a wrong or an empty one, in the
    form, a Basic header, both or neither; for introspection with each token and
    hint, for a token with each grant type and scope."""
    clients = world["clients"]
    secrets = {"own": None, "other": world["resource"].secret, "wrong": "rpcs_wrong", "": ""}
    if path == INTROSPECT:
        asks = [[("token", token)] + ([("token_type_hint", hint)] if hint else [])
                for token, hint in itertools.product(
                    world["tokens"], [None, "access_token", "refresh_token", "x"])]
    else:
        asks = [([("grant_type", grant)] if grant else []) + (
                [("scope", scope)] if scope is not None else [])
                for grant, scope in itertools.product(
                    [CC, "authorization_code", None],
                    [None, "", "reader_card", "reader_card reader_card", "openid reader_card",
                     "phone", "bogus"])]
    answers: Counter[int] = Counter()
    for ask, client, secret, method in itertools.product(
            asks, clients, secrets, ["post", "basic", "both", "none"]):
        password = secrets[secret] if secret != "own" else client.secret or ""
        fields = list(ask)
        if method in ("post", "both"):
            fields += [("client_id", client.client_id), ("client_secret", password)]
        headers = _basic(client.client_id, password) if method in ("basic", "both") else {}
        answers[_same_answer_as_authlib(world["web"], path, _body(fields, "plus"),
                                        headers)] += 1
    assert answers[200] and answers[400] + answers[401]


@pytest.mark.parametrize("name", ["token", "client_id", "client_secret", "token_type_hint",
                                  "grant_type", "scope"])
def test_a_repeated_parameter_gets_authlib_s_answer(world, name):
    """Authlib reads a repeated parameter's first value."""
    resource = world["resource"]
    usual = {"client_id": resource.client_id, "client_secret": resource.secret}
    if name in ("grant_type", "scope"):
        path, usual = TOKEN, {**usual, "grant_type": CC, "scope": "reader_card"}
    else:
        path, usual = INTROSPECT, {**usual, "token": world["own"],
                                   "token_type_hint": "access_token"}
    other = {"token": world["tokens"][2], "client_id": world["backend"].client_id,
             "client_secret": "rpcs_wrong", "token_type_hint": "refresh_token",
             "grant_type": "authorization_code", "scope": "openid"}[name]
    for first, second in ((usual[name], other), (other, usual[name])):
        fields = [(key, value) for key, value in usual.items() if key != name]
        body = _body([(name, first), *fields, (name, second)])
        assert _same_answer_as_authlib(world["web"], path, body, {}) in (200, 400, 401)


@pytest.mark.parametrize("order", [["client_secret_basic", "client_secret_post"],
                                   ["client_secret_post", "client_secret_basic"]])
def test_credentials_in_both_places_are_read_in_authlib_s_order(world, order, monkeypatch):
    """Basic credentials of another library's client, form credentials of one of the
    token's library: which one is used decides the answer."""
    monkeypatch.setattr(endpoints.Introspection, "CLIENT_AUTH_METHODS", order)
    stranger, resource = world["stranger"], world["resource"]
    body = _body([("token", world["own"]), ("client_id", resource.client_id),
                  ("client_secret", resource.secret)])
    _same_answer_as_authlib(world["web"], INTROSPECT, body,
                            _basic(stranger.client_id, stranger.secret))
    with _counting_authlib() as calls:
        answer = world["web"].post(INTROSPECT, data=body, content_type=FORM,
                                   headers=_basic(stranger.client_id, stranger.secret))
    form_first = order[0] == "client_secret_post"
    assert answer.json["active"] is form_first
    assert calls == ([] if form_first else ["introspection"])  # the foreign client's: Authlib


def test_expired_tokens_get_authlib_s_answer(world, clock, ctx):
    clock.advance(seconds=ctx.settings.oidc.access_token_seconds + 1)
    resource = world["resource"]
    for token in (world["own"], world["reader"]):
        body = _body([("token", token)])
        assert _same_answer_as_authlib(world["web"], INTROSPECT, body,
                                       _basic(resource.client_id, resource.secret)) == 200


@pytest.mark.parametrize("known", [True, False])
def test_a_body_over_the_request_limit_gets_authlib_s_answer(world, app, known):
    """Authlib's introspection refuses an unknown client before it reads the form."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    resource = world["resource"]
    body = _body([("token", world["own"]), ("padding", "x" * 2000)])
    status = _same_answer_as_authlib(world["web"], INTROSPECT, body, _basic(
        resource.client_id if known else "prov-unknown", resource.secret))
    assert status == (413 if known else 401)


@pytest.mark.parametrize("query", [f"grant_type={CC}", "scope=openid", "scope=reader_card",
                                   "client_id=x"])
def test_a_token_request_with_a_query_string_gets_authlib_s_answer(world, query):
    """Authlib reads a grant's parameters from the query string and the form."""
    backend = world["backend"]
    for fields in ([("grant_type", CC)], [("scope", "reader_card")], []):
        assert _same_answer_as_authlib(world["web"], TOKEN, _body(fields),
                                       _basic(backend.client_id, backend.secret),
                                       query=query) in (200, 400)


def _requests(world: dict[str, Any]) -> st.SearchStrategy[tuple[list[tuple[str, str]],
                                                                 dict[str, str]]]:
    """(form fields, headers) for either endpoint: its usual fields, credentials in
    the form, in a Basic header, both or neither, right or wrong, and extra fields."""
    clients = world["clients"]
    credentials = st.tuples(st.sampled_from([client.client_id for client in clients]),
                            st.sampled_from([*(client.secret or "" for client in clients),
                                             "", "rpcs_wrong", "a%20b", "a+b"]))
    values = st.sampled_from([*world["tokens"], *(client.client_id for client in clients),
                              "access_token", "refresh_token", CC, "reader_card",
                              "reader_card openid", "", "50%", "\u00e9"])
    extra = st.lists(st.tuples(st.sampled_from(["token", "token_type_hint", "client_id",
                                                "client_secret", "grant_type", "scope", ""]),
                               values), max_size=3)
    usual = st.one_of(
        st.tuples(st.just("token"), st.sampled_from(world["tokens"])),
        st.tuples(st.just("grant_type"), st.sampled_from([CC, "refresh_token"])))

    def build(first: tuple[str, str], post: tuple[str, str] | None,
              basic: tuple[str, str] | None, more: list[tuple[str, str]]
              ) -> tuple[list[tuple[str, str]], dict[str, str]]:
        fields = [first]
        if post is not None:
            fields += [("client_id", post[0]), ("client_secret", post[1])]
        return fields + more, _basic(*basic) if basic is not None else {}

    return st.builds(build, usual, st.none() | credentials, st.none() | credentials,
                     st.just([]) | extra)


#: Authorization headers that are not canonical Basic credentials.
ODD = [{"Authorization": "Basic !!"}, {"Authorization": "Bearer x"},
       {"Authorization": "Basic"}, {"Authorization": "Basic  "},
       {"Authorization": "basic " + base64.b64encode(b"a:b").decode()},
       {"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()}]


@pytest.mark.parametrize("path", [INTROSPECT, TOKEN])
def test_generated_requests_get_authlib_s_answer(world, path):
    web = world["web"]

    @settings(max_examples=120, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(request=_requests(world), odd_header=st.sampled_from([None, None, None, *ODD]),
           encoding=st.sampled_from(["plain", "percent", "plus"]),
           content_type=st.sampled_from([FORM, FORM, FORM, f"{FORM}; charset=utf-8",
                                         "text/plain"]),
           query=st.sampled_from(["", "", "", f"grant_type={CC}", "scope=openid"]))
    def check(request: tuple[list[tuple[str, str]], dict[str, str]],
              odd_header: dict[str, str] | None, encoding: str, content_type: str,
              query: str) -> None:
        pairs, headers = request
        _same_answer_as_authlib(web, path, _body(pairs, encoding), odd_header or headers,
                                content_type, query)

    check()
