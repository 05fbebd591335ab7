"""Duplicate readers: blocking keys, candidate pairs and merges (DESIGN "Duplicates
and merge")."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, Json, UTCDateTime


class KeyKind(enum.StrEnum):
    """What a blocking key is made of; every key is a keyed hash of that value."""

    DOCUMENT = "doc"  # a valid resident-ID number (18 digits; 15-digit ones converted)
    #: A resident-ID number the reader gave but cannot hold because another reader
    #: holds it (an import): same hash space as DOCUMENT, kept until a merge.
    CLAIMED_DOCUMENT = "doc_claim"
    MOBILE = "mobile"  # E.164 mobile
    PINYIN_BIRTH = "py_birth"  # toneless pinyin of the simplified full name + birth date
    SURNAME_BIRTH = "sn_birth"  # simplified family name + birth date


class PairState(enum.StrEnum):
    OPEN = "open"  # waiting in the review queue
    DISMISSED = "dismissed"  # "not the same person": never proposed again
    MERGED = "merged"
    UNMERGED = "unmerged"  # merged, then undone: also never proposed again


class MergeState(enum.StrEnum):
    APPLIED = "applied"
    UNDONE = "undone"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({','.join(repr(v.value) for v in values)})"


class MatchKey(Base):
    """One blocking key of one reader. Two readers sharing a key are compared."""

    __tablename__ = "reader_match_keys"
    __table_args__ = (
        CheckConstraint(_in("kind", KeyKind), name="kind"),
        # Digests of different kinds never collide (each kind hashes with its own
        # purpose), so look-ups and blocks go by digest alone; that also puts a
        # claimed document in the same block as the document itself.
        Index("ix_reader_match_keys_digest", "digest"),
    )

    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)


class DuplicatePair(Base):
    """Two readers who may be one person, ``reader_a < reader_b``, with the match
    model's score and its explanation (per comparison: level and weight)."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        CheckConstraint(_in("state", PairState), name="state"),
        CheckConstraint("reader_a < reader_b", name="ordered"),
        UniqueConstraint("reader_a", "reader_b", name="uq_duplicate_pairs_reader_a"),
        Index("ix_duplicate_pairs_state_score", "state", "score"),
        Index("ix_duplicate_pairs_reader_b", "reader_b"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reader_a: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    reader_b: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    #: Match weight: log2 of the likelihood ratio, summed over the comparisons.
    score: Mapped[float] = mapped_column(Float)
    #: Equal valid identity document and agreeing names: may be merged without review.
    auto_merge: Mapped[bool] = mapped_column(Boolean)
    explanation: Mapped[dict[str, Any]] = mapped_column(Json)
    #: scan, registration, import or staff
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    #: The staff member who proposed the merge, when a person did.
    proposed_by: Mapped[str | None] = mapped_column(String(80))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DuplicateScan(Base):
    """One batch scan: its scope, the match parameters it used (estimated from the
    data), and what it found. The newest finished scan's parameters score the
    online checks at registration and import."""

    __tablename__ = "duplicate_scans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: "all", "new" (readers created since the previous scan) or "library:CODE"
    scope: Mapped[str] = mapped_column(String(80))
    parameters: Mapped[dict[str, Any]] = mapped_column(Json)
    counts: Mapped[dict[str, Any]] = mapped_column(Json)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ReaderMerge(Base):
    """One applied merge: ``other`` became a tombstone of ``survivor``. ``snapshot``
    holds what unmerge needs to restore (personal numbers only as ciphertexts)."""

    __tablename__ = "reader_merges"
    __table_args__ = (
        CheckConstraint(_in("state", MergeState), name="state"),
        Index("ix_reader_merges_survivor", "survivor_id"),
        Index("ix_reader_merges_other", "other_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    survivor_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    other_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("duplicate_pairs.id"))
    #: The plan as applied: per-attribute survivorship with provenance, links, libraries.
    plan: Mapped[dict[str, Any]] = mapped_column(Json)
    snapshot: Mapped[dict[str, Any]] = mapped_column(Json)
    #: Why: the pair's score and explanation, or the operator's reason.
    evidence: Mapped[dict[str, Any]] = mapped_column(Json)
    state: Mapped[str] = mapped_column(String(16))
    applied_by: Mapped[str] = mapped_column(String(80))
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    undone_by: Mapped[str | None] = mapped_column(String(80))
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
