"""Koha's patron merge (Koha::Patron->merge_with), on the tables this schema has.

For each patron merged into the kept one, as Koha does: its extended attributes
are deleted and re-added to the kept patron where the type is repeatable or the
kept patron has none of that type (so the kept patron keeps its own back-link
and create key, and takes the other's back-link only when it has none); its
restrictions (``borrower_debarments``) move to the kept patron, whose
``debarred`` mirror is recomputed; then the patron row is copied to
``deletedborrowers`` and deleted. Loans, holds and fines would move the same way
(Koha moves every table keyed by borrowernumber); this schema does not model them.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from adapters.koha_sql import blocks
from adapters.koha_sql.schema import (
    borrower_attribute_types,
    borrower_attributes,
    borrower_debarments,
    borrowers,
    deletedborrowers,
)
from adapters.merging import kept_backlink

_attrs = borrower_attributes.c


def check_backlinks(conn: Connection, kept: int, others: list[int], backlink_code: str) -> None:
    """Raise Conflict, before any write, when the merge could not keep one back-link."""
    links = dict(conn.execute(select(_attrs.borrowernumber, _attrs.attribute).where(
        _attrs.borrowernumber.in_([kept, *others]), _attrs.code == backlink_code)).all())
    kept_backlink(links.get(kept), (links.get(o) for o in others))


def fold(conn: Connection, kept: int, other: int) -> None:
    repeatable = {code for code, flag in conn.execute(select(
        borrower_attribute_types.c.code, borrower_attribute_types.c.repeatable)) if flag}
    held = set(conn.scalars(select(_attrs.code).where(_attrs.borrowernumber == kept)))
    moved = conn.execute(select(_attrs.code, _attrs.attribute)
                         .where(_attrs.borrowernumber == other).order_by(_attrs.id)).all()
    conn.execute(delete(borrower_attributes).where(_attrs.borrowernumber == other))
    for code, value in moved:
        if code in repeatable or code not in held:
            conn.execute(insert(borrower_attributes).values(
                borrowernumber=kept, code=code, attribute=value))
            held.add(code)
    blocks.give_legacy_row(conn, other)
    conn.execute(update(borrower_debarments)
                 .where(borrower_debarments.c.borrowernumber == other)
                 .values(borrowernumber=kept))
    blocks.mirror(conn, kept)
    columns = [c.name for c in borrowers.columns]
    conn.execute(insert(deletedborrowers).from_select(
        columns, select(*borrowers.columns).where(borrowers.c.borrowernumber == other)))
    conn.execute(delete(borrowers).where(borrowers.c.borrowernumber == other))
