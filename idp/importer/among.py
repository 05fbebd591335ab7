"""``column IN (values)`` for a batch's look-ups, as one array parameter on PostgreSQL.

A batch looks up a thousand keys at a time. Rendered as ``IN (:p1, ..., :p1000)``
the statement is a new long text for each batch length, which the driver rewrites
and the server parses afresh; ``= ANY(:keys)`` is one short statement with one
array parameter, the same index scan. Other databases keep ``IN``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session


def among(session: Session, column: InstrumentedAttribute[Any],
          values: Collection[Any]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))
    keys = bindparam(None, list(values), type_=ARRAY(column.type))
    return column == any_(keys)
