"""The OpenID Connect provider's state: signing keys, clients, sessions, consents,
codes, refresh-token families, device codes, revoked access tokens and pending
back-channel logouts.

Secrets (client secrets, codes, refresh tokens, device codes) are stored only as
keyed hashes; signing keys' private parts only encrypted.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, Json, UTCDateTime
from .library import Library


class KeyState(enum.StrEnum):
    """Life of a signing key (itsdangerous-style rotation: newest signs, all verify)."""

    NEXT = "next"  # published in the JWKS, not yet signing
    ACTIVE = "active"  # signs; exactly one
    RETIRING = "retiring"  # published until its last tokens expire, signs nothing
    RETIRED = "retired"  # gone from the JWKS


class SigningKey(Base):
    __tablename__ = "oidc_signing_keys"
    __table_args__ = (
        CheckConstraint("state IN ('next','active','retiring','retired')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(10))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(Json)
    private_enc: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: While retiring: when the last token it signed has expired.
    retire_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OAuthClient(Base):
    """A member library's relying party. ``secret_hash`` is a keyed hash."""

    __tablename__ = "oidc_clients"
    __table_args__ = (
        CheckConstraint("kind IN ('confidential','public')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    redirect_uris: Mapped[list[str]] = mapped_column(Json)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(Json)
    grant_types: Mapped[list[str]] = mapped_column(Json)
    scopes: Mapped[list[str]] = mapped_column(Json)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    secret_rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    library: Mapped[Library] = relationship(lazy="joined", innerjoin=True)


class LoginSession(Base):
    """A reader's single sign-on session at the provider (the browser cookie holds ``id``)."""

    __tablename__ = "oidc_sessions"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    auth_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    amr: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SessionClient(Base):
    """A client that received tokens in a session, with the ``sid`` it was told.

    The ``sid`` differs per client so that two libraries cannot correlate a
    reader through it (the same reason subjects are pairwise).
    """

    __tablename__ = "oidc_session_clients"

    sid: Mapped[str] = mapped_column(String(43), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("oidc_sessions.id"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: Set when a replayed code or refresh token revoked every token of this grant.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Consent(Base):
    """Scopes a reader granted to a client; asked again only for new scopes."""

    __tablename__ = "oidc_consents"
    __table_args__ = (Index("ix_oidc_consents_reader_client", "reader_id", "client_pk"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(Json)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuthorizationCode(Base):
    __tablename__ = "oidc_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("oidc_sessions.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Refresh-token family issued for this code, revoked if the code is replayed.
    family_id: Mapped[str | None] = mapped_column(String(43))


class RefreshToken(Base):
    """One refresh token of a rotation family; a reused one revokes the family."""

    __tablename__ = "oidc_refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(43), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id"), index=True)
    sid: Mapped[str] = mapped_column(ForeignKey("oidc_session_clients.sid"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RevokedAccessToken(Base):
    """Self-contained access tokens revoked before their expiry (RFC 7009)."""

    __tablename__ = "oidc_revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(43), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DeviceCode(Base):
    """A device authorization request (RFC 8628)."""

    __tablename__ = "oidc_device_codes"
    __table_args__ = (
        CheckConstraint("decision IS NULL OR decision IN ('approved','denied')",
                        name="decision"),
        # `readerpass oidc purge` finds finished codes by either time.
        Index("ix_oidc_device_codes_expires_at", "expires_at"),
        Index("ix_oidc_device_codes_consumed_at", "consumed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code: Mapped[str] = mapped_column(String(16), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    interval: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_poll_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    session_id: Mapped[str | None] = mapped_column(ForeignKey("oidc_sessions.id"))
    decision: Mapped[str | None] = mapped_column(String(10))
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LogoutDelivery(Base):
    """A back-channel logout owed to a client, retried until delivered or given up."""

    __tablename__ = "oidc_logout_deliveries"
    __table_args__ = (Index("ix_oidc_logout_deliveries_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id"), index=True)
    sid: Mapped[str] = mapped_column(String(43))
    subject: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    gave_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
