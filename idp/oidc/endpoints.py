"""Token checks shared by resource-facing endpoints; userinfo, introspection
(RFC 7662) and revocation (RFC 7009) as Authlib endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6749.errors import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfoEndpoint
from sqlalchemy import exists, null, select
from sqlalchemy.orm import Session, lazyload

from ..app import db
from ..models import (
    Library,
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
from .refusals import NoBearerToken
from .runtime import provider
from .tokens import REFRESH_PREFIX, REFRESH_PURPOSE, AccessToken, timestamp


@dataclass(frozen=True)
class _Verdict:
    """The database's answer on a verified access token, kept per token string
    for ``idp.oidc.cache.TTL_SECONDS``."""

    claims: dict[str, Any]
    live: bool
    client_pk: int | None = None
    library_id: int | None = None
    library_code: str | None = None
    reader_id: str | None = None


def _verdict(session: Session, claims: dict[str, Any]) -> _Verdict:
    """One query: the client (not removed), the jti (not revoked) and, for a
    reader's token, its grant and session (still open)."""
    sid = claims.get("sid")
    reader = (select(LoginSession.reader_id).join(SessionClient)
              .where(SessionClient.sid == sid, SessionClient.revoked_at.is_(None),
                     LoginSession.ended_at.is_(None))
              .scalar_subquery() if sid is not None else null())
    row = session.execute(
        select(OAuthClient.id, OAuthClient.library_id, Library.code,
               exists().where(RevokedAccessToken.jti == claims["jti"]).label("revoked"),
               reader.label("reader_id"))
        .join(Library, Library.id == OAuthClient.library_id)
        .where(OAuthClient.client_id == claims["client_id"], OAuthClient.removed_at.is_(None))
    ).first()
    if row is None or row.revoked or (sid is not None and row.reader_id is None):
        return _Verdict(claims, live=False)
    return _Verdict(claims, True, row.id, row.library_id, row.code, row.reader_id)


def check_access_token(session: Callable[[], Session], token_string: str) -> AccessToken | None:
    """A live access token: good signature and lifetime, not revoked, its client
    not removed, and (for a reader's token) its grant and session still open.
    ``session`` is called only when the answer is not cached."""
    running = provider()
    cache = running.cache.tokens
    verdict = cache.get(token_string)
    if verdict is None:
        generation = cache.generation
        verified = running.tokens.verify(token_string)
        if verified is None:
            return None
        verdict = _verdict(session(), verified.claims)
        cache.put(token_string, verdict, generation)
    if not verdict.live:
        return None
    token = running.tokens.current(verdict.claims)  # the lifetime, on every use
    if token is None:
        return None
    token.client_pk = verdict.client_pk
    token.extra.update(library_id=verdict.library_id, library_code=verdict.library_code)
    if verdict.reader_id is not None:
        token.extra["reader_id"] = verdict.reader_id
    return token


class _Validator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return check_access_token(db, token_string)


def resource_protector() -> ResourceProtector:
    protector = ResourceProtector()
    protector.register_token_validator(_Validator())
    return protector


class UserInfo(UserInfoEndpoint):  # type: ignore[misc]
    """OIDC Core 5.3: claims for the token's scopes; only for a reader's token."""

    def __call__(self, request: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        try:
            token: AccessToken = self.resource_protector.acquire_token("openid")
        except (MissingAuthorizationError, UnsupportedTokenTypeError):
            raise NoBearerToken() from None
        session = db()
        # Not its identity documents, which Reader loads by default (no claim uses them).
        reader = session.get(Reader, token.extra.get("reader_id", ""),
                             options=[lazyload(Reader.documents)])
        if reader is None:
            raise InvalidTokenError("the token does not belong to a reader")
        claims = user_claims(session, provider().ctx, reader,
                             library_id=token.extra["library_id"],
                             library_code=token.extra["library_code"],
                             scopes=set(token.scope.split()))
        if claims["sub"] != token.claims["sub"]:
            raise InvalidTokenError("the token's subject does not match")
        return 200, claims, [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _query_token(token_string: str) -> AccessToken | RefreshAdapter | None:
    if not isinstance(token_string, str) or len(token_string) > 8192:
        return None
    ctx = provider().ctx
    if token_string.startswith(REFRESH_PREFIX):
        row = db().scalar(select(RefreshToken).where(
            RefreshToken.token_hash == ctx.hasher.digest(REFRESH_PURPOSE, token_string)))
        return RefreshAdapter(row, timestamp(ctx.now())) if row is not None else None
    return check_access_token(db, token_string)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012  (Authlib API)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return _query_token(token_string)

    def check_permission(self, token: Any, client: Any, request: Any) -> bool:
        """Only clients of the same member library (the same subject sector)."""
        if isinstance(token, RefreshAdapter):
            return bool(token.row.client_pk == client.record.id)
        return bool(token.extra["library_id"] == client.record.library_id)

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
