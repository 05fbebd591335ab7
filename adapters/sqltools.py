"""Helpers shared by the SQL backends: integer row keys, version tokens, lock names
and the pool's ping of idle connections (the identity service's engines use it too)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, event, exc


def row_key(local_id: str | None) -> int | None:
    """A local id as an integer primary key, or ``None`` when it is not one. ASCII
    digits only: ``str.isdigit`` also accepts other scripts' digits, which
    ``int()`` either refuses ('²') or reads as another number ('١٢' is 12)."""
    if local_id is None or not (local_id.isascii() and local_id.isdigit()):
        return None
    return int(local_id)


#: A pooled connection idle longer than this is pinged before use. A busy
#: connection is not: the ping is a round trip, on the hot OIDC endpoints it cost
#: as much as the query it guarded, and a relay delivery checks out a library's
#: connection twice. A server restart under load then fails the work in flight
#: (a delivery is retried), whose connections the pool replaces at once.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_when_idle(engine: Engine, after: float = PING_AFTER_IDLE_SECONDS) -> None:
    """SQLAlchemy's pessimistic disconnect handling (``pool_pre_ping``), for
    connections idle longer than ``after`` seconds only."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another.
            raise exc.DisconnectionError() from error


def version_token(values: Iterable[object]) -> str:
    """A token that changes whenever any of ``values`` changes.

    ILS tables carry at best a coarse change timestamp (Koha's ``updated_on`` has
    one-second resolution), so the token hashes the whole row: two writes within
    the same second still produce different tokens unless they leave the row
    exactly as it was, in which case there is nothing to conflict with.
    """
    text = "".join(f"{value!r}\x1f" for value in values)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def lock_key(purpose: str, value: str) -> str:
    """A short, fixed-length lock name (MariaDB caps GET_LOCK names at 64 chars)."""
    return f"readerpass:{purpose}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def lock_ints(purpose: str, value: str) -> tuple[int, int]:
    """Two signed 32-bit keys for PostgreSQL's two-argument advisory locks."""
    digest = hashlib.sha256(f"{purpose}:{value}".encode()).digest()
    return (int.from_bytes(digest[:4], "big", signed=True),
            int.from_bytes(digest[4:8], "big", signed=True))
