"""Links between province readers and member libraries' local patrons, and the
adapter configuration of each library (DESIGN "Adapters", "Link table")."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
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


class LinkState(enum.StrEnum):
    PENDING = "pending"  # the local patron is being found or created
    LINKED = "linked"
    CONFLICT = "conflict"  # staff must choose (ambiguous match, barcode taken, ...)
    UNLINKED = "unlinked"  # staff broke the link; the relay leaves it alone


class LinkMethod(enum.StrEnum):
    CREATED = "created"  # the province created the local patron
    AUTO_MATCHED = "auto_matched"  # found by back-link or matching rules
    STAFF_MATCHED = "staff_matched"
    IMPORTED = "imported"  # the reader was made from the local patron by an import


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({','.join(repr(v.value) for v in values)})"


class LibraryAdapterConfig(Base):
    """A library's ``[library.adapter]`` table as loaded (secrets stay in the
    environment: only the names of their variables are here), plus the relay's
    per-library switches: the operator's offline flag and the circuit breaker, and
    the lease of the relay working the library's outbox (idp.relay.lease)."""

    __tablename__ = "library_adapters"

    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), primary_key=True)
    backend: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(Json)
    offline: Mapped[bool] = mapped_column(Boolean)
    offline_reason: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer)
    breaker_open_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReaderLink(Base):
    __tablename__ = "reader_links"
    __table_args__ = (
        CheckConstraint(_in("state", LinkState), name="state"),
        CheckConstraint(f"method IS NULL OR {_in('method', LinkMethod)}", name="method"),
        UniqueConstraint("reader_id", "library_id", name="uq_reader_links_reader_library"),
        UniqueConstraint("library_id", "local_id", name="uq_reader_links_library_local_id"),
        UniqueConstraint("library_id", "local_barcode",
                         name="uq_reader_links_library_local_barcode"),
        Index("ix_reader_links_library_state", "library_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    local_id: Mapped[str | None] = mapped_column(String(64))
    local_barcode: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))
    local_version: Mapped[str | None] = mapped_column(String(64))
    #: Candidate local ids when the state is conflict, for staff to choose from.
    candidates: Mapped[list[str]] = mapped_column(Json)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
