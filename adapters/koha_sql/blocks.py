"""Province blocks as Koha debarments, without ever touching the library's own.

Koha keeps each restriction as a ``borrower_debarments`` row and mirrors them
into ``borrowers.debarred`` (latest expiry, 9999-12-31 when one is indefinite)
and ``debarredcomment`` (Koha::Patron::Debarments::UpdateBorrowerDebarmentFlags).
The province's block is one MANUAL row whose comment starts with
:data:`MARKER`; reinstating deletes only that row and recomputes the mirror from
the rows that remain, so every local restriction survives.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from adapters.koha_sql.schema import borrower_debarments, borrowers

MARKER = "[ReaderPass] "
FOREVER = date(9999, 12, 31)


Debarment = tuple[date | None, str | None]  # (expiration, comment)


#: Built once: constructing a statement costs more than running it (see store.py).
_DEBARMENTS = (
    select(borrower_debarments.c.expiration, borrower_debarments.c.comment)
    .where(borrower_debarments.c.borrowernumber == bindparam("n"))
    .order_by(borrower_debarments.c.borrower_debarment_id)
)


def debarments(conn: Connection, borrowernumber: int) -> list[Debarment]:
    return [(e, c) for e, c in conn.execute(_DEBARMENTS, {"n": borrowernumber})]


def is_province(comment: str | None) -> bool:
    return bool(comment and comment.startswith(MARKER))


def block_state(
    rows: list[Debarment],
    debarred: date | None,
    lost: bool,
    gonenoaddress: bool,
    today: date,
) -> tuple[bool, bool]:
    """(blocked_locally, blocked_by_province) as Koha's circulation rules see them."""
    province = any(is_province(c) for _, c in rows)
    local_rows = any(not is_province(c) and (e is None or e >= today) for e, c in rows)
    # A bare borrowers.debarred with no rows predates borrower_debarments (Koha < 3.12).
    legacy = not rows and debarred is not None and debarred >= today
    return local_rows or legacy or lost or gonenoaddress, province


def mirror(conn: Connection, borrowernumber: int) -> None:
    rows = debarments(conn, borrowernumber)
    expiries = [e for e, _ in rows]
    debarred = None if not rows else FOREVER if None in expiries else max(
        e for e in expiries if e is not None
    )
    comment = "\n".join(c for _, c in rows if c)[:255] or None
    conn.execute(
        update(borrowers)
        .where(borrowers.c.borrowernumber == borrowernumber)
        .values(debarred=debarred, debarredcomment=comment)
    )


def _legacy_row(conn: Connection, borrowernumber: int, debarred: date,
                comment: str | None) -> None:
    conn.execute(insert(borrower_debarments).values(
        borrowernumber=borrowernumber, expiration=None if debarred == FOREVER else debarred,
        type="MANUAL", comment=comment,
    ))


def give_legacy_row(conn: Connection, borrowernumber: int) -> None:
    """A bare ``debarred`` with no rows gets its row (before the rows move elsewhere)."""
    if debarments(conn, borrowernumber):
        return
    row = conn.execute(select(borrowers.c.debarred, borrowers.c.debarredcomment)
                       .where(borrowers.c.borrowernumber == borrowernumber)).one()
    if row[0] is not None:
        _legacy_row(conn, borrowernumber, row[0], row[1])


def add_province_block(
    conn: Connection, borrowernumber: int, debarred: date | None, comment: str | None,
    reason: str,
) -> bool:
    """Add the province row unless present; returns whether anything changed."""
    rows = debarments(conn, borrowernumber)
    if any(is_province(c) for _, c in rows):
        return False
    if not rows and debarred is not None:
        # Give a legacy bare debarment its own row first (as Koha's 3.12 upgrade
        # did), or recomputing the mirror on reinstate would silently lift it.
        _legacy_row(conn, borrowernumber, debarred, comment)
    conn.execute(insert(borrower_debarments).values(
        borrowernumber=borrowernumber, expiration=None, type="MANUAL", comment=MARKER + reason,
    ))
    mirror(conn, borrowernumber)
    return True


def remove_province_block(conn: Connection, borrowernumber: int) -> bool:
    """Delete only the province's rows; returns whether anything changed."""
    table = borrower_debarments
    gone = conn.execute(
        delete(table).where(
            table.c.borrowernumber == borrowernumber, table.c.comment.startswith(MARKER)
        )
    ).rowcount
    if gone:
        mirror(conn, borrowernumber)
    return bool(gone)
