"""Ending sessions: RP-initiated logout, "sign out everywhere", and the
back-channel logout owed to every client that got tokens in the session
(OpenID Connect Back-Channel Logout 1.0). Deliveries are rows, retried later
when a client is down, so none is lost."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..context import Context
from ..models import LoginSession, LogoutDelivery, RefreshToken, SessionClient
from ..services import audit
from ..services.actor import Actor
from . import sessions
from .claims import pairwise_subject


def end_session(session: Session, ctx: Context, login: LoginSession, *, actor: Actor) -> int:
    """End one session; queue a logout token for each client with a back-channel
    logout URI. Returns how many deliveries were queued."""
    if login.ended_at is not None:
        return 0
    now: dt.datetime = ctx.now()
    login.ended_at = now
    queued = 0
    for grant, client in sessions.clients_of(session, login.id):
        session.execute(update(RefreshToken).where(RefreshToken.sid == grant.sid,
                                                   RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=now))
        if client.backchannel_logout_uri and client.removed_at is None:
            session.add(LogoutDelivery(
                client_pk=client.id, sid=grant.sid, attempts=0, created_at=now,
                subject=pairwise_subject(ctx, client.library.code, login.reader_id),
                next_attempt_at=now,
            ))
            queued += 1
    session.execute(update(SessionClient).where(SessionClient.session_id == login.id,
                                                SessionClient.revoked_at.is_(None))
                    .values(revoked_at=now))
    audit.record(session, actor, "oidc_session.end", "reader", login.reader_id, now=now,
                 details={"logout_deliveries": queued})
    return queued


def end_all(session: Session, ctx: Context, reader_id: str, *, actor: Actor) -> int:
    """Sign a reader out everywhere; returns the number of sessions ended."""
    ended = 0
    for login in sessions.for_reader(session, ctx, reader_id):
        end_session(session, ctx, login, actor=actor)
        ended += 1
    return ended
