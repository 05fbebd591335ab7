"""Device authorization requests (RFC 8628): "scan this QR to log in".

A kiosk or library web page asks for a device code and shows the user code
and a QR of ``verification_uri_complete``; the reader opens it on the phone,
signs in, checks the code and approves. The device polls the token endpoint.

User codes use RFC 8628 6.1's base-20 alphabet (no vowels, so no words; no
0/O or 1/I to confuse): 8 characters, about 34.5 bits, typed as XXXX-XXXX in
any case, with or without the dash. Entry is rate limited per address.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..context import Context
from ..models import DeviceCode, LoginSession, OAuthClient
from ..services.actor import Actor
from ..services.first_use import provision_on_first_use
from . import consent, sessions

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
GROUP = 4
DEVICE_CODE_PURPOSE = "oidc-device-code"
#: RFC 8628 3.5: on slow_down the interval grows by 5 seconds for good.
SLOW_DOWN_STEP = 5


def new_user_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(2 * GROUP))
    return f"{chars[:GROUP]}-{chars[GROUP:]}"


def normalise_user_code(text: str) -> str | None:
    """``bcdf ghjk`` or ``BCDFGHJK`` -> ``BCDF-GHJK``; None if it cannot be a code."""
    if not isinstance(text, str) or len(text) > 32:
        return None
    chars = "".join(c for c in text.upper() if c not in "- ")
    if len(chars) != 2 * GROUP or any(c not in ALPHABET for c in chars):
        return None
    return f"{chars[:GROUP]}-{chars[GROUP:]}"


def verification_uri(ctx: Context) -> str:
    return ctx.settings.issuer + "/device"


def verification_uri_complete(ctx: Context, user_code: str) -> str:
    return f"{verification_uri(ctx)}?user_code={user_code}"


def poll_gap(request: DeviceCode) -> dt.timedelta:
    """How long the device must wait between two polls (RFC 8628 3.5)."""
    return dt.timedelta(seconds=request.interval)


def device_code_hash(ctx: Context, device_code: str) -> str:
    return ctx.hasher.digest(DEVICE_CODE_PURPOSE, device_code)


def create(session: Session, ctx: Context, client: OAuthClient, scope: str,
           device_code: str) -> DeviceCode:
    """Store a request; the user code is unique among all stored requests."""
    now = ctx.now()
    for _ in range(8):
        user_code = new_user_code()
        if not session.scalar(select(exists().where(DeviceCode.user_code == user_code))):
            break
    else:  # 20^8 codes: only a table that is never cleaned gets here
        raise RuntimeError("no free user code; purge expired device codes")
    row = DeviceCode(
        device_code_hash=device_code_hash(ctx, device_code), user_code=user_code,
        client_pk=client.id, scope=scope, interval=ctx.settings.oidc.device_poll_interval,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=ctx.settings.oidc.device_code_seconds),
    )
    session.add(row)
    session.flush()
    return row


def pending(session: Session, ctx: Context, user_code: str) -> DeviceCode | None:
    """The undecided, unexpired request with this (normalised) user code."""
    return session.scalar(select(DeviceCode).where(
        DeviceCode.user_code == user_code, DeviceCode.decision.is_(None),
        DeviceCode.consumed_at.is_(None), DeviceCode.expires_at > ctx.now()))


def decide(session: Session, ctx: Context, request: DeviceCode, principal: sessions.Principal,
           *, approve: bool) -> None:
    """Record the reader's answer. Approval is consent for the scopes and opens
    a session of its own for the device, listed on /account and ended by
    "sign out everywhere" like any other."""
    if not approve:
        request.decision = "denied"
        return
    client = session.get(OAuthClient, request.client_pk)
    assert client is not None
    consent.grant(session, ctx, principal.reader.id, client, request.scope.split())
    device_login = sessions.start(session, ctx, principal.reader, amr=principal.session.amr)
    request.decision = "approved"
    request.session_id = device_login.id
    provision_on_first_use(session, ctx, principal.reader, client.library,
                           actor=Actor.system("sso"))


def device_session(session: Session, request: DeviceCode) -> LoginSession | None:
    return session.get(LoginSession, request.session_id) if request.session_id else None
