"""Ending everything a reader's sign-ins left behind: sessions (with their
back-channel logouts), per-client grants, refresh tokens and consents. Used when
a reader is merged into another: the tombstone keeps no way in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from ..context import Context
from ..models import Consent, LoginSession, RefreshToken, SessionClient
from ..services.actor import Actor
from . import logout, sessions


@dataclass(frozen=True)
class AccessEnded:
    sessions: int
    logouts: int
    refresh_tokens: int
    consents: int

    def to_json(self) -> dict[str, int]:
        return {"sessions": self.sessions, "logouts": self.logouts,
                "refresh_tokens": self.refresh_tokens, "consents": self.consents}


def _count(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount)


def end_all_access(session: Session, ctx: Context, reader_id: str, *,
                   actor: Actor) -> AccessEnded:
    """Sign the reader out everywhere (live sessions notify their clients), then
    revoke what expired sessions still hold: grants, refresh tokens; and consents."""
    now = ctx.now()
    logins = select(LoginSession.id).where(LoginSession.reader_id == reader_id)
    sids = select(SessionClient.sid).where(SessionClient.session_id.in_(logins))
    open_tokens = (RefreshToken.sid.in_(sids), RefreshToken.revoked_at.is_(None))
    tokens = session.scalar(select(func.count()).select_from(RefreshToken).where(*open_tokens))
    live = len(sessions.for_reader(session, ctx, reader_id))
    queued = logout.end_all(session, ctx, reader_id, actor=actor)
    logout.send_after_commit(session, queued)
    session.execute(update(RefreshToken).where(*open_tokens).values(revoked_at=now))
    session.execute(update(SessionClient).where(SessionClient.session_id.in_(logins),
                                                SessionClient.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.execute(update(LoginSession).where(LoginSession.reader_id == reader_id,
                                               LoginSession.ended_at.is_(None))
                    .values(ended_at=now))
    consents = _count(session.execute(
        update(Consent).where(Consent.reader_id == reader_id, Consent.revoked_at.is_(None))
        .values(revoked_at=now)))
    return AccessEnded(live, len(queued), int(tokens or 0), consents)
