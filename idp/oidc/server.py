"""Authlib's authorization server with our clients, token generator and grants
registered (STYLE 3: register, don't branch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Request, Response, request
from sqlalchemy import select

from ..app import db
from ..context import Context
from ..models import Library, OAuthClient
from . import device_grant, endpoints, grants, id_tokens, quick, refusals
from .adapters import ClientAdapter, ClientRecord
from .cache import TtlCache
from .clients import plausible_client_id
from .scopes import SCOPES
from .tokens import TokenIssuer


class _Issuer(IssuerParameter):  # type: ignore[misc]
    """RFC 9207: ``iss`` in every authorization response, errors included."""

    def __init__(self, issuer: str):
        self._issuer = issuer

    def get_issuer(self) -> str:
        return self._issuer


class _Request(OAuth2Request):  # type: ignore[misc]
    """Authlib's view of the current request, addressed by the public URL.

    Authlib reads the URI only to refuse OAuth over plain HTTP (RFC 6749 3.1,
    3.2). Behind the TLS-terminating proxy a deployment puts in front of the
    server, the request itself arrives over HTTP; what clients reach, and what
    must be HTTPS (or loopback), is ``[server] public_url``. Built on the request
    object itself: Authlib's own wrapper reads every field through Flask's
    context-local proxy, and spelled out the request's full URL, which together
    cost about a sixth of an introspection.
    """

    def __init__(self, flask_request: Request, public_url: str):
        super().__init__(flask_request.method, public_url + flask_request.path,
                         headers=flask_request.headers)
        self._request = flask_request
        self.payload = FlaskOAuth2Payload(flask_request)

    @property
    def args(self) -> Any:
        return self._request.args

    @property
    def form(self) -> Any:
        return self._request.form


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, ctx: Context, issuer: TokenIssuer, clients: TtlCache[str, ClientRecord]):
        super().__init__()
        self._ctx = ctx
        self._clients = clients
        self.scopes_supported = list(SCOPES)
        self.register_token_generator("default", issuer)
        self.issuer_parameter = _Issuer(ctx.settings.issuer)
        self.register_extension(self.issuer_parameter)
        self.register_grant(grants.AuthorizationCodeGrant,
                            [id_tokens.ReaderPassOpenIDCode(require_nonce=False),
                             grants.S256Challenge(required=True)])
        self.register_grant(grants.RefreshTokenGrant, [id_tokens.SessionIdToken()])
        self.register_grant(grants.ClientCredentialsGrant)
        self.register_grant(device_grant.ReaderPassDeviceCodeGrant, [id_tokens.SessionIdToken()])
        self.register_endpoint(device_grant.DeviceAuthorization)
        self.introspection = endpoints.Introspection(self)
        self.register_endpoint(self.introspection)
        self.register_endpoint(endpoints.Revocation)
        self.register_endpoint(endpoints.UserInfo(resource_protector=endpoints.resource_protector()))

    @property
    def public_url(self) -> str:
        return self._ctx.settings.server.public_url

    def create_oauth2_request(self, _request: Any) -> _Request:
        return _Request(request._get_current_object(),  # type: ignore[attr-defined]
                        self.public_url)

    def token_response(self) -> Response:
        """The token endpoint: a usual client_credentials request through
        :mod:`idp.oidc.quick`, anything else through Authlib's grants."""
        return self._quick_or(quick.client_credentials, self.create_token_response)

    def introspection_response(self) -> Response:
        """RFC 7662: a usual request through :mod:`idp.oidc.quick`, anything else
        through Authlib's endpoint."""
        return self._quick_or(quick.introspection,
                              lambda: self.create_endpoint_response("introspection"))

    def _quick_or(self, answer: Callable[[Server, Request], dict[str, Any] | None],
                  general: Callable[[], Response]) -> Response:
        body = answer(self, request._get_current_object())  # type: ignore[attr-defined]
        response: Response = (general() if body is None
                              else self.handle_response(200, body, default_json_headers))
        return response

    def get_authorization_grant(self, request: Any) -> Any:
        refusals.check_quoted_parameters(request.payload.data)
        return super().get_authorization_grant(request)

    def authenticate_client(self, request: Any, methods: Any, endpoint: str = "token") -> Any:
        refusals.check_basic_credentials(request.headers)
        return super().authenticate_client(request, methods, endpoint)

    def handle_error_response(self, request: Any, error: Any) -> Any:
        return super().handle_error_response(request, refusals.describe(error))

    def query_client(self, client_id: Any) -> ClientAdapter | None:
        if not plausible_client_id(client_id):
            return None
        record = self._clients.get(client_id)
        if record is None:
            generation = self._clients.generation
            row = db().execute(
                select(OAuthClient.id, OAuthClient.client_id, OAuthClient.library_id,
                       OAuthClient.kind, OAuthClient.secret_hash, OAuthClient.redirect_uris,
                       OAuthClient.post_logout_redirect_uris, OAuthClient.grant_types,
                       OAuthClient.scopes, Library.code)
                .join(Library, Library.id == OAuthClient.library_id)
                .where(OAuthClient.client_id == client_id, OAuthClient.removed_at.is_(None))
            ).first()
            if row is None:
                return None
            record = ClientRecord.of(row, row.code)
            self._clients.put(client_id, record, generation)
        return ClientAdapter(record, self._ctx.hasher, _load_client)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        grants.save_token(token, request)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: audit and state changes happen in the grants themselves."""


def _load_client(pk: int) -> OAuthClient | None:
    return db().get(OAuthClient, pk)
