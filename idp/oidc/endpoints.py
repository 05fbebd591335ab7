"""Token checks shared by resource-facing endpoints; userinfo, introspection
(RFC 7662) and revocation (RFC 7009) as Authlib endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfoEndpoint
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..app import db
from ..models import (
    LoginSession,
    OAuthClient,
    Reader,
    RefreshToken,
    RevokedAccessToken,
    SessionClient,
)
from . import sessions
from .adapters import RefreshAdapter
from .claims import pairwise_subject, user_claims
from .runtime import provider
from .tokens import REFRESH_PREFIX, REFRESH_PURPOSE, AccessToken, timestamp


def check_access_token(session: Session, token_string: str) -> AccessToken | None:
    """A live access token: good signature and lifetime, not revoked, its client
    not removed, and (for a reader's token) its grant and session still open."""
    token = provider().tokens.verify(token_string)
    if token is None:
        return None
    claims = token.claims
    row = session.execute(
        select(OAuthClient.id, OAuthClient.library_id,
               exists().where(RevokedAccessToken.jti == claims["jti"]).label("revoked"))
        .where(OAuthClient.client_id == claims["client_id"], OAuthClient.removed_at.is_(None))
    ).first()
    if row is None or row.revoked:
        return None
    token.client_pk = row.id
    token.extra["library_id"] = row.library_id
    sid = claims.get("sid")
    if sid is not None:
        reader_id = session.scalar(
            select(LoginSession.reader_id).join(SessionClient)
            .where(SessionClient.sid == sid, SessionClient.revoked_at.is_(None),
                   LoginSession.ended_at.is_(None))
        )
        if reader_id is None:
            return None
        token.extra["reader_id"] = reader_id
    return token


class _Validator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return check_access_token(db(), token_string)


def resource_protector() -> ResourceProtector:
    protector = ResourceProtector()
    protector.register_token_validator(_Validator())
    return protector


class UserInfo(UserInfoEndpoint):  # type: ignore[misc]
    """OIDC Core 5.3: claims for the token's scopes; only for a reader's token."""

    def __call__(self, request: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        token: AccessToken = self.resource_protector.acquire_token("openid")
        session = db()
        reader = session.get(Reader, token.extra.get("reader_id", ""))
        if reader is None:
            raise InvalidTokenError("the token does not belong to a reader")
        client = session.get(OAuthClient, token.client_pk)
        assert client is not None
        claims = user_claims(session, provider().ctx, reader, library_id=client.library_id,
                             library_code=client.library.code, scopes=set(token.scope.split()))
        if claims["sub"] != token.claims["sub"]:
            raise InvalidTokenError("the token's subject does not match")
        return 200, claims, [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _query_token(token_string: str) -> AccessToken | RefreshAdapter | None:
    if not isinstance(token_string, str) or len(token_string) > 8192:
        return None
    session = db()
    ctx = provider().ctx
    if token_string.startswith(REFRESH_PREFIX):
        row = session.scalar(select(RefreshToken).where(
            RefreshToken.token_hash == ctx.hasher.digest(REFRESH_PURPOSE, token_string)))
        return RefreshAdapter(row, timestamp(ctx.now())) if row is not None else None
    return check_access_token(session, token_string)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012  (Authlib API)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return _query_token(token_string)

    def check_permission(self, token: Any, client: Any, request: Any) -> bool:
        """Only clients of the same member library (the same subject sector)."""
        if isinstance(token, RefreshAdapter):
            return bool(token.row.client_pk == client.row.id)
        return bool(token.extra["library_id"] == client.row.library_id)

    def introspect_token(self, token: Any) -> dict[str, Any]:
        if isinstance(token, AccessToken):
            claims = token.claims
            names = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")
            body: dict[str, Any] = {key: claims[key] for key in names if key in claims}
            return {"active": True, "token_type": "Bearer", **body}
        row = token.row
        session = db()
        client = session.get(OAuthClient, row.client_pk)
        grant = session.get(SessionClient, row.sid)
        login = session.get(LoginSession, grant.session_id) if grant else None
        if client is None or client.removed_at is not None or grant is None or (
                grant.revoked_at is not None) or login is None or login.ended_at is not None:
            return {"active": False}
        ctx = provider().ctx
        return {"active": True, "token_type": "refresh_token", "scope": row.scope,
                "client_id": client.client_id, "iss": ctx.settings.issuer,
                "sub": pairwise_subject(ctx, client.library.code, login.reader_id),
                "exp": timestamp(row.expires_at), "iat": timestamp(row.created_at)}


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012  (Authlib API)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return _query_token(token_string)

    def revoke_token(self, token: Any, request: Any) -> None:
        session = db()
        now: dt.datetime = provider().ctx.now()
        if isinstance(token, RefreshAdapter):
            sessions.revoke_grant(session, token.row.sid, now)  # RFC 7009 2.1
            return
        jti = token.claims["jti"]
        if session.get(RevokedAccessToken, jti) is None:
            session.add(RevokedAccessToken(
                jti=jti, revoked_at=now,
                expires_at=dt.datetime.fromtimestamp(int(token.claims["exp"]), dt.UTC)))
