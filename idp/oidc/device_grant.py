"""The device authorization endpoint and the device-code grant (RFC 8628) as
Authlib classes with our storage (``device``) plugged in."""

from __future__ import annotations

import secrets
from typing import Any, cast

from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import (
    AuthorizationPendingError,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    ExpiredTokenError,
    SlowDownError,
)
from sqlalchemy import CursorResult, or_, select, update

from ..app import db
from ..models import DeviceCode
from . import device, sessions
from .clients import DEVICE_GRANT
from .runtime import provider

CLIENT_AUTH = ["client_secret_basic", "client_secret_post", "none"]
JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
                ("Pragma", "no-cache")]


class DeviceAuthorization(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    """RFC 8628 3.1-3.2: a device code for the device, a user code for the reader."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH

    def create_endpoint_response(self, request: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        client = self.authenticate_client(request)
        if not client.check_grant_type(DEVICE_GRANT):
            raise UnauthorizedClientError("this client may not use the device authorization "
                                          "grant")
        requested = request.payload.scope
        if not requested:
            raise InvalidScopeError("give the scope the device needs, e.g. openid")
        scope = client.get_allowed_scope(requested)
        if scope is None:
            raise InvalidScopeError("the client may not request this scope")
        ctx = provider().ctx
        device_code = secrets.token_urlsafe(32)
        row = device.create(db(), ctx, client.row, scope, device_code)
        body = {
            "device_code": device_code, "user_code": row.user_code,
            "verification_uri": device.verification_uri(ctx),
            "verification_uri_complete": device.verification_uri_complete(ctx, row.user_code),
            "expires_in": ctx.settings.oidc.device_code_seconds, "interval": row.interval,
        }
        return 200, body, JSON_HEADERS


class _Credential:
    def __init__(self, row: DeviceCode):
        self.row = row

    def get_scope(self) -> str:
        return self.row.scope


class ReaderPassDeviceCodeGrant(DeviceCodeGrant):  # type: ignore[misc]
    """RFC 8628 3.4-3.5. Each device code yields tokens once; polling faster than
    the interval earns ``slow_down`` and an interval 5 seconds longer, kept."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def validate_token_request(self) -> None:
        code = self.request.payload.data.get("device_code")
        if not isinstance(code, str) or not code or len(code) > 128:
            raise InvalidRequestError("device_code is missing")
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("this client may not use the device code grant")
        row = db().scalar(select(DeviceCode).where(
            DeviceCode.device_code_hash == device.device_code_hash(provider().ctx, code),
            DeviceCode.client_pk == client.row.id))
        if row is None:
            raise InvalidGrantError("unknown device_code for this client")
        self.request.user = self._poll(row, client)
        self.request.client = client
        self.request.credential = _Credential(row)

    def _poll(self, row: DeviceCode, client: Any) -> sessions.Principal:
        ctx = provider().ctx
        session = db()
        now = ctx.now()
        if row.consumed_at is not None:
            raise InvalidGrantError("this device_code was already exchanged for tokens")
        if row.expires_at <= now:
            raise ExpiredTokenError("the device_code expired; ask for a new one")
        earliest = now - device.poll_gap(row)
        on_time = cast("CursorResult[Any]", session.execute(
            update(DeviceCode).where(DeviceCode.id == row.id, or_(
                DeviceCode.last_poll_at.is_(None), DeviceCode.last_poll_at <= earliest))
            .values(last_poll_at=now))).rowcount
        if not on_time:
            row.interval += device.SLOW_DOWN_STEP
            row.last_poll_at = now
            raise SlowDownError(f"polling too fast: wait at least {row.interval} seconds "
                                "between requests")
        if row.decision is None:
            raise AuthorizationPendingError("the reader has not answered yet")
        if row.decision != "approved":
            raise AccessDeniedError("the reader denied the request")
        claimed = cast("CursorResult[Any]", session.execute(
            update(DeviceCode).where(DeviceCode.id == row.id, DeviceCode.consumed_at.is_(None))
            .values(consumed_at=now))).rowcount
        principal = sessions.active(session, ctx, row.session_id) if claimed else None
        if principal is None:
            raise InvalidGrantError("this device_code was already used or its sign-in ended")
        principal.sid = sessions.grant_sid(session, ctx, principal.session, client.row)
        principal.library_code = client.library_code
        return principal
