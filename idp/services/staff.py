"""Bearer tokens for the staff API, issued from the CLI.

Tokens are 256-bit random values shown once; only a keyed hash is stored, so a
copy of the database does not grant access.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidInput, NotFound
from ..models import Library, StaffToken
from ..pii import KeyedHasher
from . import audit
from .actor import Actor, Role

TOKEN_PREFIX = "rpst_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _hash(hasher: KeyedHasher, token: str) -> str:
    return hasher.digest("staff-token", token)


def create_token(
    session: Session,
    hasher: KeyedHasher,
    name: str,
    *,
    role: Role = Role.ADMIN,
    library: str | None = None,
    actor: Actor,
    now: dt.datetime,
) -> str:
    """Create a token and return its secret value (shown once, never stored).

    A staff token may name the member library its holder works at: library
    staff act for that library's readers only (e.g. proposing merges).
    """
    if not _NAME.match(name):
        raise InvalidInput("use 1-64 lower-case letters, digits, '.', '_' or '-'", field="name")
    if role not in (Role.ADMIN, Role.STAFF):
        raise InvalidInput("role must be admin or staff", field="role")
    library_row: Library | None = None
    if library is not None:
        if role is not Role.STAFF:
            raise InvalidInput("only staff tokens belong to a library", field="library")
        library_row = session.scalar(select(Library).where(Library.code == library.upper()))
        if library_row is None:
            raise InvalidInput(f"no member library has the code {library!r}", field="library")
    if session.scalar(select(StaffToken.id).where(StaffToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} already exists; revoke it first", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken(
        name=name, role=role.value, token_hash=_hash(hasher, secret), created_at=now,
        library_id=library_row.id if library_row else None,
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "staff_token.create", "staff_token", name, now=now,
                 details={"role": role.value,
                          "library": library_row.code if library_row else None})
    return secret


def authenticate(session: Session, hasher: KeyedHasher, secret: str) -> Actor | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    row = session.execute(
        select(StaffToken, Library.code)
        .outerjoin(Library, Library.id == StaffToken.library_id)
        .where(StaffToken.token_hash == _hash(hasher, secret))).first()
    if row is None or row[0].revoked_at is not None:
        return None
    token, library = row
    return Actor(Role(token.role), token.name, library)


def revoke_token(session: Session, name: str, *, actor: Actor, now: dt.datetime) -> None:
    token = session.scalar(select(StaffToken).where(StaffToken.name == name))
    if token is None:
        raise NotFound(f"no token named {name!r}", field="name")
    if token.revoked_at is None:
        token.revoked_at = now
        # Free the name for a successor; the audit log keeps the history.
        token.name = f"{name}~revoked~{token.id}"[:64]
        audit.record(session, actor, "staff_token.revoke", "staff_token", name, now=now)


def list_tokens(session: Session) -> Sequence[tuple[StaffToken, str | None]]:
    rows = session.execute(
        select(StaffToken, Library.code)
        .outerjoin(Library, Library.id == StaffToken.library_id)
        .where(StaffToken.revoked_at.is_(None)).order_by(StaffToken.name))
    return [(token, code) for token, code in rows]


def token_view(token: StaffToken, library: str | None = None) -> dict[str, Any]:
    return {"name": token.name, "role": token.role, "library": library,
            "created_at": token.created_at.isoformat()}
