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
from ..models import StaffToken
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
    actor: Actor,
    now: dt.datetime,
) -> str:
    """Create a token and return its secret value (shown once, never stored)."""
    if not _NAME.match(name):
        raise InvalidInput("use 1-64 lower-case letters, digits, '.', '_' or '-'", field="name")
    if role not in (Role.ADMIN, Role.STAFF):
        raise InvalidInput("role must be admin or staff", field="role")
    if session.scalar(select(StaffToken.id).where(StaffToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} already exists; revoke it first", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = StaffToken(
        name=name, role=role.value, token_hash=_hash(hasher, secret), created_at=now
    )
    session.add(token)
    session.flush()
    audit.record(session, actor, "staff_token.create", "staff_token", name, now=now,
                 details={"role": role.value})
    return secret


def authenticate(session: Session, hasher: KeyedHasher, secret: str) -> Actor | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = session.scalar(select(StaffToken).where(StaffToken.token_hash == _hash(hasher, secret)))
    if token is None or token.revoked_at is not None:
        return None
    return Actor(Role(token.role), token.name)


def revoke_token(session: Session, name: str, *, actor: Actor, now: dt.datetime) -> None:
    token = session.scalar(select(StaffToken).where(StaffToken.name == name))
    if token is None:
        raise NotFound(f"no token named {name!r}", field="name")
    if token.revoked_at is None:
        token.revoked_at = now
        # Free the name for a successor; the audit log keeps the history.
        token.name = f"{name}~revoked~{token.id}"[:64]
        audit.record(session, actor, "staff_token.revoke", "staff_token", name, now=now)


def list_tokens(session: Session) -> Sequence[StaffToken]:
    return session.scalars(
        select(StaffToken).where(StaffToken.revoked_at.is_(None)).order_by(StaffToken.name)
    ).all()


def token_view(token: StaffToken) -> dict[str, Any]:
    return {"name": token.name, "role": token.role, "created_at": token.created_at.isoformat()}
