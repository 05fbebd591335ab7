"""Introspection's usual request answered without Authlib's request machinery.

A resource server introspects the bearer token of each call it receives, so
nearly every introspection request is the same: a well-formed form body, a
confidential client of a member library authenticating with its secret, and a
live access token of that library. For such a request :func:`payload` makes
exactly the checks of :class:`idp.oidc.endpoints.Introspection` with the same
objects (the client cache, the secret check, the token verdict cache and the
payload the endpoint builds), so the view answers the same bytes. Authlib's
request object, client-authentication registry and endpoint dispatch took about
half of such a request's time in the view.

Anything else returns ``None`` and goes through Authlib, which gives the answer
and every error: a refresh token or any hint other than ``access_token``, a token
that is not active or belongs to another library, a client that fails to
authenticate, an ``Authorization`` header that is not plain Basic credentials, a
repeated or percent-encoded parameter, a body that is not
``application/x-www-form-urlencoded`` ASCII.
"""

from __future__ import annotations

import binascii
from typing import Any

from flask import Request

from ..app import db
from .adapters import ClientAdapter
from .endpoints import Introspection, check_access_token
from .server import Server

FORM = "application/x-www-form-urlencoded"
#: A larger body (a token is about 700 bytes) goes the general way.
MAX_BODY = 4096


def payload(server: Server, endpoint: Introspection, request: Request) -> dict[str, Any] | None:
    """The introspection response body for the usual request, or ``None``."""
    if request.mimetype != FORM or not 0 < (request.content_length or 0) <= MAX_BODY:
        return None
    fields = _fields(request.get_data(cache=True))
    if fields is None:
        return None
    client = _client(server, request.headers.get("Authorization"), fields)
    token_string = fields.get("token")
    if client is None or not token_string or fields.get("token_type_hint", "access_token") != (
            "access_token"):
        return None
    token = check_access_token(db, token_string)
    if token is None or token.is_expired() or token.is_revoked() or (
            not endpoint.check_permission(token, client, None)):
        return None
    body = endpoint.introspect_token(token)
    body.setdefault("active", True)
    return body


def _fields(body: bytes) -> dict[str, str] | None:
    """``name=value&...`` where nothing needs decoding and no name repeats."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    if "%" in text or "+" in text:
        return None
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        name, equals, value = pair.partition("=")
        if not equals or name in fields:
            return None
        fields[name] = value
    return fields


def _client(server: Server, authorization: str | None,
            fields: dict[str, str]) -> ClientAdapter | None:
    """The client as Authlib's authentication finds it, where the first method tried
    succeeds."""
    if authorization is None:
        method = "client_secret_post"
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
    else:  # Authlib tries Basic first, and only Basic's failure would reach the form
        method = "client_secret_basic"
        client_id, secret = _basic(authorization)
    if not client_id or not secret:
        return None
    client = server.query_client(client_id)
    if client is None or not client.check_client_secret(secret) or (
            not client.check_endpoint_auth_method(method, Introspection.ENDPOINT_NAME)):
        return None
    return client


def _basic(authorization: str) -> tuple[str | None, str | None]:
    """``Basic base64(id:secret)`` in canonical base64 with nothing to unquote."""
    scheme, space, credentials = authorization.partition(" ")
    if scheme != "Basic" or not space:
        return None, None
    try:
        decoded = binascii.a2b_base64(credentials, strict_mode=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    client_id, colon, secret = decoded.partition(":")
    if not colon or "%" in decoded:
        return None, None
    return client_id, secret
