"""RP-initiated logout and back-channel logout to a relying party that is down,
then up again: the delivery is retried with backoff and nothing is lost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
import socket
import threading
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from sqlalchemy import select

from idp.models import LogoutDelivery
from idp.oidc import backchannel
from idp.oidc.keyring import Keyring
from idp.oidc.runtime import EXTENSION

from .conftest import REDIRECT, pkce_pair
from .receiver import Receiver, free_port
from .test_tokens import _tokens

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BYE = "https://opac.example.org/signed-out"


def _sign_in(server, reader, client):
    """A reader's browser signs in through the client and the client gets tokens."""
    http = requests.Session()
    verifier, challenge = pkce_pair()
    params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
              "scope": "openid profile", "state": "s", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    to_login = http.get(f"{server}/oauth/authorize", params=params, allow_redirects=False,
                        timeout=5)
    form = http.get(urljoin(server, to_login.headers["Location"]), timeout=5)
    back = http.post(f"{server}/login", allow_redirects=False, timeout=5, data={
        "csrf_token": CSRF.search(form.text)[1], "identifier": reader.card_number,
        "password": reader.password, "next": requests.utils.unquote(
            form.url.split("next=", 1)[1])})
    consent = http.get(urljoin(server, back.headers["Location"]), timeout=5)
    answer = http.post(consent.url, allow_redirects=False, timeout=5, data={
        "csrf_token": CSRF.search(consent.text)[1], "decision": "allow"})
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{server}/oauth/token", timeout=5,
                           auth=(client.client_id, client.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}).json()
    return http, tokens


def _also_sign_in(http, server, client):
    """The same browser signs in to a second client (one session, two clients)."""
    verifier, challenge = pkce_pair()
    consent = http.get(f"{server}/oauth/authorize", timeout=5, params={
        "response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    answer = http.post(consent.url, allow_redirects=False, timeout=5, data={
        "csrf_token": CSRF.search(consent.text)[1], "decision": "allow"})
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    return requests.post(f"{server}/oauth/token", timeout=5,
                         auth=(client.client_id, client.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}).json()


