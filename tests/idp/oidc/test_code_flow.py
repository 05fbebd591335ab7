"""Authorization code + PKCE through the pages, and its negative cases."""

from __future__ import annotations

import pytest

from .conftest import REDIRECT, pkce_pair, redirect_params


def _params(client, challenge, **over):
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
              "scope": "openid profile reader_card", "state": "st-1", "nonce": "n-1",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(over)
    return {k: v for k, v in params.items() if v is not None}


def _code(browser, client, challenge, **over):
    response = browser.authorize(_params(client, challenge, **over))
    assert response.status_code == 302, response.get_data(as_text=True)
    return redirect_params(response)


def _exchange(app, client, code, verifier, **over):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    data.update(over)
    auth = (client.client_id, client.secret) if client.secret else None
    if auth is None:
        data["client_id"] = client.client_id
    return app.test_client().post("/oauth/token", data={k: v for k, v in data.items() if v},
                                  auth=auth)


def test_code_flow_issues_tokens_and_userinfo(app, ctx, signed_in, make_client, signing_keys):
    client = make_client()
    verifier, challenge = pkce_pair()
    params = _code(signed_in, client, challenge)
    assert params["iss"] == ctx.settings.issuer and params["state"] == "st-1"
    tokens = _exchange(app, client, params["code"], verifier)
    assert tokens.status_code == 200, tokens.json
    body = tokens.json
    assert body["token_type"] == "Bearer" and "id_token" in body and "refresh_token" in body
    info = app.test_client().get("/oauth/userinfo",
                                 headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert set(info.json) >= {"sub", "name", "card_number", "local_barcode", "home_library"}
    assert info.json["local_barcode"] is None and "phone_number" not in info.json


def test_consent_is_remembered_and_revocable(app, signed_in, make_client, signing_keys):
    client = make_client()
    _, challenge = pkce_pair()
    _code(signed_in, client, challenge)
    again = signed_in.client.get("/oauth/authorize", query_string=_params(client, challenge))
    assert again.status_code == 302  # no second consent page
    more = signed_in.client.get("/oauth/authorize",
                                query_string=_params(client, challenge, scope="openid phone"))
    assert more.status_code == 200 and b"decision" in more.data
    account = signed_in.client.get("/account")
    signed_in.client.post("/account/consents/revoke", data={
        "csrf_token": signed_in.csrf(account.get_data(as_text=True)),
        "client_id": client.client_id})
    asked = signed_in.client.get("/oauth/authorize", query_string=_params(client, challenge))
    assert asked.status_code == 200 and b"decision" in asked.data


def test_denied_consent_returns_access_denied_with_iss(ctx, signed_in, make_client,
                                                       signing_keys):
    client = make_client()
    _, challenge = pkce_pair()
    response = signed_in.authorize(_params(client, challenge), consent="deny")
    params = redirect_params(response)
    assert params["error"] == "access_denied" and params["iss"] == ctx.settings.issuer


def test_wrong_redirect_uri_is_shown_not_followed(signed_in, make_client, signing_keys):
    client = make_client()
    _, challenge = pkce_pair()
    response = signed_in.client.get("/oauth/authorize", query_string=_params(
        client, challenge, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert b"invalid_request" in response.data


def test_unknown_scope_is_invalid_scope(signed_in, make_client, signing_keys):
    client = make_client()
    _, challenge = pkce_pair()
    response = signed_in.client.get("/oauth/authorize",
                                    query_string=_params(client, challenge, scope="openid admin"))
    assert redirect_params(response)["error"] == "invalid_scope"


def test_public_client_needs_s256_pkce(signed_in, make_client, signing_keys):
    client = make_client(kind="public")
    _, challenge = pkce_pair()
    missing = signed_in.client.get("/oauth/authorize", query_string=_params(
        client, None, code_challenge_method=None))
    assert redirect_params(missing)["error"] == "invalid_request"
    plain = signed_in.client.get("/oauth/authorize", query_string=_params(
        client, challenge, code_challenge_method="plain"))
    assert "S256" in redirect_params(plain)["error_description"]


def test_reused_code_fails_and_revokes_its_tokens(app, signed_in, make_client, signing_keys):
    client = make_client()
    verifier, challenge = pkce_pair()
    code = _code(signed_in, client, challenge)["code"]
    first = _exchange(app, client, code, verifier).json
    second = _exchange(app, client, code, verifier)
    assert second.status_code == 400 and second.json["error"] == "invalid_grant"
    info = app.test_client().get("/oauth/userinfo",
                                 headers={"Authorization": f"Bearer {first['access_token']}"})
    assert info.status_code == 401
    refresh = app.test_client().post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client.client_id, client.secret))
    assert refresh.json["error"] == "invalid_grant"


@pytest.mark.parametrize("verifier", [None, "x" * 50])
def test_missing_or_wrong_verifier(app, signed_in, make_client, signing_keys, verifier):
    client = make_client(kind="public")
    _, challenge = pkce_pair()
    code = _code(signed_in, client, challenge)["code"]
    response = _exchange(app, client, code, verifier)
    assert response.status_code == 400
    assert response.json["error"] == ("invalid_request" if verifier is None else "invalid_grant")


def test_expired_code_and_expired_access_token(app, clock, ctx, signed_in, make_client,
                                               signing_keys):
    client = make_client()
    verifier, challenge = pkce_pair()
    code = _code(signed_in, client, challenge)["code"]
    clock.advance(seconds=ctx.settings.oidc.code_seconds + 1)
    assert _exchange(app, client, code, verifier).json["error"] == "invalid_grant"
    code = _code(signed_in, client, challenge)["code"]
    token = _exchange(app, client, code, verifier).json["access_token"]
    clock.advance(seconds=ctx.settings.oidc.access_token_seconds + 1)
    info = app.test_client().get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert info.status_code == 401 and "invalid_token" in info.headers["WWW-Authenticate"]


def test_tampered_token_is_rejected(app, signed_in, make_client, signing_keys):
    client = make_client()
    verifier, challenge = pkce_pair()
    token = _exchange(app, client, _code(signed_in, client, challenge)["code"],
                      verifier).json["access_token"]
    head, body, sig = token.split(".")
    tampered = f"{head}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    info = app.test_client().get("/oauth/userinfo",
                                 headers={"Authorization": f"Bearer {tampered}"})
    assert info.status_code == 401


