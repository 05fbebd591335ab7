"""Province blocks as an Evergreen standing penalty of the province's own type.

Evergreen blocks circulation through ``actor.usr_standing_penalty`` rows whose
``config.standing_penalty.block_list`` is set, and through ``actor.usr.barred``.
The province adds a penalty of its configured type and, to reinstate, archives
that penalty by setting ``stop_date`` (what the staff client's "Archive" does).
``barred``, ``active`` and every other penalty belong to the library and are
never written here.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from adapters.evergreen_sql.schema import standing_penalty, usr, usr_standing_penalty

_pen = usr_standing_penalty.c


def _active() -> ColumnElement[bool]:
    return or_(_pen.stop_date.is_(None), _pen.stop_date > func.now())


# Built once with bound parameters: building them cost about as much as running them.
_PROVINCE = exists().where(
    _pen.usr == bindparam("user"), _pen.standing_penalty == bindparam("penalty"), _active(),
).select()
_LOCAL = select(or_(usr.c.barred, ~usr.c.active, exists().where(
    _pen.usr == bindparam("user"), _pen.standing_penalty != bindparam("penalty"), _active(),
    standing_penalty.c.id == _pen.standing_penalty,
    standing_penalty.c.block_list.is_not(None),
))).where(usr.c.id == bindparam("user"))


def block_state(conn: Connection, user_id: int, province_penalty: int) -> tuple[bool, bool]:
    """(blocked_locally, blocked_by_province)."""
    params = {"user": user_id, "penalty": province_penalty}
    province = conn.scalar(_PROVINCE, params)
    local = conn.scalar(_LOCAL, params)
    return bool(local), bool(province)


def add_province_block(
    conn: Connection, user_id: int, home_ou: int, province_penalty: int, reason: str
) -> None:
    if block_state(conn, user_id, province_penalty)[1]:
        return
    conn.execute(insert(usr_standing_penalty).values(
        usr=user_id, org_unit=home_ou, standing_penalty=province_penalty, note=reason,
    ))


def archive_province_block(conn: Connection, user_id: int, province_penalty: int) -> None:
    conn.execute(
        update(usr_standing_penalty)
        .where(_pen.usr == user_id, _pen.standing_penalty == province_penalty, _active())
        .values(stop_date=func.now())
    )
