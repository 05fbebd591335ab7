"""Generated requests to the reader-facing OAuth pages (authorize, logout, device,
sign-in), signed in and not: never a server error, and a redirect only ever goes
to one of our own pages or to a redirect URI the client registered (no open
redirect)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import REDIRECT, pkce_pair

NAMES = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
         "code_challenge", "code_challenge_method", "prompt", "max_age", "id_token_hint",
         "post_logout_redirect_uri", "ui_locales", "request", "request_uri", "user_code",
         "next", "response_mode", "claims", "login_hint", "acr_values"]
EVIL = ["https://evil.example.net/cb", "//evil.example.net/", "/\\evil.example.net",
        "https:evil.example.net", "javascript:alert(1)", REDIRECT + "/../x",
        REDIRECT + "?x=1", REDIRECT.upper(), "http://opac.example.org/callback"]
PATHS = ["/oauth/authorize", "/oauth/logout", "/device", "/device/qr.svg", "/device/qr.png",
         "/login"]


def _values(client_id: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([client_id, REDIRECT, "code", "token", "id_token", "code id_token",
                         "openid", "openid profile phone reader_card", "none", "login",
                         "consent", "select_account", "S256", "plain", pkce_pair()[1], "0",
                         "-1", "99999999999999999999", "²", "١٢", "①", "a.b.c", "",
                         "\x00", "x" * 3000, "/account", "/oauth/authorize?x", *EVIL]),
        st.text(max_size=30))


def _allowed(location: str) -> bool:
    """Our own page (a path, or our host), or exactly the registered redirect URI."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location.startswith("/") and not location.startswith(("//", "/\\"))
    if parts.netloc in ("localhost", "127.0.0.1"):
        return True
    return f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT


@pytest.mark.parametrize("signed", [False, True], ids=["anonymous", "signed-in"])
def test_generated_page_requests_never_fail_or_redirect_away(request, browser, make_client,
                                                             signing_keys, signed):
    client = make_client()
    if signed:
        request.getfixturevalue("signed_in")
    web = browser.client

    @settings(max_examples=120, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(path=st.sampled_from(PATHS),
           pairs=st.lists(st.tuples(st.sampled_from(NAMES), _values(client.client_id)),
                          max_size=8),
           method=st.sampled_from(["GET", "GET", "POST"]))
    def check(path: str, pairs: list[tuple[str, str]], method: str) -> None:
        query = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
        answer: Any = web.open(path, method=method, query_string=query,
                               data=query if method == "POST" else None,
                               content_type="application/x-www-form-urlencoded")
        assert answer.status_code < 500, (path, answer.status_code, answer.get_data()[:300])
        if 300 <= answer.status_code < 400:
            location = answer.headers["Location"]
            assert _allowed(location), (path, pairs, location)

    check()


def test_sign_in_returns_only_to_our_own_pages(browser, reader):
    """The ``next`` a sign-in returns to, whatever it was given."""
    ours = ["/account", "/device?user_code=X", "/oauth/authorize?client_id=x"]

    @settings(max_examples=25, deadline=None, database=None,  # within the address limit
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(target=st.one_of(st.sampled_from([*EVIL, *ours]), st.text(max_size=40)))
    def check(target: str) -> None:
        page = browser.client.get("/login")  # each sign-in starts a new cookie session
        answer = browser.client.post("/login", data={
            "csrf_token": browser.csrf(page.get_data(as_text=True)),
            "identifier": reader.card_number, "password": reader.password, "next": target})
        assert answer.status_code == 302, answer.get_data()[:300]
        assert _allowed(answer.headers["Location"]), (target, answer.headers["Location"])

    check()


def test_sign_in_with_generated_identifiers_is_refused_not_failed(browser, reader):
    @settings(max_examples=20, deadline=None, database=None,  # within the address limit
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(identifier=st.one_of(st.text(max_size=40), st.sampled_from(
               ["\x00", reader.card_number + "\x00", "x" * 5000])),
           password=st.one_of(st.text(max_size=40), st.just("\x00" * 10)))
    def check(identifier: str, password: str) -> None:
        page = browser.client.get("/login")
        answer = browser.client.post("/login", data={
            "csrf_token": browser.csrf(page.get_data(as_text=True)),
            "identifier": identifier, "password": password, "next": "/account"})
        assert answer.status_code in (401, 429), (identifier, answer.status_code)

    check()


def test_generated_account_forms_never_fail(signed_in, make_client, signing_keys):
    """The signed-in reader's own forms (CSRF token included), with generated fields;
    the last one may sign the reader out, after which they answer with the sign-in
    page."""
    web = signed_in.client
    client = make_client()

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(path=st.sampled_from(["/account/consents/revoke", "/account/sessions/end",
                                 "/card/lost", "/device"]),
           fields=st.dictionaries(st.sampled_from(["client_id", "session_id", "user_code",
                                                   "decision", "confirm"]),
                                  _values(client.client_id), max_size=3))
    def check(path: str, fields: dict[str, str]) -> None:
        page = web.get("/account")
        token = (signed_in.csrf(page.get_data(as_text=True)) if page.status_code == 200
                 else "")
        answer = web.post(path, data={"csrf_token": token, **fields})
        assert answer.status_code < 500, (path, fields, answer.get_data()[:300])
        if 300 <= answer.status_code < 400:
            assert _allowed(answer.headers["Location"]), answer.headers["Location"]

    check()
