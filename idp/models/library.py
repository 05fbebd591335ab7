"""Member libraries of the province network."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime


class LibraryKind(enum.StrEnum):
    PUBLIC = "public"
    ACADEMIC = "academic"
    SCHOOL = "school"
    SPECIAL = "special"


class Library(Base):
    __tablename__ = "libraries"
    __table_args__ = (
        CheckConstraint("kind IN ('public','academic','school','special')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