def test_prompt_none_without_session_is_login_required(browser, ctx, make_client, signing_keys):
    client = make_client()
    _, challenge = pkce_pair()
    response = browser.client.get("/oauth/authorize",
                                  query_string=_params(client, challenge, prompt="none"))
    params = redirect_params(response)
    assert params["error"] == "login_required" and params["iss"] == ctx.settings.issuer


def test_login_redirect_then_back_to_authorize(browser, reader, make_client, signing_keys):
    client = make_client()
    _, challenge = pkce_pair()
    first = browser.client.get("/oauth/authorize", query_string=_params(client, challenge))
    assert first.status_code == 302 and "/login" in first.headers["Location"]
    next_url = redirect_params(first)["next"]
    back = browser.login(reader.card_number, reader.password, next_url)
    assert back.headers["Location"] == next_url


def test_subjects_are_pairwise_per_library(app, browser, reader, make_client, signing_keys):
    browser.login(reader.card_number, reader.password)
    subjects = []
    for library in ("PROV", "PROV", "CITY"):
        client = make_client(library=library)
        verifier, challenge = pkce_pair()
        code = _code(browser, client, challenge)["code"]
        token = _exchange(app, client, code, verifier).json["access_token"]
        info = app.test_client().get("/oauth/userinfo",
                                     headers={"Authorization": f"Bearer {token}"})
        subjects.append(info.json["sub"])
    assert subjects[0] == subjects[1] != subjects[2]
    assert reader.reader_id not in subjects


def test_max_age_in_other_digits_is_invalid_request(signed_in, make_client, signing_keys):
    """'²' passes str.isdigit but is no number; '١٢' is one to int() but not to OAuth."""
    client = make_client()
    _, challenge = pkce_pair()
    for value in ("²", "١٢", "-1", "1e3"):
        answer = signed_in.authorize({
            "response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
            "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256",
            "max_age": value}, consent=None)
        assert answer.status_code == 302, (value, answer.status_code)
        assert redirect_params(answer)["error"] == "invalid_request"


def test_malformed_requests_never_500(app, make_client, signing_keys):
    web = app.test_client()
    for data in ({}, {"grant_type": "authorization_code"}, {"grant_type": "x" * 5000},
                 {"grant_type": "refresh_token", "refresh_token": "\x00"}):
        assert web.post("/oauth/token", data=data).status_code in (400, 401)
    assert web.post("/oauth/token", data=b"\xff\xfe", content_type="application/json"
                    ).status_code in (400, 401)
    assert web.get("/oauth/authorize", query_string={"client_id": "\x00" * 100}).status_code == 400
    assert web.get("/oauth/userinfo", headers={"Authorization": "Bearer a.b.c"}).status_code == 401
