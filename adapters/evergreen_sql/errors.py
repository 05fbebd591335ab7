"""Turning PostgreSQL errors into the port's typed errors.

SQLSTATEs (PostgreSQL manual, appendix A): 23505 unique_violation, 23503
foreign_key_violation (raised at COMMIT for Evergreen's deferred keys),
23502 not_null_violation, 22001 string too long; 55P03 lock_not_available,
57014 query_canceled (statement timeout), 40001/40P01 serialization failure and
deadlock are transient; class 08, 57P01-57P03 (the server shutting down or
restarting) and no SQLSTATE at all mean the connection failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from adapters.errors import Conflict, Rejected, Unavailable

NAME = "evergreen_sql"

# Constraint -> port field, for naming the field an error is about.
CONSTRAINTS = {
    "card_barcode_key": "barcode",
    "usr_usrname_key": "username",
    "usr_home_ou_fkey": "branch",
    "usr_profile_fkey": "category",
    "actor_card_one_active_per_usr": "barcode",
}


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None)
        diag = getattr(exc.orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None) or ""
        field = CONSTRAINTS.get(constraint, constraint or None)
        if state == "23505":
            raise Conflict(f"{field} already in use", field=field or "unique_key") from exc
        if state == "23503":
            raise Rejected(f"no such {field or 'referenced row'} in this library",
                           field=field) from exc
        if state in ("23502", "22001", "23514"):
            raise Rejected("value does not fit the library's schema", field=field) from exc
        gone = state is None or state.startswith(("08", "57P")) or exc.connection_invalidated
        kind = "unreachable" if gone else state
        raise Unavailable(f"library database {kind}", backend=NAME) from exc
