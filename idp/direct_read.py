"""The hottest look-ups as plain driver calls on a connection each thread keeps.

An online card verification reads one row (:data:`idp.cardsvc.verification.ADMISSION`).
Through a session that read costs a checkout, SQLAlchemy's ``Connection`` and
``Result``, a ``ROLLBACK`` round trip and a checkin. Through :class:`DirectRead` it
is one driver call on a connection the thread already holds, in autocommit: on
PostgreSQL ~25 µs of CPU, against 72 µs with a checkout, an autocommit switch and a
checkin around psycopg's cursor, and 148 µs through ``engine.connect()``.

Held connections come from the engine's pool and count against it
(``[database] pool_size``), so :class:`ReadConnections` lets only ``limit`` threads
hold one at a time; the others check one out for each read. A held connection
keeps the pool's rules: after :data:`~adapters.sqltools.PING_AFTER_IDLE_SECONDS`
unused it goes back to the pool and is checked out again (the pool replaces it
past its recycle age) and pinged; one that fails is given back, where the pool
discards it if broken; the connection of a thread that ended goes back when
another thread asks for one; :meth:`ReadConnections.close` gives all back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import ClauseElement, Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler

from adapters.sqltools import PING_AFTER_IDLE_SECONDS

from .db import bound_defaults
from .pq_read import PreparedRead


class Held:
    """A thread's connection and when it last served a read."""

    __slots__ = ("pooled", "thread", "used")

    def __init__(self, thread: threading.Thread, pooled: PoolProxiedConnection):
        self.thread, self.pooled, self.used = thread, pooled, time.monotonic()


class ReadConnections:
    """Autocommit connections held by up to ``limit`` threads, one each, for every
    :class:`DirectRead` on ``engine``."""

    def __init__(self, engine: Engine, *, limit: int,
                 idle_seconds: float = PING_AFTER_IDLE_SECONDS):
        self.engine = engine
        self.limit = limit
        self.idle_seconds = idle_seconds
        self._held: dict[threading.Thread, Held | None] = {}  # None: being checked out
        self._lock = threading.Lock()
        self._closed = False

    def held(self) -> Held | None:
        """This thread's connection, in autocommit (the caller sets ``used`` after
        each read); ``None`` when ``limit`` other threads hold one."""
        thread = threading.current_thread()
        held = self._held.get(thread)
        if held is not None and time.monotonic() - held.used < self.idle_seconds:
            return held
        return self._take(thread, idle=held) if self.limit else None

    def failed(self, held: Held) -> None:
        """A read on ``held`` raised: give the connection back."""
        with self._lock:
            if self._held.get(held.thread) is held:
                del self._held[held.thread]
        self.give_back(held.pooled)

    def count(self) -> int:
        return len(self._held)

    def close(self) -> None:
        """Give back every held connection (before the engine is disposed); reads
        go on with a connection checked out for each."""
        with self._lock:
            self._closed = True
            held, self._held = list(self._held.values()), {}
        for each in held:
            if each is not None:
                self.give_back(each.pooled)

    def _take(self, thread: threading.Thread, idle: Held | None) -> Held | None:
        with self._lock:
            # This thread's idle connection, and those of threads that ended, go back.
            gone = [self._held.pop(each) for each in list(self._held)
                    if each is thread or not each.is_alive()]
            slot = not self._closed and len(self._held) < self.limit
            if slot:
                self._held[thread] = None
        for each in gone:
            if each is not None:
                self.give_back(each.pooled)
        if not slot:
            return None
        try:
            pooled = self.checkout()
            if idle is not None:  # its idle time is ours, which the pool did not see
                pooled = self._pinged(pooled)
            held = Held(thread, pooled)
        except BaseException:
            with self._lock:
                self._held.pop(thread, None)
            raise
        with self._lock:
            if self._held.get(thread, held) is None:  # still reserved: not closed since
                self._held[thread] = held
                return held
        self.give_back(held.pooled)
        return None

    def _pinged(self, pooled: PoolProxiedConnection) -> PoolProxiedConnection:
        dialect, connection = self.engine.dialect, pooled.dbapi_connection
        assert connection is not None  # a checked-out connection has one
        try:
            dialect.do_ping(connection)
        except dialect.loaded_dbapi.Error:
            pooled.invalidate()
            self.give_back(pooled)
            return self.checkout()  # the pool pings it if it was idle
        except BaseException:
            self.give_back(pooled)
            raise
        return pooled

    def checkout(self) -> PoolProxiedConnection:
        """A pooled connection in autocommit, for one read or to hold."""
        pooled = self.engine.raw_connection()
        assert pooled.dbapi_connection is not None  # a checked-out connection has one
        try:
            self.engine.dialect.set_isolation_level(pooled.dbapi_connection, "AUTOCOMMIT")
        except BaseException:
            pooled.close()
            raise
        return pooled

    def give_back(self, pooled: PoolProxiedConnection) -> None:
        """Back to the pool in transactions, as sessions expect; a connection that
        cannot even be switched back is discarded."""
        if pooled.dbapi_connection is not None:
            try:
                self.engine.dialect.reset_isolation_level(pooled.dbapi_connection)
            except self.engine.dialect.loaded_dbapi.Error:
                pooled.invalidate()
        pooled.close()


class DirectRead:
    """A read-only Core statement run on a connection from :class:`ReadConnections`,
    without SQLAlchemy's Connection and Result objects: on PostgreSQL through psycopg
    as a statement libpq prepared (:mod:`idp.pq_read`), elsewhere with the driver's
    cursor. It binds and selects only text and integers, which come back as the
    driver gives them."""

    def __init__(self, reads: ReadConnections, statement: ClauseElement):
        dialect = reads.engine.dialect
        self._reads = reads
        self._read: PreparedRead | CursorRead = (
            PreparedRead(statement, dialect) if dialect.driver == "psycopg"
            else CursorRead(statement, dialect))

    def first(self, **values: Any) -> tuple[Any, ...] | None:
        reads = self._reads
        held = reads.held()
        if held is None:  # other threads hold all the connections reads may keep
            pooled = reads.checkout()
            try:
                return self._read.first(pooled, values)
            finally:
                reads.give_back(pooled)
        try:
            row = self._read.first(held.pooled, values)
        except BaseException:
            reads.failed(held)
            raise
        held.used = time.monotonic()
        return row


class CursorRead:
    """The statement run with the driver's cursor (SQLite, and any other driver)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        self._sql = str(compiled)
        self._defaults = bound_defaults(compiled)
        self._order = compiled.positiontup if compiled.positional else None

    def first(self, pooled: PoolProxiedConnection,
              values: dict[str, Any]) -> tuple[Any, ...] | None:
        params = {**self._defaults, **values}
        args = [params[name] for name in self._order] if self._order is not None else params
        cursor = pooled.cursor()
        try:
            cursor.execute(self._sql, args)
            row = cursor.fetchone()
        finally:
            cursor.close()  # on SQLite an open statement would keep its read snapshot
        return tuple(row) if row is not None else None
