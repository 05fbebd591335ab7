"""Readers' single sign-on sessions and the per-client grants made inside them."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..context import Context
from ..models import LoginSession, OAuthClient, Reader, RefreshToken, SessionClient, Status
from ..services import audit
from ..services.actor import Actor

#: Reader states that may sign in to member libraries' services.
CAN_SIGN_IN = frozenset({Status.ACTIVE, Status.LOST_REPORTED})


@dataclass
class Principal:
    """The signed-in reader as Authlib's grants see the "user"."""

    reader: Reader
    session: LoginSession
    sid: str | None = None
    library_code: str | None = None

    def get_user_id(self) -> str:
        return self.reader.id


def start(session: Session, ctx: Context, reader: Reader, *, amr: str = "pwd") -> LoginSession:
    now = ctx.now()
    login = LoginSession(
        id=secrets.token_urlsafe(32), reader_id=reader.id, auth_time=now, amr=amr,
        created_at=now, expires_at=now + dt.timedelta(seconds=ctx.settings.oidc.session_seconds),
    )
    session.add(login)
    session.flush()
    audit.record(session, Actor.reader(reader.id), "oidc_session.start", "reader", reader.id,
                 now=now)
    return login


def active(session: Session, ctx: Context, session_id: str | None) -> Principal | None:
    """The live session ``session_id`` and its reader, or None."""
    if not session_id or len(session_id) > 64:
        return None
    login = session.get(LoginSession, session_id)
    if login is None or login.ended_at is not None or login.expires_at <= ctx.now():
        return None
    reader = session.get(Reader, login.reader_id)
    if reader is None or reader.status not in CAN_SIGN_IN:
        return None
    return Principal(reader, login)


def grant_sid(session: Session, ctx: Context, login: LoginSession, client: OAuthClient) -> str:
    """The ``sid`` this client knows the session by, created on first use."""
    existing = session.scalar(select(SessionClient.sid).where(
        SessionClient.session_id == login.id, SessionClient.client_pk == client.id,
        SessionClient.revoked_at.is_(None)))
    if existing is not None:
        return existing
    sid = secrets.token_urlsafe(32)
    session.add(SessionClient(sid=sid, session_id=login.id, client_pk=client.id,
                              created_at=ctx.now()))
    session.flush()
    return sid


def revoke_grant(session: Session, sid: str, now: dt.datetime) -> None:
    """Kill every token issued under ``sid`` (a replayed code or refresh token)."""
    session.execute(update(SessionClient).where(SessionClient.sid == sid,
                                                SessionClient.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.execute(update(RefreshToken).where(RefreshToken.sid == sid,
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now))


def for_reader(session: Session, ctx: Context, reader_id: str) -> Sequence[LoginSession]:
    return session.scalars(
        select(LoginSession).where(LoginSession.reader_id == reader_id,
                                   LoginSession.ended_at.is_(None),
                                   LoginSession.expires_at > ctx.now())
        .order_by(LoginSession.created_at.desc())
    ).all()


def clients_of(session: Session, session_id: str) -> Sequence[tuple[SessionClient, OAuthClient]]:
    rows = session.execute(
        select(SessionClient, OAuthClient).join(OAuthClient,
                                                OAuthClient.id == SessionClient.client_pk)
        .where(SessionClient.session_id == session_id)
    )
    return [(grant, client) for grant, client in rows]
