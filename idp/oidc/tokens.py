"""Self-contained access tokens (JWT, RFC 9068) and opaque refresh tokens.

An access token needs no database row to be issued or verified; revocation
adds its ``jti`` to a table, and a token issued to a reader names its grant
(``sid``), so ending a session or revoking a grant ends its access tokens too.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from joserfc.errors import JoseError

from ..context import Context
from .claims import pairwise_subject
from .keyring import Keyring

ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068 2.1
REFRESH_PREFIX = "rprt_"
REFRESH_PURPOSE = "oidc-refresh-token"


def timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


@dataclass
class AccessToken:
    """A verified access token; ``revoked`` is filled in by the caller's checks.

    Implements what Authlib's resource protector, introspection and revocation
    endpoints ask of a token.
    """

    claims: dict[str, Any]
    now: dt.datetime
    revoked: bool = False
    client_pk: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int(self.claims["exp"]) - timestamp(self.now)

    def is_expired(self) -> bool:
        return self.get_expires_in() <= 0

    def is_revoked(self) -> bool:
        return self.revoked

    def check_client(self, client: Any) -> bool:
        return bool(self.claims.get("client_id") == client.get_client_id())


class TokenIssuer:
    """Authlib's token generator (registered as the server's "default")."""

    def __init__(self, ctx: Context, keyring: Keyring):
        self._ctx = ctx
        self._keyring = keyring

    def access_token(self, *, client_id: str, subject: str, scope: str,
                     sid: str | None = None) -> tuple[str, int]:
        now = self._ctx.now()
        lifetime = self._ctx.settings.oidc.access_token_seconds
        claims: dict[str, Any] = {
            "iss": self._ctx.settings.issuer, "sub": subject, "aud": client_id,
            "client_id": client_id, "scope": scope, "iat": timestamp(now),
            "exp": timestamp(now) + lifetime, "jti": secrets.token_urlsafe(16),
        }
        if sid is not None:
            claims["sid"] = sid
        return self._keyring.sign(claims, typ=ACCESS_TOKEN_TYPE), lifetime

    def __call__(self, grant_type: str, client: Any, user: Any = None, scope: str | None = None,
                 expires_in: int | None = None, include_refresh_token: bool = True
                 ) -> dict[str, Any]:
        scope = scope or ""
        if user is None:  # client_credentials: the client is the subject (RFC 9068 2.2)
            token, lifetime = self.access_token(client_id=client.client_id,
                                                subject=client.client_id, scope=scope)
        else:
            subject = pairwise_subject(self._ctx, client.library_code, user.reader.id)
            token, lifetime = self.access_token(client_id=client.client_id, subject=subject,
                                                scope=scope, sid=user.sid)
        result: dict[str, Any] = {"token_type": "Bearer", "access_token": token,
                                  "expires_in": lifetime, "scope": scope}
        if include_refresh_token and user is not None:
            result["refresh_token"] = REFRESH_PREFIX + secrets.token_urlsafe(32)
        return result

    def verify(self, token: str) -> AccessToken | None:
        """Signature, type, issuer and lifetime; None when any fails."""
        try:
            claims = self._keyring.decode(token, typ=ACCESS_TOKEN_TYPE)
        except (JoseError, ValueError):
            return None
        return self.current(claims)

    def current(self, claims: dict[str, Any]) -> AccessToken | None:
        """Issuer, lifetime and claim types of verified claims, against the clock
        (also for claims verified earlier and kept)."""
        now = self._ctx.now()
        try:
            if claims.get("iss") != self._ctx.settings.issuer:
                return None
            if int(claims["exp"]) <= timestamp(now) or int(claims["iat"]) > timestamp(now) + 60:
                return None
            if not isinstance(claims.get("jti"), str) or not isinstance(claims.get("client_id"),
                                                                         str):
                return None
        except (KeyError, TypeError, ValueError):
            return None
        return AccessToken(claims, now)
