"""Evergreen patrons over SQL (PostgreSQL).

A patron is an ``actor.usr`` row plus its primary ``actor.card`` (``usr.card``);
soft-deleted users (``deleted``) are invisible to every look-up, as in
Evergreen's own patron search. The back-link is an identification field pair
(``ident_type2``/``ident_value2`` by default) and the create key an
``actor.usr_setting``; neither is unique in Evergreen, so check-then-write runs
under a transaction-scoped advisory lock named after the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Row,
    Select,
    and_,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    update,
)

from adapters.capabilities import CORE, Capability
from adapters.errors import (
    AmbiguousMatch,
    Conflict,
    PatronNotFound,
    Rejected,
    Unavailable,
    VersionConflict,
)
from adapters.evergreen_sql import blocks, merging
from adapters.evergreen_sql.errors import NAME, translated
from adapters.evergreen_sql.registration import insert_patron
from adapters.evergreen_sql.schema import card, grp_tree, org_unit, usr, usr_setting
from adapters.merging import kept_backlink, split_ids
from adapters.sqltools import lock_ints, row_key, version_token
from adapters.values import CreateRequest, HealthReport, LocalPatron, PatronMatch, PatronPatch

_MATCH_LIMIT = 10
_LOCK_ROW = select(usr.c.id).where(usr.c.id == bindparam("n"), ~usr.c.deleted).with_for_update()
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:a, :b)")
IDENT_PAIRS = {"ident_value": "ident_type", "ident_value2": "ident_type2"}


@dataclass(frozen=True)
class EvergreenSettings:
    backlink_column: str  # a key of IDENT_PAIRS
    backlink_ident_type: int
    default_ident_type: int
    province_penalty: int
    create_key_setting: str
    lock_timeout_ms: int


class EvergreenPatronStore:
    def __init__(self, engine: Engine, settings: EvergreenSettings) -> None:
        self._engine = engine
        self._s = settings
        self._link = usr.c[settings.backlink_column]
        self._link_type = usr.c[IDENT_PAIRS[settings.backlink_column]]
        # Built once: building this join took about as much CPU as running it.
        self._by_id = self._patrons().where(usr.c.id == bindparam("n"))
        self._lock_timeout = text(f"SET LOCAL lock_timeout = {int(settings.lock_timeout_ms)}")

    @property
    def backend(self) -> str:
        return NAME

    @property
    def capabilities(self) -> Capability:
        return CORE | Capability.ITERATE | Capability.MERGE

    def health(self) -> HealthReport:
        try:
            with translated(), self._engine.connect() as conn:
                conn.execute(text("SELECT 1 FROM actor.usr LIMIT 1"))
        except Unavailable as exc:
            return HealthReport(ok=False, detail=exc.message)
        return HealthReport(ok=True, detail="evergreen database reachable")

    def get(self, local_id: str) -> LocalPatron | None:
        key = row_key(local_id)
        if key is None:
            return None
        with translated(), self._engine.connect() as conn:
            return self._load(conn, key)

    def find(self, match: PatronMatch) -> LocalPatron | None:
        query = select(usr.c.id).where(~usr.c.deleted).limit(_MATCH_LIMIT)
        if match.barcode is not None:
            query = query.join(card, card.c.usr == usr.c.id).where(card.c.barcode == match.barcode)
        if match.reader_id is not None:
            query = query.where(_equal(self._link, match.reader_id),
                                self._link_type == self._s.backlink_ident_type)
        for column, value in ((usr.c.family_name, match.surname),
                              (usr.c.first_given_name, match.first_name)):
            if value is not None:
                query = query.where(_equal(column, value))
        if match.birth_date is not None:
            query = query.where(usr.c.dob == match.birth_date)
        with translated(), self._engine.connect() as conn:
            found = list(conn.scalars(query.distinct()))
            if len(found) > 1:
                raise AmbiguousMatch("several patrons match", local_ids=[str(n) for n in found])
            return self._load(conn, found[0]) if found else None

    def create(self, request: CreateRequest, idempotency_key: str) -> LocalPatron:
        with translated(), self._engine.begin() as conn:
            self._lock(conn, "create", idempotency_key)
            done = conn.scalar(select(usr_setting.c.usr).where(
                usr_setting.c.name == self._s.create_key_setting,
                usr_setting.c.value == json.dumps(idempotency_key)))
            if done is None:
                done = insert_patron(conn, request, self._s.default_ident_type)
                conn.execute(insert(usr_setting).values(
                    usr=done, name=self._s.create_key_setting, value=json.dumps(idempotency_key)))
            patron = self._load(conn, done)
        if patron is None:
            raise Rejected("the patron made for this key was deleted in the library",
                           field="idempotency_key")
        return patron

    def update(self, local_id: str, patch: PatronPatch, expected_version: str) -> LocalPatron:
        with translated(), self._engine.begin() as conn:
            current = self._locked_row(conn, local_id)
            if current.version != expected_version:
                raise VersionConflict("patron changed since it was read", local_id=local_id,
                                      expected=expected_version, actual=current.version)
            values = {column: value for column, value in (
                ("family_name", patch.surname), ("first_given_name", patch.first_name),
                ("dob", patch.birth_date), ("expire_date", patch.expiry),
            ) if value is not None}
            if values:
                self._touch(conn, int(local_id), values)
            return self._loaded(conn, int(local_id))

    def suspend(self, local_id: str, reason: str) -> LocalPatron:
        with translated(), self._engine.begin() as conn:
            self._locked_row(conn, local_id)
            home_ou = conn.scalar(select(usr.c.home_ou).where(usr.c.id == int(local_id)))
            assert home_ou is not None
            blocks.add_province_block(conn, int(local_id), home_ou, self._s.province_penalty,
                                      reason)
            return self._loaded(conn, int(local_id))

    def reinstate(self, local_id: str) -> LocalPatron:
        with translated(), self._engine.begin() as conn:
            self._locked_row(conn, local_id)
            blocks.archive_province_block(conn, int(local_id), self._s.province_penalty)
            return self._loaded(conn, int(local_id))

    def write_backlink(self, local_id: str, reader_id: str) -> LocalPatron:
        with translated(), self._engine.begin() as conn:
            self._lock(conn, "link", reader_id)
            current = self._locked_row(conn, local_id)
            if current.reader_id == reader_id:
                return current
            if current.reader_id is not None:
                raise Conflict("patron is linked to another reader", field="reader_id",
                               local_id=local_id)
            holder = conn.scalar(select(usr.c.id).where(
                ~usr.c.deleted, _equal(self._link, reader_id),
                self._link_type == self._s.backlink_ident_type).limit(1))
            if holder is not None:
                raise Conflict("reader is linked to another patron", field="reader_id",
                               local_id=str(holder))
            self._touch(conn, int(local_id), {
                self._s.backlink_column: reader_id,
                IDENT_PAIRS[self._s.backlink_column]: self._s.backlink_ident_type,
            })
            return self._loaded(conn, int(local_id))

    def merge(self, local_ids: Sequence[str]) -> LocalPatron:
        """``actor.usr_merge`` (see ``merging``); rules: ``adapters.merging``."""
        kept_id, other_ids = split_ids(local_ids)
        for local_id in (kept_id, *other_ids):
            if row_key(local_id) is None:
                raise PatronNotFound(local_id)
        kept, others = int(kept_id), [int(o) for o in other_ids]
        with translated(), self._engine.begin() as conn:
            rows = {row.id: row for row in conn.execute(
                select(usr.c.id, usr.c.deleted, self._link.label("link"),
                       self._link_type.label("link_type"))
                .where(usr.c.id.in_([kept, *others])).order_by(usr.c.id).with_for_update())}
            if kept not in rows or rows[kept].deleted:
                raise PatronNotFound(kept_id)
            for other in others:
                if other not in rows:
                    raise PatronNotFound(str(other))
            live = [o for o in others if not rows[o].deleted]

            def link_of(user_id: int) -> str | None:
                row = rows[user_id]
                return row.link if row.link_type == self._s.backlink_ident_type else None

            kept_link = link_of(kept)
            wanted = kept_backlink(kept_link, (link_of(o) for o in live))
            for other in live:
                takes = None
                if kept_link is None and wanted is not None and link_of(other) == wanted:
                    takes, kept_link = (wanted, self._s.backlink_ident_type), wanted
                merging.fold(conn, kept, other, self._link, self._link_type, takes)
            return self._loaded(conn, kept)

    def iter_patrons(self, after: str | None, limit: int) -> Sequence[LocalPatron]:
        start = row_key(after) or 0
        with translated(), self._engine.connect() as conn:
            rows = conn.execute(self._patrons().where(usr.c.id > start)
                                .order_by(usr.c.id).limit(limit)).all()
            return [self._patron(conn, row) for row in rows]

    def count_patrons(self) -> int:
        with translated(), self._engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(~usr.c.deleted)) or 0)

    def close(self) -> None:
        self._engine.dispose()

    # -- helpers -------------------------------------------------------------

    def _lock(self, conn: Connection, purpose: str, value: str) -> None:
        """Serialise writers of ``value`` until COMMIT; give up after the lock timeout."""
        conn.execute(self._lock_timeout)
        first, second = lock_ints(purpose, value)
        conn.execute(_ADVISORY_LOCK, {"a": first, "b": second})

    def _touch(self, conn: Connection, user_id: int, values: Mapping[str, object]) -> None:
        conn.execute(update(usr).where(usr.c.id == user_id)
                     .values({**values, "last_update_time": func.clock_timestamp()}))

    def _locked_row(self, conn: Connection, local_id: str) -> LocalPatron:
        key = row_key(local_id)
        if key is None or conn.scalar(_LOCK_ROW, {"n": key}) is None:
            raise PatronNotFound(local_id)
        return self._loaded(conn, key)

    def _loaded(self, conn: Connection, user_id: int) -> LocalPatron:
        patron = self._load(conn, user_id)
        assert patron is not None
        return patron

    def _load(self, conn: Connection, user_id: int) -> LocalPatron | None:
        row = conn.execute(self._by_id, {"n": user_id}).first()
        return None if row is None else self._patron(conn, row)

    def _patrons(self) -> Select[Any]:
        return (
            select(usr.c.id, card.c.barcode, usr.c.family_name, usr.c.first_given_name,
                   usr.c.dob, grp_tree.c.name.label("profile"),
                   org_unit.c.shortname.label("branch"),
                   cast(usr.c.expire_date, Date).label("expiry"),
                   self._link.label("link"), self._link_type.label("link_type"),
                   usr.c.barred, usr.c.active, usr.c.last_update_time)
            .join(grp_tree, grp_tree.c.id == usr.c.profile)
            .join(org_unit, org_unit.c.id == usr.c.home_ou)
            .outerjoin(card, card.c.id == usr.c.card)
            .where(~usr.c.deleted)
        )

    def _patron(self, conn: Connection, row: Row[tuple[object, ...]]) -> LocalPatron:
        local, province = blocks.block_state(conn, row.id, self._s.province_penalty)
        linked = row.link if row.link_type == self._s.backlink_ident_type else None
        return LocalPatron(
            local_id=str(row.id), barcode=row.barcode or "", surname=row.family_name,
            first_name=row.first_given_name, birth_date=row.dob, category=row.profile,
            branch=row.branch, expiry=row.expiry, blocked_locally=local,
            blocked_by_province=province, reader_id=linked,
            version=version_token((*row, local, province)),
        )


def _equal(column: Any, value: str) -> Any:
    """``column = value``, written so that Evergreen's index on ``lower(column)`` finds
    the rows: the lower-cased comparison narrows, the exact one decides."""
    return and_(func.lower(column) == func.lower(value), column == value)
