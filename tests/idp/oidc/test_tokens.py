"""Refresh rotation and reuse detection, client_credentials, introspection (RFC 7662)
and revocation (RFC 7009)."""

from __future__ import annotations

from .conftest import pkce_pair
from .test_code_flow import _code, _exchange


def _refresh(app, client, token):
    return app.test_client().post("/oauth/token", auth=(client.client_id, client.secret),
                                  data={"grant_type": "refresh_token", "refresh_token": token})


def _tokens(app, browser, client):
    verifier, challenge = pkce_pair()
    return _exchange(app, client, _code(browser, client, challenge)["code"], verifier).json


def test_refresh_rotates_and_a_reused_token_revokes_the_family(app, signed_in, make_client,
                                                                signing_keys):
    client = make_client()
    first = _tokens(app, signed_in, client)
    second = _refresh(app, client, first["refresh_token"]).json
    assert second["refresh_token"] != first["refresh_token"]
    reused = _refresh(app, client, first["refresh_token"])
    assert reused.status_code == 400 and reused.json["error"] == "invalid_grant"
    assert _refresh(app, client, second["refresh_token"]).json["error"] == "invalid_grant"


def test_refresh_returns_a_new_id_token_for_openid(app, clock, signed_in, make_client,
                                                   signing_keys):
    """OIDC Core 12.2: same iss, sub, aud and auth_time; a new iat."""
    import jwt

    client = make_client()
    first = _tokens(app, signed_in, client)
    clock.advance(seconds=120)
    second = _refresh(app, client, first["refresh_token"]).json
    options = {"verify_signature": False}
    old = jwt.decode(first["id_token"], options=options)
    new = jwt.decode(second["id_token"], options=options)
    for name in ("iss", "sub", "aud", "auth_time", "sid"):
        assert new[name] == old[name]
    assert new["iat"] == old["iat"] + 120 and "nonce" not in new


def test_client_credentials_then_introspect_and_revoke(app, make_client, signing_keys):
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    resource = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    other_library = make_client(library="CITY", grant_types=["client_credentials"],
                                scopes=["reader_card"])
    web = app.test_client()
    token = web.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "scope": "reader_card"},
                     auth=(backend.client_id, backend.secret)).json["access_token"]

    def introspect(caller):
        return web.post("/oauth/introspect", data={"token": token},
                        auth=(caller.client_id, caller.secret)).json

    seen = introspect(resource)
    assert seen["active"] is True and seen["client_id"] == backend.client_id
    assert introspect(other_library) == {"active": False}  # another sector learns nothing
    assert web.post("/oauth/introspect", data={"token": token}).status_code == 401
    revoked = web.post("/oauth/revoke", data={"token": token},
                       auth=(backend.client_id, backend.secret))
    assert revoked.status_code == 200
    assert introspect(resource) == {"active": False}


def test_client_credentials_errors(app, make_client, signing_keys):
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    web = app.test_client()
    bad_scope = web.post("/oauth/token", data={"grant_type": "client_credentials",
                                               "scope": "phone"},
                         auth=(backend.client_id, backend.secret))
    assert bad_scope.json["error"] == "invalid_scope"
    wrong_secret = web.post("/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(backend.client_id, "rpcs_wrong"))
    assert wrong_secret.status_code == 401 and wrong_secret.json["error"] == "invalid_client"


def test_removed_client_cannot_authenticate_and_its_tokens_die(app, ctx, make_client,
                                                               signing_keys):
    from idp.oidc import clients
    from idp.services.actor import Actor

    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    resource = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    web = app.test_client()
    token = web.post("/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(backend.client_id, backend.secret)).json["access_token"]
    with ctx.transaction() as session:
        clients.remove_client(session, ctx, backend.client_id, actor=Actor.cli())
    again = web.post("/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(backend.client_id, backend.secret))
    assert again.json["error"] == "invalid_client"
    assert web.post("/oauth/introspect", data={"token": token},
                    auth=(resource.client_id, resource.secret)).json == {"active": False}


def test_logout_everywhere_ends_tokens(app, signed_in, make_client, signing_keys):
    client = make_client()
    tokens = _tokens(app, signed_in, client)
    account = signed_in.client.get("/account")
    signed_in.client.post("/account/logout-everywhere",
                          data={"csrf_token": signed_in.csrf(account.get_data(as_text=True))})
    info = app.test_client().get("/oauth/userinfo",
                                 headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401
    assert _refresh(app, client, tokens["refresh_token"]).json["error"] == "invalid_grant"
