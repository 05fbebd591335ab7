"""The usual machine-to-machine requests answered without Authlib's request machinery.

Member back-ends ask for ``client_credentials`` tokens, and resource servers
introspect the bearer token of each call they receive, so nearly every such
request looks the same: a form body, a confidential client authenticating with
its secret, and (for introspection) a live access token of the client's own
library. For those, :func:`introspection` and :func:`client_credentials` check
what Authlib's endpoint and grant check, in the same order where the order decides
the answer (the transport, client authentication method by method, the token, the
grant and scope), with the same objects (the client cache and secret check, the
token verdict cache, the token issuer, the payload
:class:`~idp.oidc.endpoints.Introspection` builds), and return the body Authlib
would. Authlib's request object, client-authentication registry and grant
dispatch took about half of such a request's time in the view.

Anything else returns ``None`` and goes through Authlib, which gives the answer
and every error: a request that fails any check; a refresh token or any hint but
``access_token``; an ``Authorization`` header that is not canonical Basic
credentials; a query string on a token request; a repeated parameter; a body
that is not ``application/x-www-form-urlencoded`` UTF-8 within the request limit.
:class:`~idp.oidc.server.Server` tries these before Authlib.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749 import InvalidScopeError
from flask import Request

from ..app import db
from .adapters import ClientAdapter
from .endpoints import check_access_token
from .grants import ClientCredentialsGrant, scope_refusal

if TYPE_CHECKING:
    from .server import Server

FORM = "application/x-www-form-urlencoded"
#: A larger body (a token is about 700 bytes) goes the general way.
MAX_BODY = 4096
GRANT = ClientCredentialsGrant.GRANT_TYPE


def introspection(server: Server, request: Request) -> dict[str, Any] | None:
    """RFC 7662's answer on a live access token, or ``None``."""
    fields = _form(server, request)
    if fields is None:
        return None
    endpoint = server.introspection
    client = _client(server, request, fields, endpoint.CLIENT_AUTH_METHODS,
                     endpoint.ENDPOINT_NAME)
    token_string = fields.get("token")
    if client is None or not token_string or (
            fields.get("token_type_hint", "access_token") != "access_token"):
        return None
    token = check_access_token(db, token_string)
    if token is None or not endpoint.check_permission(token, client, None):
        return None
    body: dict[str, Any] = endpoint.create_introspection_payload(token)
    return body


def client_credentials(server: Server, request: Request) -> dict[str, Any] | None:
    """A ``client_credentials`` token response (RFC 6749 4.4.3), or ``None``."""
    fields = _form(server, request)
    if fields is None or request.query_string or fields.get("grant_type") != GRANT:
        return None  # Authlib reads the grant's parameters from the query string too
    client = _client(server, request, fields, ClientCredentialsGrant.TOKEN_ENDPOINT_AUTH_METHODS,
                     "token")
    scope = fields.get("scope")
    if client is None or not client.check_grant_type(GRANT) or (
            scope_refusal(client, scope) is not None):
        return None
    try:
        server.validate_requested_scope(scope)
    except InvalidScopeError:
        return None
    token: dict[str, Any] = server.generate_token(
        grant_type=GRANT, client=client, user=None, scope=scope, expires_in=None,
        include_refresh_token=False)
    return token


def _form(server: Server, request: Request) -> dict[str, str] | None:
    """The form's fields as werkzeug parses them (the same ``parse_qsl``), when the
    request is one Authlib would read: over a secure transport as Authlib judges the
    public URL, a form body within the size limits, UTF-8, and no name repeated."""
    size, limit = request.content_length or 0, request.max_content_length
    if request.mimetype != FORM or not 0 < size <= MAX_BODY or (
            limit is not None and size > limit) or (
            not is_secure_transport(server.public_url + request.path)):
        return None
    try:
        pairs = parse_qsl(request.get_data(cache=True).decode(), keep_blank_values=True,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    fields = dict(pairs)
    return fields if len(fields) == len(pairs) else None


def _client(server: Server, request: Request, fields: dict[str, str], methods: list[str],
            endpoint: str) -> ClientAdapter | None:
    """The client Authlib's authentication finds when, of ``methods`` in order, the
    first that finds credentials in the request accepts them."""
    for method in methods:
        found = _credentials(method, request, fields)
        if found is None:
            return None
        client_id, secret = found
        if not client_id or not secret:
            continue  # Authlib's method finds nothing and the next is tried
        client = server.query_client(client_id)
        if client is None or not client.check_client_secret(secret) or (
                not client.check_endpoint_auth_method(method, endpoint)):
            return None
        return client
    return None


def _credentials(method: str, request: Request, fields: dict[str, str]
                 ) -> tuple[str | None, str | None] | None:
    """(client id, secret) as ``method`` finds them in the request; ``None`` for a
    method this module does not read, or a header it does not take apart."""
    if method == "client_secret_post":
        return fields.get("client_id"), fields.get("client_secret")
    if method != "client_secret_basic":
        return None
    authorization = request.headers.get("Authorization")
    return (None, None) if authorization is None else _basic(authorization)


def _basic(authorization: str) -> tuple[str, str] | None:
    """``Basic base64(id:secret)`` in canonical base64 and UTF-8; id and secret
    are percent-decoded as Authlib does (RFC 6749 2.3.1)."""
    scheme, space, credentials = authorization.partition(" ")
    if scheme != "Basic" or not space:
        return None
    try:
        decoded = binascii.a2b_base64(credentials, strict_mode=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote(client_id), unquote(secret)
