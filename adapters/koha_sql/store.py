"""Koha patrons over SQL (MariaDB), for libraries whose Koha database we may write.

The back-link and the create idempotency key are extended patron attributes
(``borrower_attributes``). Koha enforces ``unique_id`` attribute types only in
application code (Koha::Patron::Attribute->check_unique_id), so every
check-then-insert here runs under a MariaDB ``GET_LOCK`` named after the value,
which serialises writers in every process talking to the same server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, insert, select, text, update

from adapters.capabilities import CORE, Capability
from adapters.errors import (
    AmbiguousMatch,
    Conflict,
    PatronNotFound,
    Unavailable,
    VersionConflict,
)
from adapters.koha_sql import blocks, listing, merging
from adapters.koha_sql.errors import NAME, translated
from adapters.koha_sql.locks import named_lock
from adapters.koha_sql.schema import borrower_attributes as attrs
from adapters.koha_sql.schema import borrowers, deletedborrowers
from adapters.merging import split_ids
from adapters.sqltools import lock_key, row_key
from adapters.values import CreateRequest, HealthReport, LocalPatron, PatronMatch, PatronPatch

_MATCH_LIMIT = 10

# The statements of the hot paths (a relay delivery, a JIT provisioning), built
# once with bound parameters: building one (this many columns, a scalar subquery)
# took about as much CPU as running it, 240 of 500 µs for the patron's row.
_BACKLINK = (select(attrs.c.attribute)
             .where(attrs.c.borrowernumber == bindparam("n"), attrs.c.code == bindparam("code"))
             .limit(1).scalar_subquery())
#: A patron's columns, its back-link last (one round trip fewer than reading it apart).
_PARTS = select(*listing.COLUMNS, _BACKLINK).where(borrowers.c.borrowernumber == bindparam("n"))
_LOCK_ROW = (select(borrowers.c.borrowernumber)
             .where(borrowers.c.borrowernumber == bindparam("n")).with_for_update())
_HOLDER = (select(attrs.c.borrowernumber)
           .where(attrs.c.code == bindparam("code"), attrs.c.attribute == bindparam("value"))
           .limit(1))
_CARD_HOLDER = select(borrowers.c.borrowernumber).where(
    borrowers.c.cardnumber == bindparam("barcode"))
_ADD_ATTRIBUTE = insert(attrs)


class KohaPatronStore:
    def __init__(
        self,
        engine: Engine,
        *,
        backlink_code: str,
        create_key_code: str,
        lock_timeout: int,
        today: Callable[[], date] = date.today,
    ) -> None:
        self._engine = engine
        self._backlink = backlink_code
        self._create_key = create_key_code
        self._lock_timeout = lock_timeout
        self._today = today

    @property
    def backend(self) -> str:
        return NAME

    @property
    def capabilities(self) -> Capability:
        return CORE | Capability.ITERATE | Capability.MERGE

    def health(self) -> HealthReport:
        try:
            with translated(), self._engine.connect() as conn:
                codes = set(conn.scalars(text(
                    "SELECT code FROM borrower_attribute_types WHERE code IN (:a, :b)"
                ), {"a": self._backlink, "b": self._create_key}))
        except Unavailable as exc:
            return HealthReport(ok=False, detail=exc.message)
        missing = {self._backlink, self._create_key} - codes
        if missing:
            return HealthReport(ok=False, detail=f"attribute types missing: {sorted(missing)}")
        return HealthReport(ok=True, detail="koha database reachable")

    def get(self, local_id: str) -> LocalPatron | None:
        key = row_key(local_id)
        if key is None:
            return None
        with translated(), self._engine.connect() as conn:
            return self._load(conn, key)

    def find(self, match: PatronMatch) -> LocalPatron | None:
        b = borrowers.c
        query = select(b.borrowernumber).limit(_MATCH_LIMIT)
        if match.reader_id is not None:
            query = query.join(attrs, and_(
                attrs.c.borrowernumber == b.borrowernumber,
                attrs.c.code == self._backlink, attrs.c.attribute == match.reader_id,
            ))
        for column, value in ((b.cardnumber, match.barcode), (b.surname, match.surname),
                              (b.firstname, match.first_name), (b.dateofbirth, match.birth_date)):
            if value is not None:
                query = query.where(column == value)
        with translated(), self._engine.connect() as conn:
            found = list(conn.scalars(query))
            if len(found) > 1:
                raise AmbiguousMatch("several patrons match", local_ids=[str(n) for n in found])
            return self._load(conn, found[0]) if found else None

    def create(self, request: CreateRequest, idempotency_key: str) -> LocalPatron:
        with translated(), self._lock("create", idempotency_key) as conn:
            done = self._holder(conn, self._create_key, idempotency_key)
            if done is None:
                self._check_barcode_free(conn, request.barcode)
                key = conn.execute(insert(borrowers).values(
                    cardnumber=request.barcode, surname=request.surname,
                    firstname=request.first_name, dateofbirth=request.birth_date,
                    categorycode=request.category, branchcode=request.branch,
                    dateexpiry=request.expiry, lost=0, gonenoaddress=0,
                )).inserted_primary_key
                assert key is not None
                done = int(key[0])
                conn.execute(insert(attrs).values(
                    borrowernumber=done, code=self._create_key, attribute=idempotency_key,
                ))
            patron = self._load(conn, done)
            conn.commit()
        assert patron is not None
        return patron

    def update(self, local_id: str, patch: PatronPatch, expected_version: str) -> LocalPatron:
        with translated(), self._engine.connect() as conn:
            current = self._locked_row(conn, local_id)
            if current.version != expected_version:
                raise VersionConflict("patron changed since it was read", local_id=local_id,
                                      expected=expected_version, actual=current.version)
            values = {
                column: value for column, value in (
                    ("surname", patch.surname), ("firstname", patch.first_name),
                    ("dateofbirth", patch.birth_date), ("dateexpiry", patch.expiry),
                ) if value is not None
            }
            if values:
                conn.execute(update(borrowers)
                             .where(borrowers.c.borrowernumber == int(local_id)).values(values))
            return self._finish(conn, int(local_id))

    def suspend(self, local_id: str, reason: str) -> LocalPatron:
        with translated(), self._engine.connect() as conn:
            self._locked_row(conn, local_id)
            row = conn.execute(select(borrowers.c.debarred, borrowers.c.debarredcomment)
                               .where(borrowers.c.borrowernumber == int(local_id))).one()
            blocks.add_province_block(conn, int(local_id), row[0], row[1], reason)
            return self._finish(conn, int(local_id))

    def reinstate(self, local_id: str) -> LocalPatron:
        with translated(), self._engine.connect() as conn:
            self._locked_row(conn, local_id)
            blocks.remove_province_block(conn, int(local_id))
            return self._finish(conn, int(local_id))

    def write_backlink(self, local_id: str, reader_id: str) -> LocalPatron:
        with translated(), self._lock("link", reader_id) as conn:
            row, debarred = self._locked_parts(conn, local_id)
            current = self._patron(row, debarred)
            if current.reader_id == reader_id:
                conn.rollback()
                return current
            if current.reader_id is not None:
                raise Conflict("patron is linked to another reader", field="reader_id",
                               local_id=local_id)
            holder = self._holder(conn, self._backlink, reader_id)
            if holder is not None:
                raise Conflict("reader is linked to another patron", field="reader_id",
                               local_id=str(holder))
            conn.execute(_ADD_ATTRIBUTE, {"borrowernumber": int(local_id),
                                          "code": self._backlink, "attribute": reader_id})
            # The borrower row (with Koha's debarment flags, which every change of
            # a restriction updates) is locked: a second read would differ from the
            # first only by this back-link.
            patron = self._patron(row, debarred, reader_id)
            conn.commit()
            return patron

    def merge(self, local_ids: Sequence[str]) -> LocalPatron:
        """Koha's merge (see ``merging``); rules: ``adapters.merging``."""
        kept_id, other_ids = split_ids(local_ids)
        for local_id in (kept_id, *other_ids):
            if row_key(local_id) is None:
                raise PatronNotFound(local_id)
        kept, others = int(kept_id), [int(o) for o in other_ids]
        with translated(), self._engine.connect() as conn:
            present = set(conn.scalars(
                select(borrowers.c.borrowernumber)
                .where(borrowers.c.borrowernumber.in_([kept, *others]))
                .order_by(borrowers.c.borrowernumber).with_for_update()))
            if kept not in present:
                raise PatronNotFound(kept_id)
            missing = [o for o in others if o not in present]
            gone = set(conn.scalars(select(deletedborrowers.c.borrowernumber)
                                    .where(deletedborrowers.c.borrowernumber.in_(missing))))
            for other in missing:
                if other not in gone:
                    raise PatronNotFound(str(other))
            live = [o for o in others if o in present]
            merging.check_backlinks(conn, kept, live, self._backlink)
            for other in live:
                merging.fold(conn, kept, other)
            return self._finish(conn, kept)

    def iter_patrons(self, after: str | None, limit: int) -> Sequence[LocalPatron]:
        with translated(), self._engine.connect() as conn:
            return listing.page(conn, self._backlink, after, limit, self._today())

    def count_patrons(self) -> int:
        with translated(), self._engine.connect() as conn:
            return listing.count(conn)

    def close(self) -> None:
        self._engine.dispose()

    # -- helpers -------------------------------------------------------------

    def _lock(self, purpose: str, value: str) -> AbstractContextManager[Connection]:
        return named_lock(self._engine, self._lock_timeout, lock_key(purpose, value))

    def _check_barcode_free(self, conn: Connection, barcode: str) -> None:
        holder = conn.scalar(_CARD_HOLDER, {"barcode": barcode})
        if holder is not None:
            raise Conflict("barcode already in use", field="barcode", local_id=str(holder))

    def _holder(self, conn: Connection, code: str, value: str) -> int | None:
        return conn.scalar(_HOLDER, {"code": code, "value": value})

    def _locked_row(self, conn: Connection, local_id: str) -> LocalPatron:
        """Lock the borrower row for the rest of the transaction and load it."""
        return self._patron(*self._locked_parts(conn, local_id))

    def _locked_parts(self, conn: Connection, local_id: str
                      ) -> tuple[Any, list[blocks.Debarment]]:
        """Lock the borrower row; its columns (back-link last) and debarments."""
        key = row_key(local_id)
        if key is None or conn.scalar(_LOCK_ROW, {"n": key}) is None:
            raise PatronNotFound(local_id)
        parts = self._parts(conn, key)
        assert parts is not None
        return parts

    def _finish(self, conn: Connection, borrowernumber: int) -> LocalPatron:
        patron = self._load(conn, borrowernumber)
        conn.commit()
        assert patron is not None
        return patron

    def _load(self, conn: Connection, borrowernumber: int) -> LocalPatron | None:
        parts = self._parts(conn, borrowernumber)
        return None if parts is None else self._patron(*parts)

    def _patron(self, row: Any, debarred: list[blocks.Debarment],
                reader_id: str | None = None) -> LocalPatron:
        """The patron of a row ``_parts`` read; its back-link is the row's own (last
        column) unless ``reader_id`` is given."""
        return listing.to_patron(row, debarred, row[-1] if reader_id is None else reader_id,
                                 self._today())

    def _parts(self, conn: Connection, borrowernumber: int
               ) -> tuple[Any, list[blocks.Debarment]] | None:
        row = conn.execute(_PARTS, {"n": borrowernumber, "code": self._backlink}).first()
        if row is None:
            return None
        return row, blocks.debarments(conn, borrowernumber)