class Hanging:
    """A back-channel logout endpoint that accepts connections and never answers."""

    def __init__(self, port: int):
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(0.05)
        self.accepted: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                self.accepted.append(self.listener.accept()[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def _eventually(check, within: float) -> bool:
    """Whether ``check()`` comes true within ``within`` seconds (polled: the
    deliveries run on other threads)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def live_ctx(ctx, live_server):
    oidc = ctx.settings.oidc.model_copy(update={"issuer": live_server})
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"oidc": oidc}))


def test_logout_reaches_a_client_that_was_down(live_server, live_app, live_ctx, clock, reader,
                                               make_client, signing_keys):
    port = free_port()
    client = make_client(backchannel_logout_uri=f"http://127.0.0.1:{port}/backchannel-logout",
                         post_logout_redirect_uris=[BYE])
    receiver = Receiver(port, jwks=lambda: requests.get(f"{live_server}/oauth/jwks",
                                                        timeout=5).json(),
                        issuer=live_server, client_id=client.client_id,
                        now=lambda: int(clock().timestamp()))
    http, tokens = _sign_in(live_server, reader, client)
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})

    out = http.get(f"{live_server}/oauth/logout", allow_redirects=False, timeout=5, params={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE, "state": "x y"})
    assert out.status_code == 302 and out.headers["Location"] == BYE + "?state=x+y"
    assert "/login" in http.get(f"{live_server}/account", allow_redirects=False,
                                timeout=5).headers["Location"]
    assert live_app.extensions[EXTENSION].logouts.drain(10)  # the first attempt, beside
    with live_ctx.sessions() as session:
        row = session.scalars(select(LogoutDelivery)).one()
        assert row.attempts == 1 and row.delivered_at is None and row.last_error
        retry = dt.timedelta(seconds=live_ctx.settings.oidc.logout_retry_seconds)
        assert row.next_attempt_at == clock() + retry
    keyring = Keyring(live_ctx)
    receiver.start()
    try:
        assert backchannel.deliver_due(live_ctx, keyring).delivered == 0  # backing off
        clock.advance(seconds=live_ctx.settings.oidc.logout_retry_seconds)
        assert backchannel.deliver_due(live_ctx, keyring) == backchannel.Outcome(delivered=1)
        assert backchannel.deliver_due(live_ctx, keyring) == backchannel.Outcome()
    finally:
        receiver.stop()
    assert receiver.rejected == []
    [claims] = receiver.received
    assert claims["sid"] == id_token["sid"] and claims["sub"] == id_token["sub"]
    info = requests.get(f"{live_server}/oauth/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401


def test_logout_does_not_wait_for_a_client_that_hangs(live_server, live_app, live_ctx, clock,
                                                       reader, make_client, signing_keys):
    """One client's endpoint accepts the connection and never answers: the reader's
    logout returns at once, the other client hears of it at once, and the hanging
    one gets its logout token from the retry command once it is back."""
    hung_port, up_port = free_port(), free_port()
    hung = make_client(name="Hung OPAC", post_logout_redirect_uris=[BYE],
                       backchannel_logout_uri=f"http://127.0.0.1:{hung_port}/backchannel-logout")
    up = make_client(name="Discovery",
                     backchannel_logout_uri=f"http://127.0.0.1:{up_port}/backchannel-logout")

    def receiver(port, client):
        return Receiver(port, jwks=lambda: requests.get(f"{live_server}/oauth/jwks",
                                                        timeout=5).json(),
                        issuer=live_server, client_id=client.client_id,
                        now=lambda: int(clock().timestamp()))

    hanging, listening = Hanging(hung_port), receiver(up_port, up)
    listening.start()
    try:
        http, tokens = _sign_in(live_server, reader, hung)
        _also_sign_in(http, live_server, up)
        timeout = live_ctx.settings.oidc.logout_timeout_seconds
        started = time.monotonic()
        out = http.get(f"{live_server}/oauth/logout", allow_redirects=False, timeout=timeout,
                       params={"id_token_hint": tokens["id_token"],
                               "post_logout_redirect_uri": BYE})
        took = time.monotonic() - started
        assert out.status_code == 302 and out.headers["Location"] == BYE
        assert took < 1.0 < timeout
        # Beside the request: the working client at once, the hung one connected to.
        assert _eventually(lambda: len(listening.received) == 1, within=timeout / 2)
        assert _eventually(lambda: len(hanging.accepted) == 1, within=timeout / 2)
        sender = live_app.extensions[EXTENSION].logouts
        assert sender.drain(timeout + 10)
    finally:
        hanging.close()
        listening.stop()
    with live_ctx.sessions() as session:
        rows = {row.client_pk: row for row in session.scalars(select(LogoutDelivery))}
        assert len(rows) == 2
        [pending] = [row for row in rows.values() if row.delivered_at is None]
        assert pending.attempts == 1 and "timed out" in (pending.last_error or "")

    back = receiver(hung_port, hung)
    back.start()
    try:
        keyring = Keyring(live_ctx)
        clock.advance(seconds=live_ctx.settings.oidc.logout_retry_seconds)
        assert backchannel.deliver_due(live_ctx, keyring) == backchannel.Outcome(delivered=1)
    finally:
        back.stop()
    id_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert [claims["sid"] for claims in back.received] == [id_token["sid"]]
    assert back.rejected == [] and listening.rejected == []


def test_backoff_doubles_then_gives_up(ctx, clock, reader, make_client, signing_keys, app,
                                       signed_in):
    client = make_client(backchannel_logout_uri="http://127.0.0.1:9/never")
    _tokens(app, signed_in, client)
    attempts = []

    def down(url, form, timeout):
        attempts.append(clock())
        raise ConnectionRefusedError("refused")

    account = signed_in.client.get("/account")
    signed_in.client.post("/account/logout-everywhere",
                          data={"csrf_token": signed_in.csrf(account.get_data(as_text=True))})
    assert app.extensions[EXTENSION].logouts.drain(10)
    keyring = Keyring(ctx)
    for _ in range(ctx.settings.oidc.logout_max_attempts + 2):
        clock.advance(days=1)
        backchannel.deliver_due(ctx, keyring, post=down)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert len(attempts) == ctx.settings.oidc.logout_max_attempts - 1  # the first was at once
    assert all(gap == 86400 for gap in gaps)
    assert [backchannel.backoff(ctx, n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    with ctx.sessions() as session:
        row = session.scalars(select(LogoutDelivery)).one()
        assert row.gave_up_at is not None and row.delivered_at is None


def test_logout_without_a_matching_hint_asks_first(live_server, reader, make_client,
                                                  signing_keys):
    client = make_client(post_logout_redirect_uris=[BYE])
    http, _ = _sign_in(live_server, reader, client)
    page = http.get(f"{live_server}/oauth/logout", timeout=5,
                    params={"client_id": client.client_id, "post_logout_redirect_uri": BYE})
    assert page.status_code == 200 and "Sign out of ReaderPass?" in page.text
    forged = http.post(f"{live_server}/oauth/logout", allow_redirects=False, timeout=5,
                       data={"confirm": "yes", "client_id": client.client_id})
    assert forged.status_code == 400  # no CSRF token: nothing ended
    assert http.get(f"{live_server}/account", timeout=5).status_code == 200
    done = http.post(f"{live_server}/oauth/logout", allow_redirects=False, timeout=5, data={
        "csrf_token": CSRF.search(page.text)[1], "confirm": "yes",
        "client_id": client.client_id, "post_logout_redirect_uri": BYE})
    assert done.status_code == 302 and done.headers["Location"] == BYE


@pytest.mark.parametrize("params", [
    {"post_logout_redirect_uri": BYE},  # nothing to check it against
    {"client_id": "{client}", "post_logout_redirect_uri": "https://evil.example/"},
    {"id_token_hint": "a.b.c"},
    {"id_token_hint": "{access_token}"},  # an access token is not an ID token
    {"id_token_hint": "{id_token}", "client_id": "someone-else"},
    {"client_id": "x" * 500},
])
def test_bad_logout_requests_never_redirect(app, signed_in, make_client, signing_keys, params):
    client = make_client(post_logout_redirect_uris=[BYE])
    tokens = _tokens(app, signed_in, client)
    values = {k: v.format(client=client.client_id, **tokens) for k, v in params.items()}
    response = signed_in.client.get("/oauth/logout", query_string=values)
    assert response.status_code == 400 and "Location" not in response.headers
    assert b"invalid_request" in response.data
    assert signed_in.client.get("/account").status_code == 200  # still signed in


def test_deliver_logouts_command(database_url, tmp_path):
    """The operator's command retries what is due, or with --all-pending everything."""
    import json

    from click.testing import CliRunner

    from idp.cli import cli
    from idp.config_file import render_config
    from idp.context import Context
    from idp.oidc import clients, keys
    from idp.schemas import LibraryIn
    from idp.services import libraries
    from idp.services.actor import Actor
    from idp.settings import load_settings

    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    ctx = Context.build(load_settings(config))
    port = free_port()
    with ctx.transaction() as session:
        libraries.add_library(session, LibraryIn(code="PROV", name="P"), actor=Actor.cli(),
                              now=ctx.now())
        keys.rotate(session, ctx, actor=Actor.cli())
        client, _ = clients.add_client(
            session, ctx, name="OPAC", library="PROV", kind="confidential", redirect_uris=[],
            grant_types=["client_credentials"], scopes=["reader_card"], actor=Actor.cli(),
            backchannel_logout_uri=f"http://127.0.0.1:{port}/backchannel-logout")
        session.add(LogoutDelivery(client_pk=client.id, sid="sid-1", subject="sub-1",
                                   attempts=0, created_at=ctx.now(), next_attempt_at=ctx.now()))
        client_id = client.client_id
    receiver = Receiver(port, jwks=lambda: json.loads(Keyring(ctx).jwks_body()),
                        issuer=ctx.settings.issuer, client_id=client_id,
                        now=lambda: int(ctx.now().timestamp()))

    def run(*args):
        result = CliRunner().invoke(cli, ["--config", str(config), "oidc", *args, "--json"],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    assert run("deliver-logouts") == [{"delivered": 0, "retrying": 1, "gave_up": 0}]
    [pending] = run("logouts")
    assert pending["client_id"] == client_id and pending["attempts"] == 1
    receiver.start()
    try:
        assert run("deliver-logouts") == [{"delivered": 0, "retrying": 0, "gave_up": 0}]
        assert run("deliver-logouts", "--all-pending")[0]["delivered"] == 1
    finally:
        receiver.stop()
    assert [c["sid"] for c in receiver.received] == ["sid-1"] and run("logouts") == []
    ctx.dispose()


def test_account_lists_sessions_and_ends_one(app, reader, make_client, signing_keys):
    from .conftest import Browser

    phone, laptop = Browser(app), Browser(app)
    phone.login(reader.card_number, reader.password)
    laptop.login(reader.card_number, reader.password)
    _tokens(app, laptop, make_client(name="City OPAC"))
    page = phone.client.get("/account").get_data(as_text=True)
    assert page.count("Sign out</button>") == 2 and "City OPAC" in page
    laptop_item = next(item for item in page.split("<li>") if "City OPAC" in item)
    laptop_session = re.search(r'name="session_id" value="([^"]+)"', laptop_item)[1]
    phone.client.post("/account/sessions/end", data={
        "csrf_token": phone.csrf(page), "session_id": laptop_session})
    assert laptop.client.get("/account").status_code == 302
    assert phone.client.get("/account").status_code == 200


def test_a_client_id_that_cannot_be_one_is_unknown(app, make_client, signing_keys):
    web = app.test_client()
    for client_id in ("\x00", "x\x00", "é", "x" * 65):
        answer = web.get("/oauth/logout", query_string={"client_id": client_id})
        assert answer.status_code == 400 and b"client_id" in answer.data, client_id
