"""How a candidate pair is shown to staff: both readers side by side (personal
numbers masked) and the model's explanation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..context import Context
from ..models import DuplicatePair, Reader
from ..services.readers import reader_view


def pair_row(pair: DuplicatePair) -> dict[str, Any]:
    """One line of the queue (``duplicates list --json``)."""
    return {"id": pair.id, "reader_a": pair.reader_a, "reader_b": pair.reader_b,
            "score": pair.score, "auto_merge": pair.auto_merge, "state": pair.state,
            "source": pair.source}


def pair_detail(session: Session, ctx: Context, pair: DuplicatePair) -> dict[str, Any]:
    readers = [session.get(Reader, rid) for rid in (pair.reader_a, pair.reader_b)]
    return {
        **pair_row(pair),
        "explanation": pair.explanation,
        "proposed_by": pair.proposed_by,
        "decided_by": pair.decided_by,
        "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
        "reason": pair.reason,
        "created_at": pair.created_at.isoformat(),
        "readers": [reader_view(reader, ctx) for reader in readers if reader is not None],
    }
