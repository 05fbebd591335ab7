"""Changes waiting to be delivered to member libraries (DESIGN "Outbox").

An item names a reader and a library, not a payload: delivery brings the local
patron in line with the reader as it is at delivery time, so a late or repeated
item can never apply stale values.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # a permanent error, or retries exhausted: an operator decides


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending','done','dead')", name="state"),
        # The relay's queue scan: pending items of one library in id order.
        Index("ix_outbox_library_state", "library_id", "state", "id"),
        Index("ix_outbox_reader", "reader_id", "library_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    #: What happened: reader.register, reader.update, reader.status, link.sync, ...
    event: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
