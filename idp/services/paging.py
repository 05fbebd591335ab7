"""Keyset pages of per-library, per-reader rows (reader links, outbox items)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..models import Library

Row = TypeVar("Row")


def library_rows(
    session: Session, model: type[Row], states: type[enum.StrEnum], noun: str, *,
    library: Library | None, state: str | None, reader_id: str | None, after: int, limit: int,
) -> Sequence[tuple[Row, str]]:
    """Rows of ``model`` in id order after ``after``, each with its library's code.

    ``model`` has ``id``, ``library_id``, ``state`` and ``reader_id`` columns.
    """
    if state is not None and state not in {s.value for s in states}:
        raise InvalidInput(f"unknown {noun} state {state!r}", field="state")
    table: Any = model
    query = (select(model, Library.code).join(Library, Library.id == table.library_id)
             .where(table.id > after).order_by(table.id).limit(limit))
    if library is not None:
        query = query.where(table.library_id == library.id)
    if state is not None:
        query = query.where(table.state == state)
    if reader_id is not None:
        query = query.where(table.reader_id == reader_id)
    return [(row, code) for row, code in session.execute(query)]
