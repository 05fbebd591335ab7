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


def end_session(session: Session, ctx: Context, login: LoginSession, *,
                actor: Actor) -> list[LogoutDelivery]:
    """End one session; queue a logout token for each client with a back-channel
    logout URI. Returns the queued deliveries (``backchannel`` sends them)."""
    if login.ended_at is not None:
        return []
    now: dt.datetime = ctx.now()
    login.ended_at = now
    queued: list[LogoutDelivery] = []
    for grant, client in sessions.clients_of(session, login.id):
        session.execute(update(RefreshToken).where(RefreshToken.sid == grant.sid,
                                                   RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=now))
        if client.backchannel_logout_uri and client.removed_at is None:
            queued.append(LogoutDelivery(
                client_pk=client.id, sid=grant.sid, attempts=0, created_at=now,
                subject=pairwise_subject(ctx, client.library.code, login.reader_id),
                next_attempt_at=now,
            ))
    session.execute(update(SessionClient).where(SessionClient.session_id == login.id,
                                                SessionClient.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.add_all(queued)
    session.flush()
    audit.record(session, actor, "oidc_session.end", "reader", login.reader_id, now=now,
                 details={"logout_deliveries": len(queued)})
    return queued


def end_all(session: Session, ctx: Context, reader_id: str, *,
            actor: Actor) -> list[LogoutDelivery]:
    """Sign a reader out everywhere; returns the queued back-channel deliveries."""
    queued: list[LogoutDelivery] = []
    for login in sessions.for_reader(session, ctx, reader_id):
        queued.extend(end_session(session, ctx, login, actor=actor))
    return queued


PENDING = "readerpass.logout_deliveries"


def send_after_commit(session: Session, deliveries: list[LogoutDelivery]) -> None:
    """Remember deliveries queued deep inside a larger change (a merge) so that
    whoever commits it can make their first attempts at once: see
    :func:`take_after_commit`. Rows nobody takes are sent by ``oidc deliver-logouts``."""
    session.flush()  # their ids
    session.info.setdefault(PENDING, []).extend(row.id for row in deliveries)


def take_after_commit(session: Session) -> list[int]:
    """The delivery ids remembered in ``session`` since the last call."""
    ids: list[int] = session.info.pop(PENDING, [])
    return ids

