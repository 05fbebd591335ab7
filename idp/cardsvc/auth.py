"""Who is calling: a signed-in reader (page session or an access token with scope
``reader_card``) or a gate (a client_credentials access token of a library's client)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from flask import request

from ..api.problems import Unauthorized
from ..app import db
from ..errors import Forbidden
from ..models import OAuthClient, Reader
from ..oidc.endpoints import check_access_token
from ..oidc.tokens import AccessToken
from ..oidc.views_pages import current_principal

READER_SCOPE = "reader_card"


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _token() -> AccessToken:
    value = _bearer()
    if value is None:
        raise Unauthorized("send an access token as 'Authorization: Bearer TOKEN'")
    token = check_access_token(db, value)
    if token is None:
        raise Unauthorized("the access token is invalid, expired or revoked")
    return token


def current_reader(*, token_only: bool = False) -> Reader:
    """The reader of a bearer token with ``reader_card``, else of the page session
    (never for state-changing calls without CSRF protection: ``token_only``)."""
    if token_only or _bearer() is not None:
        token = _token()
        reader_id = token.extra.get("reader_id")
        if reader_id is None or READER_SCOPE not in token.scope.split():
            raise Forbidden(f"the token needs a reader and the scope {READER_SCOPE}",
                            code="insufficient_scope")
        reader = db().get(Reader, reader_id)
        if reader is None:
            raise Unauthorized("the token's reader no longer exists")
        return reader
    principal = current_principal()
    if principal is None:
        raise Unauthorized("sign in first (or send an access token with scope reader_card)")
    return principal.reader


@dataclass(frozen=True)
class Gate:
    client_id: str
    library_id: int
    library_code: str
    valid_until: int


class GateTokens:
    """Verified gate tokens, kept for up to ``TTL`` seconds (or their expiry): the
    online endpoint then costs no token database look-up. A revoked token or removed
    client stops working within ``TTL`` seconds."""

    TTL = 30
    MAX = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[bytes, Gate] = {}

    def get(self, token: str, now: int) -> Gate | None:
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            gate = self._known.get(key)
        return gate if gate is not None and now < gate.valid_until else None

    def put(self, token: str, gate: Gate, now: int) -> None:
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            if len(self._known) >= self.MAX:
                self._known = {k: v for k, v in self._known.items() if now < v.valid_until}
            if len(self._known) < self.MAX:
                self._known[key] = gate


def current_gate(cache: GateTokens, now: int) -> Gate:
    """The gate's client (client_credentials: the token has no reader)."""
    value = _bearer()
    if value is not None and (known := cache.get(value, now)) is not None:
        return known
    token = _token()
    if "reader_id" in token.extra or token.client_pk is None:
        raise Forbidden("a reader's token cannot act as a gate; use client_credentials",
                        code="not_a_gate")
    client = db().get(OAuthClient, token.client_pk)
    if client is None:
        raise Unauthorized("the client no longer exists")
    gate = Gate(client.client_id, client.library_id, client.library.code,
                min(int(token.claims["exp"]), now + GateTokens.TTL))
    cache.put(_bearer() or "", gate, now)
    return gate
