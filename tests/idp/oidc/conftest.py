"""Fixtures for the OpenID Connect provider: keys, clients, a reader with a
password, a browser-like test client and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from idp.app import create_app
from idp.context import Context
from idp.oidc import clients, keys
from idp.schemas import RegistrationIn
from idp.services.actor import Actor
from idp.services.registration import register_reader

from ..conftest import registration

REDIRECT = "https://opac.example.org/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


@dataclass
class Client:
    client_id: str
    secret: str | None
    library: str


@dataclass
class ReaderLogin:
    reader_id: str
    card_number: str
    password: str


@pytest.fixture
def signing_keys(ctx: Context) -> None:
    with ctx.transaction() as session:
        keys.rotate(session, ctx, actor=Actor.cli())


@pytest.fixture
def make_client(ctx: Context):
    def make(library: str = "PROV", kind: str = "confidential", **over: Any) -> Client:
        options: dict[str, Any] = {
            "name": f"{library} OPAC", "library": library, "kind": kind,
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "profile", "phone", "reader_card"],
        }
        options.update(over)
        with ctx.transaction() as session:
            client, secret = clients.add_client(session, ctx, actor=Actor.cli(), **options)
            return Client(client.client_id, secret, library)

    return make


@pytest.fixture
def reader(ctx: Context, people) -> ReaderLogin:
    person = people.reader(min_age=20)
    data = RegistrationIn.model_validate(registration(person))
    with ctx.transaction() as session:
        row = register_reader(session, ctx, data, actor=Actor.cli())
        return ReaderLogin(row.id, row.card_number, person.password)


class Browser:
    """Flask's test client driving the pages as a reader would (CSRF included)."""

    def __init__(self, app: Any):
        self.client = app.test_client()

    def csrf(self, html: str) -> str:
        marker = 'name="csrf_token" value="'
        start = html.index(marker) + len(marker)
        return html[start:html.index('"', start)]

    def login(self, identifier: str, password: str, next_url: str = "/account") -> Any:
        page = self.client.get("/login", query_string={"next": next_url})
        return self.client.post("/login", data={
            "csrf_token": self.csrf(page.get_data(as_text=True)), "identifier": identifier,
            "password": password, "next": next_url})

    def authorize(self, params: dict[str, str], *, consent: str | None = "allow") -> Any:
        """Follow /oauth/authorize; answer a consent page with ``consent``."""
        response = self.client.get("/oauth/authorize", query_string=params)
        if response.status_code == 200 and consent and b"decision" in response.data:
            action = "/oauth/authorize?" + urlsplit(response.request.url).query
            response = self.client.post(action, data={
                "csrf_token": self.csrf(response.get_data(as_text=True)), "decision": consent})
        return response


def redirect_params(response: Any) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def browser(app: Any) -> Browser:
    return Browser(app)


@pytest.fixture
def signed_in(browser: Browser, reader: ReaderLogin) -> Browser:
    response = browser.login(reader.card_number, reader.password)
    assert response.status_code == 302
    return browser


@pytest.fixture
def live_oidc(ctx: Context) -> Iterator[tuple[str, Any]]:
    """The app on a real socket; the issuer is its URL. Yields (URL, app)."""
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{server.server_port}"
    settings = ctx.settings.model_copy(update={
        "oidc": ctx.settings.oidc.model_copy(update={"issuer": url})})
    live_ctx = dataclasses.replace(ctx, settings=settings)
    app = create_app(context=live_ctx)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url, app
    server.shutdown()
    thread.join(5)


@pytest.fixture
def live_server(live_oidc: tuple[str, Any]) -> str:
    return live_oidc[0]


@pytest.fixture
def live_app(live_oidc: tuple[str, Any]) -> Any:
    """The app behind ``live_server``."""
    return live_oidc[1]
