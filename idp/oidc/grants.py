"""Authorization code (+ PKCE), refresh and client-credentials grants: Authlib's
classes with our storage plugged in (ID tokens: ``id_tokens``)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, cast

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import CursorResult, Result, select, update

from ..app import db
from ..models import AuthorizationCode, LoginSession, Reader, RefreshToken, SessionClient
from ..services.actor import Actor
from ..services.first_use import provision_on_first_use
from . import sessions
from .adapters import CodeAdapter, RefreshAdapter
from .runtime import provider
from .tokens import REFRESH_PURPOSE, timestamp

CODE_PURPOSE = "oidc-authorization-code"
CLIENT_AUTH = ["client_secret_basic", "client_secret_post", "none"]


def _rowcount(result: Result[Any]) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


def _hash(purpose: str, value: str) -> str:
    return provider().ctx.hasher.digest(purpose, value)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def save_authorization_code(self, code: str, request: Any) -> None:
        ctx = provider().ctx
        data = request.payload.data
        now = ctx.now()
        db().add(AuthorizationCode(
            code_hash=_hash(CODE_PURPOSE, code), client_pk=request.client.row.id,
            session_id=request.user.session.id, redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            created_at=now, expires_at=now + dt.timedelta(seconds=ctx.settings.oidc.code_seconds),
        ))
        provision_on_first_use(db(), ctx, request.user.reader, request.client.row.library,
                               actor=Actor.system("sso"))

    def query_authorization_code(self, code: str, client: Any) -> CodeAdapter | None:
        """Claim the code atomically; a second use revokes what the first obtained
        (RFC 6749 4.1.2, RFC 9700 4.2.4)."""
        if not isinstance(code, str) or len(code) > 128:
            return None
        now = provider().ctx.now()
        session = db()
        digest = _hash(CODE_PURPOSE, code)
        row = session.scalar(select(AuthorizationCode).where(
            AuthorizationCode.code_hash == digest, AuthorizationCode.client_pk == client.row.id))
        if row is None:
            return None
        claimed = _rowcount(session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=now)
        ))
        if not claimed:
            if row.family_id:
                sessions.revoke_grant(session, row.family_id, now)
            return None
        if row.expires_at <= now:
            return None
        login = session.get(LoginSession, row.session_id)
        if login is None:
            return None
        return CodeAdapter(row, timestamp(login.auth_time), login.amr)

    def delete_authorization_code(self, authorization_code: CodeAdapter) -> None:
        """Already marked used when claimed."""

    def authenticate_user(self, authorization_code: CodeAdapter) -> sessions.Principal | None:
        ctx = provider().ctx
        session = db()
        login = session.get(LoginSession, authorization_code.row.session_id)
        principal = sessions.active(session, ctx, login.id if login else None)
        if principal is None:
            return None
        client = self.request.client
        principal.sid = sessions.grant_sid(session, ctx, principal.session, client.row)
        principal.library_code = client.library_code
        authorization_code.row.family_id = principal.sid
        return principal


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only (RFC 9700 2.1.1), required for public clients."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012  (Authlib API)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("public clients must send a PKCE code_challenge (S256)")


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Rotation on every use; presenting a used token revokes the whole grant
    (RFC 9700 4.14.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshAdapter | None:
        if not isinstance(refresh_token, str) or len(refresh_token) > 128:
            return None
        ctx = provider().ctx
        session = db()
        now = ctx.now()
        row = session.scalar(select(RefreshToken).where(
            RefreshToken.token_hash == _hash(REFRESH_PURPOSE, refresh_token)))
        if row is None or row.revoked_at is not None:
            return None
        claimed = _rowcount(session.execute(
            update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        ))
        if not claimed:
            sessions.revoke_grant(session, row.sid, now)
            return None
        if row.expires_at <= now:
            return None
        return RefreshAdapter(row, timestamp(now))

    def authenticate_user(self, refresh_token: RefreshAdapter) -> sessions.Principal | None:
        session = db()
        grant = session.get(SessionClient, refresh_token.row.sid)
        if grant is None or grant.revoked_at is not None:
            return None
        login = session.get(LoginSession, grant.session_id)
        if login is None or login.ended_at is not None:
            return None
        reader = session.get(Reader, login.reader_id)
        if reader is None or reader.status not in sessions.CAN_SIGN_IN:
            return None
        return sessions.Principal(reader, login, sid=grant.sid,
                                  library_code=self.request.client.library_code)

    def revoke_old_credential(self, refresh_token: RefreshAdapter) -> None:
        """Already marked used when claimed."""


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012  (Authlib API)

    def validate_token_request(self) -> None:
        super().validate_token_request()
        refusal = scope_refusal(self.request.client, self.request.payload.scope)
        if refusal is not None:
            raise InvalidScopeError(refusal)


def scope_refusal(client: Any, scope: str | None) -> str | None:
    """Why a client_credentials request may not have ``scope``, or None when it may."""
    if client.get_allowed_scope(scope) is None:
        return "the client may not request this scope"
    if "openid" in (scope or "").split():
        return "openid needs a reader; client_credentials has none"
    return None


def save_token(token: dict[str, Any], request: Any) -> None:
    """Persist the refresh token (access tokens are self-contained)."""
    refresh = token.get("refresh_token")
    if not refresh:
        return
    ctx = provider().ctx
    now = ctx.now()
    previous = getattr(request, "refresh_token", None)
    family = previous.row.family_id if previous is not None else secrets.token_urlsafe(16)
    db().add(RefreshToken(
        token_hash=_hash(REFRESH_PURPOSE, refresh), family_id=family,
        client_pk=request.client.row.id, sid=request.user.sid, scope=token.get("scope", ""),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ctx.settings.oidc.refresh_token_seconds),
    ))
