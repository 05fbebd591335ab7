"""Who is calling: a signed-in reader (page session or an access token with scope
``reader_card``) or a gate (a client_credentials access token of a library's client)."""

from __future__ import annotations

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
    token = check_access_token(db(), value)
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


def current_gate() -> OAuthClient:
    """The gate's client (client_credentials: the token has no reader)."""
    token = _token()
    if "reader_id" in token.extra or token.client_pk is None:
        raise Forbidden("a reader's token cannot act as a gate; use client_credentials",
                        code="not_a_gate")
    client = db().get(OAuthClient, token.client_pk)
    if client is None:
        raise Unauthorized("the client no longer exists")
    return client
