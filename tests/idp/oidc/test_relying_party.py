"""A strict relying party, written here on PyJWT and requests (not Authlib),
logs a reader in over real HTTP and checks everything a certified RP checks:
issuer, RFC 9207 ``iss``, state, nonce, signature and key id, audience, lifetime
against the frozen clock, ``at_hash``, PKCE, and userinfo's ``sub``."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests

from .conftest import REDIRECT, pkce_pair


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_strict_relying_party_login(live_server, clock, reader, make_client, signing_keys):
    client = make_client()
    http = requests.Session()
    config = http.get(f"{live_server}/.well-known/openid-configuration", timeout=5).json()
    assert config["issuer"] == live_server  # OIDC Discovery 4.3
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
              "scope": "openid profile", "state": state, "nonce": nonce,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    to_login = http.get(config["authorization_endpoint"], params=params, allow_redirects=False,
                        timeout=5)
    login_url = urljoin(live_server, to_login.headers["Location"])
    form = http.get(login_url, timeout=5)
    back = http.post(f"{live_server}/login", allow_redirects=False, timeout=5, data={
        "csrf_token": _csrf(form.text), "identifier": reader.card_number,
        "password": reader.password, "next": _query(login_url)["next"]})
    consent_page = http.get(urljoin(live_server, back.headers["Location"]), timeout=5)
    assert consent_page.status_code == 200
    answer = http.post(consent_page.url, data={"csrf_token": _csrf(consent_page.text),
                                               "decision": "allow"},
                       allow_redirects=False, timeout=5)
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    callback = _query(location)
    assert callback["iss"] == config["issuer"]  # RFC 9207 2.4
    assert callback["state"] == state

    wrong = requests.post(config["token_endpoint"], timeout=5, auth=(client.client_id,
                                                                     client.secret), data={
        "grant_type": "authorization_code", "code": callback["code"], "redirect_uri": REDIRECT,
        "code_verifier": pkce_pair()[0]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    # The failed exchange burned the code: log in again and exchange properly.
    again = http.get(config["authorization_endpoint"], params=params, allow_redirects=False,
                     timeout=5)
    callback = _query(again.headers["Location"])
    response = requests.post(config["token_endpoint"], timeout=5,
                             auth=(client.client_id, client.secret), data={
        "grant_type": "authorization_code", "code": callback["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()

    jwks = requests.get(config["jwks_uri"], timeout=5).json()
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "ES256"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(tokens["id_token"], jwt.PyJWK(key).key, algorithms=["ES256"],
                        audience=client.client_id, issuer=config["issuer"],
                        options={"verify_exp": False, "verify_iat": False,
                                 "require": ["iss", "sub", "aud", "exp", "iat"]})
    now = int(clock().timestamp())
    assert claims["iat"] <= now < claims["exp"]
    assert claims["nonce"] == nonce
    assert abs(claims["auth_time"] - now) < 5
    digest = hashlib.sha256(tokens["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert set(claims) <= {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
                           "sid", "amr"}  # minimal claims; names only in userinfo

    forged = jwt.encode(dict(claims), "k" * 48, algorithm="HS256")
    try:
        jwt.decode(forged, jwt.PyJWK(key).key, algorithms=["ES256"], audience=client.client_id)
    except jwt.InvalidTokenError:
        pass
    else:
        raise AssertionError("an HS256 token passed an ES256-only check")

    info = requests.get(config["userinfo_endpoint"], timeout=5,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert info["sub"] == claims["sub"] and info["name"]
    assert reader.reader_id not in info.values()
