"""Checks of an RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0).

``id_token_hint`` must be an ID token we issued (expired ones are accepted:
logging out is when they have often expired); ``client_id``, if also given,
must be its audience; ``post_logout_redirect_uri`` must match one the client
registered, exactly, or there is no redirect at all (no open redirect).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..models import OAuthClient, SessionClient
from .clients import plausible_client_id
from .keyring import Keyring

ID_TOKEN_TYPE = "JWT"


class LogoutRequestError(Exception):
    """A request we must refuse without redirecting (RP-Initiated Logout 1.0 section 4)."""

    error = "invalid_request"

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


@dataclass
class LogoutRequest:
    client: OAuthClient | None
    redirect_uri: str | None
    state: str | None
    hint_sid: str | None

    def redirect_target(self) -> str | None:
        if self.redirect_uri is None:
            return None
        if not self.state:
            return self.redirect_uri
        joiner = "&" if "?" in self.redirect_uri else "?"
        return f"{self.redirect_uri}{joiner}{urlencode({'state': self.state})}"

    def hinted_session(self, session: Session) -> str | None:
        """The login session the hint's ``sid`` belongs to, if still known."""
        if self.hint_sid is None:
            return None
        return session.scalar(select(SessionClient.session_id).where(
            SessionClient.sid == self.hint_sid))


def _text(params: Mapping[str, str], name: str, limit: int) -> str | None:
    value = params.get(name) or None
    if value is not None and len(value) > limit:
        raise LogoutRequestError(f"{name} is too long")
    return value


def parse(session: Session, ctx: Context, keyring: Keyring,
          params: Mapping[str, str]) -> LogoutRequest:
    hint = _text(params, "id_token_hint", 8192)
    client_id = _text(params, "client_id", 64)
    redirect_uri = _text(params, "post_logout_redirect_uri", 2000)
    state = _text(params, "state", 1000)
    hint_sid = None
    if hint is not None:
        try:
            claims = keyring.decode(hint, typ=ID_TOKEN_TYPE)
        except (JoseError, ValueError):
            raise LogoutRequestError("id_token_hint is not an ID token from this provider"
                                     ) from None
        audience = claims.get("aud")
        if claims.get("iss") != ctx.settings.issuer or not isinstance(audience, str):
            raise LogoutRequestError("id_token_hint was not issued by this provider")
        if client_id is not None and client_id != audience:
            raise LogoutRequestError("client_id is not the audience of id_token_hint")
        client_id = audience
        sid = claims.get("sid")
        hint_sid = sid if isinstance(sid, str) else None
    client = None
    if client_id is not None:
        if not plausible_client_id(client_id):
            raise LogoutRequestError("unknown client_id")
        client = session.scalar(select(OAuthClient).where(
            OAuthClient.client_id == client_id, OAuthClient.removed_at.is_(None)))
        if client is None:
            raise LogoutRequestError("unknown client_id")
    if redirect_uri is not None:
        if client is None:
            raise LogoutRequestError("post_logout_redirect_uri needs id_token_hint or "
                                     "client_id to check it against")
        if redirect_uri not in client.post_logout_redirect_uris:
            raise LogoutRequestError("post_logout_redirect_uri is not registered for "
                                     "this client")
    return LogoutRequest(client, redirect_uri, state, hint_sid)
