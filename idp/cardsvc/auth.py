"""Who is calling: a signed-in reader (page session or an access token with scope
``reader_card``) or a gate (a client_credentials access token of a library's client)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import request

from ..api.problems import Unauthorized
from ..app import db
from ..errors import Forbidden
from ..models import Reader
from ..oidc.endpoints import check_access_token
from ..oidc.tokens import AccessToken
from ..oidc.views_pages import current_principal

READER_SCOPE = "reader_card"


def bearer_value(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header's value, else ``None``."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _bearer() -> str | None:
    return bearer_value(request.headers.get("Authorization", ""))


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


class GateTokens:
    """This worker's verified gate tokens, so that the online endpoint does not check
    the token again on every scan (signature, then the database's verdict).

    The window (README "Reader cards and gates"): an entry lives at most ``ttl``
    seconds (``cards.gate_token_cache_seconds``, at most 30; 0 turns the cache off),
    and never past its token's ``exp``. A commit in this worker that revokes an access
    token or changes a client, library or signing key empties it at once (wired to the
    OIDC cache's hooks in :func:`idp.cardsvc.init_app`); the same change made by
    another process (the CLI, another worker) takes effect here within ``ttl``
    seconds. At most ``max_entries`` tokens are kept; the oldest go first. Times are
    the service clock's, in whole seconds.
    """

    def __init__(self, ttl: int, max_entries: int = 10_000):
        self.ttl = ttl
        self._max = max_entries
        self._lock = threading.Lock()
        self._known: OrderedDict[bytes, tuple[int, int, Gate]] = OrderedDict()
        self.generation = 0

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str, now: int) -> Gate | None:
        found = self._known.get(self._key(token)) if self.ttl else None
        if found is None:
            return None
        stored_at, until, gate = found
        return gate if stored_at <= now < until else None  # a clock set back ends it too

    def put(self, token: str, gate: Gate, *, expires_at: int, now: int,
            generation: int) -> None:
        """Keep ``gate`` for a token checked while the cache was at ``generation``
        (a check that overlapped a revocation here is not kept)."""
        if not self.ttl:
            return
        key = self._key(token)
        with self._lock:
            if generation != self.generation:
                return
            self._known.pop(key, None)
            self._known[key] = (now, min(expires_at, now + self.ttl), gate)
            while len(self._known) > self._max:
                self._known.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._known = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)


def current_gate(cache: GateTokens, now: int) -> Gate:
    """The gate's client (client_credentials: the token has no reader)."""
    value = _bearer()
    if value is not None and (known := cache.get(value, now)) is not None:
        return known
    generation = cache.generation
    token = _token()
    if "reader_id" in token.extra or token.client_pk is None:
        raise Forbidden("a reader's token cannot act as a gate; use client_credentials",
                        code="not_a_gate")
    # The token check read the client and its library (not removed) in the same query.
    gate = Gate(str(token.claims["client_id"]), int(token.extra["library_id"]),
                str(token.extra["library_code"]))
    cache.put(value or "", gate, expires_at=int(token.claims["exp"]), now=now,
              generation=generation)
    return gate
