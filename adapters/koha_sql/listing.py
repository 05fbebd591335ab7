"""Reading Koha patrons in pages for onboarding imports: three queries a page
(borrowers, back-link attributes, debarments), never one per patron."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from adapters.koha_sql import blocks
from adapters.koha_sql.schema import borrower_attributes as attrs
from adapters.koha_sql.schema import borrower_debarments, borrowers
from adapters.sqltools import row_key, version_token
from adapters.values import LocalPatron

COLUMNS = (
    borrowers.c.borrowernumber, borrowers.c.cardnumber, borrowers.c.surname,
    borrowers.c.firstname, borrowers.c.dateofbirth, borrowers.c.categorycode,
    borrowers.c.branchcode, borrowers.c.dateexpiry, borrowers.c.debarred,
    borrowers.c.debarredcomment, borrowers.c.lost, borrowers.c.gonenoaddress,
    borrowers.c.updated_on,
)


def to_patron(row: Any, debarments: list[blocks.Debarment], reader_id: str | None,
              today: date) -> LocalPatron:
    local, province = blocks.block_state(
        debarments, row.debarred, bool(row.lost), bool(row.gonenoaddress), today
    )
    return LocalPatron(
        local_id=str(row.borrowernumber), barcode=row.cardnumber or "",
        surname=row.surname or "", first_name=row.firstname or "",
        birth_date=row.dateofbirth, category=row.categorycode, branch=row.branchcode,
        expiry=row.dateexpiry, blocked_locally=local, blocked_by_province=province,
        reader_id=reader_id, version=version_token((*row[:len(COLUMNS)], reader_id)),
    )


def page(conn: Connection, backlink_code: str, after: str | None, limit: int,
         today: date) -> Sequence[LocalPatron]:
    start = row_key(after) or 0
    rows = conn.execute(select(*COLUMNS).where(borrowers.c.borrowernumber > start)
                        .order_by(borrowers.c.borrowernumber).limit(limit)).all()
    if not rows:
        return []
    first, last = rows[0].borrowernumber, rows[-1].borrowernumber
    links = dict(conn.execute(select(attrs.c.borrowernumber, attrs.c.attribute).where(
        attrs.c.code == backlink_code, attrs.c.borrowernumber.between(first, last))).all())
    table = borrower_debarments
    debarred: defaultdict[int, list[blocks.Debarment]] = defaultdict(list)
    for number, expiration, comment in conn.execute(
        select(table.c.borrowernumber, table.c.expiration, table.c.comment)
        .where(table.c.borrowernumber.between(first, last))
        .order_by(table.c.borrower_debarment_id)
    ):
        debarred[number].append((expiration, comment))
    return [to_patron(row, debarred.get(row.borrowernumber, []),
                      links.get(row.borrowernumber), today) for row in rows]


def count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(borrowers)) or 0)
