"""Readers, their identity documents and mobile verification codes."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, UTCDateTime
from .library import Library


class Category(enum.StrEnum):
    ADULT = "adult"
    TEEN = "teen"
    CHILD = "child"
    FAMILY = "family"
    TEMPORARY = "temporary"
    E_RESOURCE_ONLY = "e_resource_only"


class Status(enum.StrEnum):
    ACTIVE = "active"
    LOST_REPORTED = "lost_reported"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    MERGED = "merged"


class Assurance(enum.StrEnum):
    """Ordered from weakest to strongest."""

    SELF_ASSERTED = "self_asserted"
    PHONE_VERIFIED = "phone_verified"
    DOCUMENT_VERIFIED = "document_verified"

    @property
    def rank(self) -> int:
        return list(Assurance).index(self)


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({','.join(repr(v.value) for v in values)})"


class Reader(Base):
    __tablename__ = "readers"
    __table_args__ = (
        CheckConstraint(_in("category", Category), name="category"),
        CheckConstraint(_in("status", Status), name="status"),
        CheckConstraint(_in("assurance", Assurance), name="assurance"),
        CheckConstraint("sex IS NULL OR sex IN ('F','M')", name="sex"),
        # Prefix search (LIKE 'x%') can use the index on PostgreSQL only with pattern ops.
        Index(
            "ix_readers_search_name",
            "search_name",
            postgresql_ops={"search_name": "varchar_pattern_ops"},
        ),
        # Few readers have a guardian or are merged: indexing only those saves two
        # index entries per reader (look-ups by either name a reader, which implies
        # IS NOT NULL on both PostgreSQL and SQLite).
        Index("ix_readers_guardian_id", "guardian_id",
              postgresql_where=text("guardian_id IS NOT NULL"),
              sqlite_where=text("guardian_id IS NOT NULL")),
        Index("ix_readers_merged_into", "merged_into",
              postgresql_where=text("merged_into IS NOT NULL"),
              sqlite_where=text("merged_into IS NOT NULL")),
    )

    #: Province reader id: random, never reused, never derived from personal data.
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    #: Province card number printed on cards: 13 digits, Luhn check digit.
    card_number: Mapped[str] = mapped_column(String(16), unique=True)
    family_name: Mapped[str] = mapped_column(String(64))
    given_name: Mapped[str] = mapped_column(String(64))
    #: Family + given name, NFKC-normalised, lower-case, without spaces: for prefix search.
    search_name: Mapped[str] = mapped_column(String(130))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    mobile_enc: Mapped[str | None] = mapped_column(Text)
    mobile_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    assurance: Mapped[str] = mapped_column(String(20))
    guardian_id: Mapped[str | None] = mapped_column(ForeignKey("readers.id"))
    home_library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    #: Set when this reader was merged into another: a tombstone that resolves to it.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("readers.id"))
    password_hash: Mapped[str | None] = mapped_column(Text)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)

    home_library: Mapped[Library] = relationship(lazy="joined", innerjoin=True)
    documents: Mapped[list[IdentityDocument]] = relationship(
        back_populates="reader", lazy="selectin", order_by="IdentityDocument.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (SQLAlchemy API)


class IdentityDocument(Base):
    """One identity document of a reader. ``match_hash`` is unique across all
    readers: one identity per document (DESIGN "Reader identity")."""

    __tablename__ = "identity_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(24))
    country: Mapped[str] = mapped_column(String(3))
    number_enc: Mapped[str] = mapped_column(Text)
    match_hash: Mapped[str] = mapped_column(String(64), unique=True)
    converted_from_15: Mapped[bool]
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    reader: Mapped[Reader] = relationship(back_populates="documents")


class MobileVerification(Base):
    """A one-time code sent to a reader's mobile; only its keyed hash is kept."""

    __tablename__ = "mobile_verifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    mobile_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
