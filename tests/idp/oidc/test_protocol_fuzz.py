"""Generated requests to every machine-facing OAuth endpoint: whatever the
parameters, repeated names, credentials or body, the answer is never a server
error, and a refusal names one of its RFC's error codes."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"

#: RFC 6749 5.2 and RFC 8628 3.5 (token), RFC 7009 2.2.1 (introspection and
#: revocation), RFC 6750 3.1 (userinfo), RFC 8628 3.2 (device authorization).
TOKEN_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                "unsupported_grant_type", "invalid_scope", "authorization_pending",
                "slow_down", "access_denied", "expired_token"}
ERRORS = {
    "/oauth/token": TOKEN_ERRORS,
    "/oauth/introspect": {"invalid_request", "invalid_client", "unsupported_token_type"},
    "/oauth/revoke": {"invalid_request", "invalid_client", "unsupported_token_type"},
    "/oauth/device_authorization": {"invalid_request", "invalid_client", "invalid_scope",
                                    "unauthorized_client"},
    "/oauth/userinfo": {"invalid_request", "invalid_token", "insufficient_scope"},
}

NAMES = ["grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret",
         "refresh_token", "scope", "token", "token_type_hint", "device_code", "access_token",
         "client_assertion", "client_assertion_type", "audience", "resource"]
KNOWN = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT_TYPE,
         "password", "implicit", "openid", "openid reader_card", "reader_card", "phone profile",
         "access_token", "refresh_token", "https://opac.example.org/callback", "", " ",
         "\x00", "%", "é", "\ud7ff", "x" * 5000]


def _values(client: Any, token: str) -> st.SearchStrategy[str]:
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    return st.one_of(st.sampled_from([*KNOWN, client.client_id, client.secret, token,
                                      tampered, "rprt_" + token]),
                     st.text(max_size=40))


def _auth(client: Any, token: str) -> st.SearchStrategy[dict[str, str]]:
    def basic(user: str, password: str) -> dict[str, str]:
        pair = f"{user}:{password}".encode("utf-8", "surrogatepass")
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    return st.one_of(
        st.just({}),
        st.just(basic(client.client_id, client.secret)),
        st.builds(basic, st.sampled_from([client.client_id, "", "x" * 300]), st.text(max_size=30)),
        st.builds(lambda raw: {"Authorization": "Basic " + base64.b64encode(raw).decode()},
                  st.binary(max_size=40)),
        st.builds(lambda text: {"Authorization": text},
                  st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
        st.just({"Authorization": f"Bearer {token}"}),
    )


@pytest.mark.parametrize("path", sorted(ERRORS))
def test_generated_requests_never_fail_the_server(app, make_client, signing_keys, path):
    client = make_client(grant_types=["authorization_code", "refresh_token",
                                      "client_credentials", DEVICE_CODE_GRANT_TYPE])
    web = app.test_client()
    token = web.post("/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(client.client_id, client.secret)).json["access_token"]
    allowed = ERRORS[path]

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(pairs=st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)),
                                    _values(client, token)), max_size=6),
           headers=_auth(client, token),
           body=st.one_of(st.none(), st.binary(max_size=80)),
           content_type=st.sampled_from(["application/x-www-form-urlencoded",
                                         "application/json", "text/plain", "multipart/form-data"]),
           method=st.sampled_from(["POST", "GET"]))
    def check(pairs: list[tuple[str, str]], headers: dict[str, str], body: bytes | None,
              content_type: str, method: str) -> None:
        encoded = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
        if body is None:
            data: bytes | str = encoded
            content_type = "application/x-www-form-urlencoded"
        else:
            data = body
        answer = web.open(path, method=method, data=data, content_type=content_type,
                          headers=headers, query_string=encoded if method == "GET" else None)
        assert answer.status_code < 500, (answer.status_code, answer.get_data()[:300])
        if answer.status_code == 405:  # RFC 6749 3.2: POST only
            assert method == "GET" and "POST" in answer.headers["Allow"]
            return
        if answer.status_code >= 400:
            assert answer.is_json, answer.get_data()[:300]
            error = answer.json.get("error")
        if path == "/oauth/userinfo" and answer.status_code == 401:
            assert answer.headers.get("WWW-Authenticate", "").startswith("Bearer")
            bearer = headers.get("Authorization", "").lower().startswith("bearer ")
            if not bearer:  # RFC 6750 3.1: a challenge without an error code
                assert answer.json == {}
                return
        if answer.status_code >= 400:
            assert error in allowed, (path, error, answer.json)
            assert answer.json.get("error_description"), answer.json

    check()


@pytest.mark.parametrize("header", [" ", "Basic ", "Basic gA==", "Basic !!!", "Basic"])
def test_unreadable_client_credentials_are_invalid_client(app, make_client, signing_keys,
                                                          header):
    web = app.test_client()
    for path in ("/oauth/token", "/oauth/introspect", "/oauth/revoke",
                 "/oauth/device_authorization"):
        answer = web.post(path, data={"grant_type": "client_credentials", "token": "x"},
                          headers={"Authorization": header})
        assert answer.status_code in (400, 401), (path, answer.status_code)
        assert answer.json["error"] == "invalid_client" and answer.json["error_description"]
    assert web.get("/oauth/userinfo", headers={"Authorization": header}).status_code == 401
