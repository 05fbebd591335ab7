"""Onboarding imports: a checkpoint per library and source, the ledger of rows
already imported, and the review list of patrons that failed validation or need
a person to decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, Json, UTCDateTime


class ImportRun(Base):
    """Where an import of one source into one library got to; resumed from ``cursor``."""

    __tablename__ = "import_runs"
    __table_args__ = (
        UniqueConstraint("library_id", "source", name="uq_import_runs_library_source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    #: "adapter", or "file:" plus the SHA-256 of the file's bytes.
    source: Mapped[str] = mapped_column(String(80))
    cursor: Mapped[str | None] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(Json)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ImportIssue(Base):
    """One problem with one imported patron. ``row_enc`` keeps the source row,
    encrypted, so a patron that could not be imported is never lost."""

    __tablename__ = "import_issues"
    __table_args__ = (Index("ix_import_issues_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"))
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    #: Where the row came from: local patron id, else "line N" of the file.
    source_ref: Mapped[str] = mapped_column(String(64))
    reader_id: Mapped[str | None] = mapped_column(ForeignKey("readers.id"))
    #: not_imported, invalid_field, possible_duplicate, already_linked_elsewhere
    kind: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(32))
    problem: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list[str]] = mapped_column(Json)
    row_enc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open, resolved
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ImportedRow(Base):
    """A source row an import of this library has dealt with, by its row key, so a
    re-run or a later file with the same patrons changes nothing (see
    ``idp.importer.rowkeys`` for how a row is keyed)."""

    __tablename__ = "import_rows"
    __table_args__ = (
        UniqueConstraint("library_id", "row_key", name="uq_import_rows_library_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"))
    #: A keyed hash (HMAC-SHA256, hex): never a plain personal value.
    row_key: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id"))
    reader_id: Mapped[str | None] = mapped_column(ForeignKey("readers.id"))
    #: created, matched, not_imported
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
