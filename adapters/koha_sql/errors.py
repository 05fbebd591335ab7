"""Turning MariaDB errors into the port's typed errors.

MySQL/MariaDB error numbers (``exc.orig.args[0]`` from PyMySQL): 1062 duplicate
key, 1452 foreign key has no parent row, 1048 NULL in NOT NULL column, 1406 data
too long; 1205 lock wait timeout and 1213 deadlock are transient; 2003/2006/2013
are client-side connection failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from adapters.errors import Conflict, Rejected, Unavailable

NAME = "koha_sql"

# Koha column -> port field, for naming the field an error is about.
FIELDS = {
    "cardnumber": "barcode",
    "userid": "username",
    "branchcode": "branch",
    "categorycode": "category",
    "code": "attribute_type",
}


def _errno(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _field(message: str, pattern: str) -> str | None:
    """The port's name for the column an error message mentions."""
    found = re.search(pattern, message)
    return FIELDS.get(found.group(1), found.group(1)) if found else None


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise driver errors as Unavailable / Conflict / Rejected."""
    try:
        yield
    except DBAPIError as exc:
        number, message = _errno(exc), str(exc.orig)
        if number == 1062:
            key = _field(message, r"for key '(?:\w+\.)?(\w+)'") or "unique_key"
            raise Conflict(f"{key} already in use", field=key) from exc
        if number == 1452:
            # "... FOREIGN KEY (`branchcode`) REFERENCES `branches` ..."
            parent = _field(message, r"FOREIGN KEY \(`(\w+)`\)")
            raise Rejected(f"no such {parent or 'referenced row'} in this library",
                           field=parent) from exc
        if number in (1048, 1406, 1366):
            raise Rejected("value does not fit the library's schema",
                           field=_field(message, r"column '(\w+)'")) from exc
        # Connection loss, lock timeouts and deadlocks pass; anything else is the
        # library's database misbehaving, which retries with backoff also outlast.
        kind = "unreachable" if number is None or number >= 2000 else "error"
        raise Unavailable(f"library database {kind} ({number})", backend=NAME) from exc
