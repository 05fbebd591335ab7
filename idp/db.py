"""Engine and session construction for SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Engine, any_, bindparam, create_engine, event, exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

#: A pooled connection idle longer than this is pinged before use. A busy
#: connection is not: the ping is a round trip, and on the hot OIDC endpoints it
#: cost as much as the query it guarded. A server restart under load then fails
#: the requests in flight, whose connections the pool replaces at once.
PING_AFTER_IDLE_SECONDS = 10.0
#: Connections older than this are replaced (firewalls drop long-idle flows).
RECYCLE_SECONDS = 1800


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        # One connection per thread; WAL lets the dev server read while the CLI writes.
        kwargs["connect_args"] = {"timeout": 15}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=RECYCLE_SECONDS)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for idle connections only."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another.
            raise exc.DisconnectionError() from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def among(session: Session, column: InstrumentedAttribute[Any],
          values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a batch's look-ups, as one array parameter on PostgreSQL.

    Rendered as ``IN (:p1, ..., :p1000)`` a look-up of a thousand keys is a new long
    statement for each length, which the driver rewrites and the server parses
    afresh; ``= ANY(:keys)`` is one short statement with one array parameter and the
    same index scan. Other databases keep ``IN``.
    """
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))
    keys = bindparam(None, list(values), type_=ARRAY(column.type))
    return column == any_(keys)
