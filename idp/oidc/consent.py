"""Consent: remembered per reader, client and scope; revocable by the reader."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..context import Context
from ..models import Consent, LoginSession, OAuthClient, RefreshToken, SessionClient
from ..services import audit
from ..services.actor import Actor


def _current(session: Session, reader_id: str, client_pk: int) -> Consent | None:
    return session.scalar(select(Consent).where(
        Consent.reader_id == reader_id, Consent.client_pk == client_pk,
        Consent.revoked_at.is_(None)).order_by(Consent.id.desc()).limit(1))


def covers(session: Session, reader_id: str, client_pk: int, scopes: Iterable[str]) -> bool:
    consent = _current(session, reader_id, client_pk)
    return consent is not None and set(scopes) <= set(consent.scopes)


def grant(session: Session, ctx: Context, reader_id: str, client: OAuthClient,
          scopes: Iterable[str]) -> None:
    consent = _current(session, reader_id, client.id)
    wanted = sorted(set(scopes) | (set(consent.scopes) if consent else set()))
    if consent is not None:
        consent.scopes = wanted
        consent.granted_at = ctx.now()
    else:
        session.add(Consent(reader_id=reader_id, client_pk=client.id, scopes=wanted,
                            granted_at=ctx.now()))
    audit.record(session, Actor.reader(reader_id), "oidc_consent.grant", "reader", reader_id,
                 now=ctx.now(), details={"client_id": client.client_id, "scopes": wanted})


def for_reader(session: Session, reader_id: str) -> Sequence[tuple[Consent, OAuthClient]]:
    rows = session.execute(
        select(Consent, OAuthClient).join(OAuthClient, OAuthClient.id == Consent.client_pk)
        .where(Consent.reader_id == reader_id, Consent.revoked_at.is_(None))
        .order_by(OAuthClient.name)
    )
    return [(consent, client) for consent, client in rows]


def revoke(session: Session, ctx: Context, reader_id: str, client_id: str) -> bool:
    """Withdraw consent from a client and end its refresh tokens for this reader."""
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    consent = _current(session, reader_id, client.id) if client else None
    if client is None or consent is None:
        return False
    now = ctx.now()
    consent.revoked_at = now
    sids = select(SessionClient.sid).join(LoginSession).where(
        LoginSession.reader_id == reader_id, SessionClient.client_pk == client.id)
    session.execute(update(SessionClient).where(SessionClient.sid.in_(sids))
                    .values(revoked_at=now))
    session.execute(update(RefreshToken).where(RefreshToken.sid.in_(sids),
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=now))
    audit.record(session, Actor.reader(reader_id), "oidc_consent.revoke", "reader", reader_id,
                 now=now, details={"client_id": client_id})
    return True
