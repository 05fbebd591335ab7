"""Reader cards: card and anchor keys, cards, status-list versions, gate scan events."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, Json, UTCDateTime


class CardState(enum.StrEnum):
    ACTIVE = "active"
    LOST = "lost"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REPLACED = "replaced"  # reissued: a newer card (new serial, new index) took over


class CardKeyRole(enum.StrEnum):
    CARD = "card"  # signs reader card tokens
    ANCHOR = "anchor"  # signs trust and status lists; gates pin it


class CardKeyRow(Base):
    """A P-256 key of the card system; the private part is encrypted (PiiCipher), and
    erased (empty) once a retired anchor can never be needed again."""

    __tablename__ = "card_keys"
    __table_args__ = (
        CheckConstraint("role IN ('card','anchor')", name="role"),
        CheckConstraint("state IN ('next','active','retiring','retired')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kid: Mapped[str] = mapped_column(String(8), unique=True)
    role: Mapped[str] = mapped_column(String(8))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(Json)
    private_enc: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Last issue time of tokens this key is trusted for (set when it stops signing).
    not_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: When its last token can no longer verify: then it may leave the trust list.
    retire_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: An anchor after the first: the transition (JWS, FORMAT.md §11) its predecessor
    #: signed to hand over to it.
    transition_jws: Mapped[str | None] = mapped_column(Text)


class Card(Base):
    """A reader's card: random serial, status-list index (never reused)."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint(
            "state IN ('active','lost','suspended','expired','cancelled','replaced')",
            name="state",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    serial: Mapped[str] = mapped_column(String(16), unique=True)
    status_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    state: Mapped[str] = mapped_column(String(10))
    #: The card's status-list bit: 1 = gates refuse its tokens.
    revoked: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CardStatusHead(Base):
    """One row: the current status-list version and size, the next free index and
    the trust-list version. Writers lock it, which serialises version numbers."""

    __tablename__ = "card_status_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    next_index: Mapped[int] = mapped_column(BigInteger)
    trust_version: Mapped[int] = mapped_column(BigInteger)
    trust_issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CardStatusVersion(Base):
    """What one status-list version changed; deltas are built from these rows."""

    __tablename__ = "card_status_versions"

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[list[int]] = mapped_column(Json)
    restored: Mapped[list[int]] = mapped_column(Json)


class CardScan(Base):
    """A verdict a gate logged: no personal data (serial, time, library, verdict)."""

    __tablename__ = "card_scans"
    __table_args__ = (
        UniqueConstraint("library_id", "serial", "scanned_at", name="uq_card_scans_event"),
        Index("ix_card_scans_serial_time", "serial", "scanned_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(16))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    scanned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
