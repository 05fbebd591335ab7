"""Device authorization grant (RFC 8628) end to end over HTTP: a kiosk asks for a
code and polls, a reader's phone signs in and approves, the frozen clock paces
the polling."""

from __future__ import annotations

import io
import re
from urllib.parse import urljoin

import jwt
import pytest
import requests
from PIL import Image

from idp.oidc import device
from idp.oidc.clients import DEVICE_GRANT

from ...cards.test_qr import decode_qr, rasterise_svg

GRANTS = [DEVICE_GRANT, "refresh_token"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _kiosk(make_client, **over):
    options = {"kind": "public", "redirect_uris": [], "grant_types": GRANTS}
    options.update(over)
    return make_client(**options)


def _start(server, client, scope="openid reader_card"):
    return requests.post(f"{server}/oauth/device_authorization", timeout=5,
                         data={"client_id": client.client_id, "scope": scope})


def _poll(server, client, device_code):
    return requests.post(f"{server}/oauth/token", timeout=5, data={
        "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client.client_id})


def _phone(server, reader, url):
    """Open ``url`` on a phone: sign in, land on the device page."""
    http = requests.Session()
    to_login = http.get(url, allow_redirects=False, timeout=5)
    assert to_login.status_code == 302 and "/login" in to_login.headers["Location"]
    form = http.get(urljoin(server, to_login.headers["Location"]), timeout=5)
    next_url = form.url.split("next=", 1)[1]
    back = http.post(f"{server}/login", allow_redirects=False, timeout=5, data={
        "csrf_token": CSRF.search(form.text)[1], "identifier": reader.card_number,
        "password": reader.password, "next": requests.utils.unquote(next_url)})
    page = http.get(urljoin(server, back.headers["Location"]), timeout=5)
    return http, page


def _answer(server, http, page, user_code, decision):
    return http.post(f"{server}/device", timeout=5, data={
        "csrf_token": CSRF.search(page.text)[1], "user_code": user_code, "decision": decision})


def test_scan_to_log_in(live_server, clock, ctx, reader, make_client, signing_keys):
    kiosk = _kiosk(make_client)
    config = requests.get(f"{live_server}/.well-known/openid-configuration", timeout=5).json()
    assert config["device_authorization_endpoint"] == f"{live_server}/oauth/device_authorization"
    assert DEVICE_GRANT in config["grant_types_supported"]
    start = _start(live_server, kiosk)
    assert start.status_code == 200 and start.headers["Cache-Control"] == "no-store"
    body = start.json()
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == f"{live_server}/device"
    complete = f"{live_server}/device?user_code={body['user_code']}"
    assert body["verification_uri_complete"] == complete
    assert body["interval"] == ctx.settings.oidc.device_poll_interval

    pending = _poll(live_server, kiosk, body["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    fast = _poll(live_server, kiosk, body["device_code"]).json()
    assert fast["error"] == "slow_down" and "10 seconds" in fast["error_description"]
    clock.advance(seconds=5)  # the old interval is no longer enough (RFC 8628 3.5)
    assert _poll(live_server, kiosk, body["device_code"]).json()["error"] == "slow_down"
    clock.advance(seconds=15)
    assert _poll(live_server, kiosk, body["device_code"]).json()["error"] == (
        "authorization_pending")

    http, page = _phone(live_server, reader, body["verification_uri_complete"])
    assert page.status_code == 200 and body["user_code"] in page.text and "Allow" in page.text
    done = _answer(live_server, http, page, body["user_code"], "allow")
    assert done.status_code == 200 and "signed in on the device" in done.text

    clock.advance(seconds=15)
    tokens = _poll(live_server, kiosk, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    issued = tokens.json()
    assert {"access_token", "refresh_token", "id_token"} <= set(issued)
    jwks = requests.get(config["jwks_uri"], timeout=5).json()
    kid = jwt.get_unverified_header(issued["id_token"])["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    claims = jwt.decode(issued["id_token"], key, algorithms=["ES256"], audience=kiosk.client_id,
                        issuer=live_server, options={"verify_exp": False, "verify_iat": False})
    assert claims["auth_time"] == int(clock().timestamp()) - 15 and "nonce" not in claims
    info = requests.get(config["userinfo_endpoint"], timeout=5,
                        headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert info.json()["sub"] == claims["sub"] and info.json()["card_number"]

    clock.advance(seconds=15)
    again = _poll(live_server, kiosk, body["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # one use
    account = http.get(f"{live_server}/account", timeout=5)
    assert account.text.count("<li>since") == 2  # the phone's sign-in and the kiosk's


def test_denied_and_expired(live_server, clock, ctx, reader, make_client, signing_keys):
    kiosk = _kiosk(make_client)
    denied = _start(live_server, kiosk).json()
    expired = _start(live_server, kiosk).json()
    http, page = _phone(live_server, reader, denied["verification_uri_complete"])
    assert "Request denied" in _answer(live_server, http, page, denied["user_code"], "deny").text
    assert _poll(live_server, kiosk, denied["device_code"]).json()["error"] == "access_denied"
    clock.advance(seconds=ctx.settings.oidc.device_code_seconds)
    assert _poll(live_server, kiosk, expired["device_code"]).json()["error"] == "expired_token"
    late = http.get(expired["verification_uri_complete"], timeout=5)
    assert late.status_code == 404 and "wrong, expired or already used" in late.text


def test_code_entry_accepts_any_case_and_is_rate_limited(live_server, clock, ctx, reader,
                                                        make_client, signing_keys):
    kiosk = _kiosk(make_client)
    body = _start(live_server, kiosk).json()
    http, page = _phone(live_server, reader, f"{live_server}/device")
    assert 'name="user_code"' in page.text
    token = CSRF.search(page.text)[1]
    typed = body["user_code"].replace("-", " ").lower()
    found = http.post(f"{live_server}/device", data={"csrf_token": token, "user_code": typed},
                      timeout=5)
    assert found.status_code == 200 and body["user_code"] in found.text
    limit = ctx.settings.oidc.user_code_failures_per_address
    for _ in range(limit):
        wrong = http.post(f"{live_server}/device", timeout=5,
                          data={"csrf_token": token, "user_code": "BBBB-BBBB"})
        assert wrong.status_code == 400
    blocked = http.post(f"{live_server}/device", timeout=5,
                        data={"csrf_token": token, "user_code": body["user_code"]})
    assert blocked.status_code == 429  # even the right code, until the window ends
    clock.advance(seconds=60)
    assert http.post(f"{live_server}/device", timeout=5, data={
        "csrf_token": token, "user_code": body["user_code"]}).status_code == 200


def test_protocol_errors(live_server, make_client, signing_keys):
    kiosk = _kiosk(make_client)
    other = _kiosk(make_client)
    web_only = make_client(kind="public")
    assert _start(live_server, web_only).json()["error"] == "unauthorized_client"
    assert _start(live_server, kiosk, scope="openid admin").json()["error"] == "invalid_scope"
    assert _start(live_server, kiosk, scope="").json()["error"] == "invalid_scope"
    unknown = requests.post(f"{live_server}/oauth/device_authorization", timeout=5,
                            data={"client_id": "nobody"})
    assert unknown.status_code in (400, 401) and unknown.json()["error"] == "invalid_client"
    code = _start(live_server, kiosk).json()["device_code"]
    stolen = _poll(live_server, other, code)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    missing = requests.post(f"{live_server}/oauth/token", timeout=5, data={
        "grant_type": DEVICE_GRANT, "client_id": kiosk.client_id})
    assert missing.json()["error"] == "invalid_request"
    for junk in ("\x00", "x" * 5000):
        assert _poll(live_server, kiosk, junk).status_code == 400


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_kiosk_qr_decodes_to_the_complete_uri(app, ctx, kind):
    response = app.test_client().get(f"/device/qr.{kind}", query_string={"user_code": "bcdf-ghjk"})
    assert response.status_code == 200
    image = (Image.open(io.BytesIO(response.data)) if kind == "png"
             else rasterise_svg(response.data))
    assert decode_qr(image).text == device.verification_uri_complete(ctx, "BCDF-GHJK")
    assert app.test_client().get("/device/qr.png?user_code=AEIOU").status_code == 400


def test_user_codes_use_the_unambiguous_alphabet():
    codes = {device.new_user_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(device.normalise_user_code(c.lower().replace("-", "")) == c for c in codes)
    assert device.normalise_user_code("B0DF-GHJK") is None
    assert device.normalise_user_code("BCDF-GHJ") is None
