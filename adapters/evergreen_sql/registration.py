"""Registering a new Evergreen patron: one ``actor.usr`` and its primary ``actor.card``.

Branch and category arrive as local codes (``actor.org_unit.shortname``,
``permission.grp_tree.name``) and are resolved here, so an unknown code is a
clear :class:`Rejected` rather than a foreign-key error at COMMIT. Evergreen's
staff client uses the barcode as the default username, and so do we.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select

from adapters.errors import Conflict, Rejected
from adapters.evergreen_sql.schema import card, grp_tree, org_unit, usr
from adapters.values import CreateRequest


def insert_patron(conn: Connection, request: CreateRequest, ident_type: int) -> int:
    home_ou = conn.scalar(select(org_unit.c.id).where(org_unit.c.shortname == request.branch))
    if home_ou is None:
        raise Rejected(f"no branch {request.branch!r} in this library", field="branch")
    profile = conn.scalar(select(grp_tree.c.id).where(grp_tree.c.name == request.category))
    if profile is None:
        raise Rejected(f"no category {request.category!r} in this library", field="category")
    holder = conn.scalar(select(card.c.usr).where(card.c.barcode == request.barcode))
    if holder is not None:
        raise Conflict("barcode already in use", field="barcode", local_id=str(holder))
    # The card row is written after the user that already points at it: the
    # deferred keys are checked at COMMIT, as Evergreen's registration does.
    card_id = conn.scalar(select(func.nextval("actor.card_id_seq")))
    user_id = conn.scalar(insert(usr).values(
        card=card_id, profile=profile, usrname=request.barcode,
        ident_type=ident_type, family_name=request.surname,
        first_given_name=request.first_name, dob=request.birth_date, home_ou=home_ou,
        expire_date=request.expiry,
    ).returning(usr.c.id))
    assert isinstance(user_id, int)
    conn.execute(insert(card).values(id=card_id, usr=user_id, barcode=request.barcode))
    return user_id
