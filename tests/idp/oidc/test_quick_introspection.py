"""Introspection's usual request, answered without Authlib's endpoint machinery,
gets the same answer as through Authlib; every other request goes through Authlib."""

from __future__ import annotations

import base64
import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.oidc import endpoints, quick_introspection

from .test_tokens import _tokens

FORM = "application/x-www-form-urlencoded"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@contextmanager
def _counting_authlib() -> Iterator[list[int]]:
    """Counts the requests that reach Authlib's introspection endpoint."""
    calls: list[int] = []
    original = endpoints.Introspection.create_endpoint_response

    def counted(self: Any, request: Any) -> Any:
        calls.append(1)
        return original(self, request)

    with mock.patch.object(endpoints.Introspection, "create_endpoint_response", counted):
        yield calls


@pytest.fixture
def world(app, signed_in, make_client, signing_keys) -> dict[str, Any]:
    """Clients of two libraries, and tokens of every kind introspection meets."""
    resource = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    stranger = make_client(library="CITY", grant_types=["client_credentials"],
                           scopes=["reader_card"])
    opac = make_client()
    public = make_client(kind="public")
    web = app.test_client()

    def client_token(client: Any) -> str:
        return str(web.post("/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(client.client_id, client.secret)).json["access_token"])

    reader = _tokens(app, signed_in, opac)
    revoked = client_token(backend)
    assert web.post("/oauth/revoke", data={"token": revoked},
                    auth=(backend.client_id, backend.secret)).status_code == 200
    own = client_token(backend)
    return {
        "web": web, "resource": resource, "backend": backend, "stranger": stranger,
        "public": public, "own": own, "reader": reader["access_token"],
        "tokens": [own, reader["access_token"], client_token(stranger), revoked,
                   reader["refresh_token"], own[:-4] + ("AAAA" if own[-4:] != "AAAA" else "BBBB"),
                   "", "not a token"],
    }


def test_the_usual_request_does_not_reach_authlib_and_others_do(world):
    web, resource = world["web"], world["resource"]
    with _counting_authlib() as calls:
        by_post = web.post("/oauth/introspect", data={
            "token": world["own"], "client_id": resource.client_id,
            "client_secret": resource.secret})
        by_basic = web.post("/oauth/introspect", data={"token": world["reader"],
                                                        "token_type_hint": "access_token"},
                            headers=_basic(resource.client_id, resource.secret))
        assert calls == []
        assert by_post.json["active"] is True
        assert by_post.json["client_id"] == world["backend"].client_id
        assert by_basic.json["active"] is True and by_basic.json["sub"]
        assert by_post.headers["Cache-Control"] == "no-store"
        assert by_post.headers["Pragma"] == "no-cache"
        foreign = web.post("/oauth/introspect", data={"token": world["own"]},
                           headers=_basic(world["stranger"].client_id, world["stranger"].secret))
        assert foreign.json == {"active": False} and calls == [1]
        refresh = web.post("/oauth/introspect", data={"token": world["tokens"][4]},
                           headers=_basic(resource.client_id, resource.secret))
        assert refresh.json == {"active": False} and calls == [1, 1]  # another client's


def _requests(world: dict[str, Any]) -> st.SearchStrategy[tuple[list[tuple[str, str]],
                                                                 dict[str, str]]]:
    """(form fields, headers): a token, credentials in the form, in a Basic header,
    in both or neither, right or wrong, an optional hint and any extra fields."""
    clients = [world[name] for name in ("resource", "backend", "stranger", "public")]
    secrets = [client.secret or "" for client in clients]
    credentials = st.tuples(st.sampled_from([client.client_id for client in clients]),
                            st.sampled_from([*secrets, "", "rpcs_wrong", "a%20b", "a+b"]))
    values = st.sampled_from([*world["tokens"], *(client.client_id for client in clients),
                              "access_token", "refresh_token", "", "50%", "\u00e9"])
    extra = st.lists(st.tuples(st.sampled_from(["token", "token_type_hint", "client_id",
                                                "client_secret", "scope", ""]), values),
                     max_size=3)

    def build(token: str, post: tuple[str, str] | None, basic: tuple[str, str] | None,
              hint: str | None, more: list[tuple[str, str]]) -> tuple[list[tuple[str, str]],
                                                                     dict[str, str]]:
        fields = [("token", token)]
        if post is not None:
            fields += [("client_id", post[0]), ("client_secret", post[1])]
        if hint is not None:
            fields.append(("token_type_hint", hint))
        return fields + more, _basic(*basic) if basic is not None else {}

    return st.builds(build, st.sampled_from(world["tokens"]), st.none() | credentials,
                     st.none() | credentials,
                     st.sampled_from([None, "access_token", "refresh_token", "other"]),
                     st.just([]) | extra)


#: Authorization headers that are not plain Basic credentials.
ODD = [{"Authorization": "Basic !!"}, {"Authorization": "Bearer x"},
       {"Authorization": "Basic"}, {"Authorization": "Basic  "}]


def _body(pairs: list[tuple[str, str]], escaped: bool) -> bytes:
    if escaped:
        return "&".join(f"{quote(name)}={quote(value)}" for name, value in pairs).encode()
    return "&".join(f"{name}={value}" for name, value in pairs).encode()


def _same_answer_as_authlib(web: Any, body: bytes, headers: dict[str, str],
                            content_type: str = FORM) -> int:
    """Asks twice, with and without the quick path; returns the status."""
    def ask() -> Any:
        return web.post("/oauth/introspect", data=body, content_type=content_type,
                        headers=headers)

    answered = ask()
    with mock.patch.object(quick_introspection, "payload", return_value=None):
        expected = ask()
    assert answered.status_code == expected.status_code, (body, headers)
    assert answered.get_data() == expected.get_data(), (body, headers)
    for name in ("Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate"):
        assert answered.headers.get(name) == expected.headers.get(name), name
    return int(answered.status_code)


def test_every_combination_of_token_client_secret_and_method_gets_authlib_s_answer(world):
    clients = [world[name] for name in ("resource", "backend", "stranger", "public")]
    secrets = [client.secret for client in clients if client.secret]
    answers: Counter[int] = Counter()
    for token, client, secret, method, hint in itertools.product(
            world["tokens"], clients, [*secrets, "", "rpcs_wrong"],
            ["post", "basic", "both", "none"], [None, "access_token", "refresh_token", "x"]):
        fields = [("token", token)] + ([("token_type_hint", hint)] if hint else [])
        if method in ("post", "both"):
            fields += [("client_id", client.client_id), ("client_secret", secret)]
        headers = _basic(client.client_id, secret) if method in ("basic", "both") else {}
        answers[_same_answer_as_authlib(world["web"], _body(fields, False), headers)] += 1
    assert answers[200] and answers[401]


@pytest.mark.parametrize("name", ["token", "client_id", "client_secret", "token_type_hint"])
def test_a_repeated_parameter_gets_authlib_s_answer(world, name):
    """Authlib reads a repeated parameter's first value."""
    resource = world["resource"]
    usual = {"token": world["own"], "client_id": resource.client_id,
             "client_secret": resource.secret, "token_type_hint": "access_token"}
    other = {"token": world["tokens"][2], "client_id": world["backend"].client_id,
             "client_secret": "rpcs_wrong", "token_type_hint": "refresh_token"}[name]
    for first, second in ((usual[name], other), (other, usual[name])):
        fields = [(key, value) for key, value in usual.items() if key != name]
        body = _body([(name, first), *fields, (name, second)], False)
        assert _same_answer_as_authlib(world["web"], body, {}) in (200, 401)


def test_every_request_gets_authlib_s_answer(world):
    web = world["web"]

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(request=_requests(world), odd_header=st.sampled_from([None, None, None, *ODD]),
           escaped=st.booleans(),
           content_type=st.sampled_from([FORM, FORM, FORM, f"{FORM}; charset=utf-8",
                                         "text/plain"]))
    def check(request: tuple[list[tuple[str, str]], dict[str, str]],
              odd_header: dict[str, str] | None, escaped: bool, content_type: str) -> None:
        pairs, headers = request
        headers = odd_header or headers
        _same_answer_as_authlib(web, _body(pairs, escaped), headers, content_type)

    check()

