"""A read-only statement run with libpq's own prepared-statement call.

For :class:`idp.direct_read.DirectRead` on PostgreSQL through psycopg: the statement
is prepared once on each connection (``PQprepare``, then ``PQdescribePrepared`` to
learn its columns) and run with ``PQexecPrepared`` through psycopg's documented
libpq wrapper (``psycopg.pq``), parameters and results in text. psycopg's cursor
does the same round trip with its query conversion, adapters, prepared-statement
cache and generator-driven wait around it: 35 against 22 µs of CPU for a one-row
look-up here. libpq blocks in C with the interpreter lock released, as psycopg's
own waiting does.

A statement deallocated meanwhile (``DEALLOCATE ALL``) is prepared again. As with
psycopg's own prepared statements, a pooler that hands each transaction to another
server connection (PgBouncer in transaction mode before 1.21) must not sit between.

Only text and integers go in and come out; anything else is refused (``TypeError``)
rather than handed over in the wrong type. Server errors are raised as psycopg's
exception for their SQLSTATE, and a lost connection as ``OperationalError``, so the
caller and the pool treat them as they would a cursor's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg
from psycopg import errors, pq
from sqlalchemy import ClauseElement, Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler

from .db import bound_defaults

INTEGERS = frozenset({20, 21, 23})  # int8, int2, int4
TEXTS = frozenset({19, 25, 1042, 1043})  # name, text, bpchar, varchar
#: pooled.info key (kept for the life of the connection): statement name → how to
#: read its columns, and the connection's encoding.
_PREPARED = "readerpass.prepared"
_GONE = b"26000"  # invalid_sql_statement_name: deallocated on the server meanwhile
_THERE = b"42P05"  # duplicate_prepared_statement

Loader = Callable[[bytes], Any]


class PreparedRead:
    def __init__(self, statement: ClauseElement, dialect: Dialect):
        numbered: Any = type(dialect)  # the same dialect, with $1, $2 ... for parameters
        compiled = statement.compile(dialect=numbered(paramstyle="numeric_dollar"))
        assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
        self.sql = str(compiled).encode()
        self.name = b"readerpass_" + hashlib.sha256(self.sql).hexdigest()[:24].encode()
        self.order = list(compiled.positiontup)
        self.defaults = bound_defaults(compiled)

    def first(self, pooled: PoolProxiedConnection,
              values: dict[str, Any]) -> tuple[Any, ...] | None:
        connection = pooled.dbapi_connection
        assert isinstance(connection, psycopg.Connection)
        pgconn = connection.pgconn
        prepared = pooled.info.setdefault(_PREPARED, {})
        given = {**self.defaults, **values}
        for attempt in (1, 2):
            known = prepared.get(self.name)
            if known is None:
                known = prepared[self.name] = self._prepare(connection)
            loaders, encoding = known
            params = [_text(name, given[name], encoding) for name in self.order]
            result = pgconn.exec_prepared(self.name, params)
            if result.status == pq.ExecStatus.TUPLES_OK:
                break
            if attempt == 1 and _sqlstate(result) == _GONE:
                del prepared[self.name]  # e.g. DEALLOCATE ALL: prepare it again
                continue
            raise _error(result, pgconn)
        if result.ntuples == 0:
            return None
        return tuple(None if (value := result.get_value(0, column)) is None else load(value)
                     for column, load in enumerate(loaders))

    def _prepare(self, connection: psycopg.Connection[Any]) -> tuple[list[Loader], str]:
        pgconn = connection.pgconn
        result = pgconn.prepare(self.name, self.sql, None)
        if result.status != pq.ExecStatus.COMMAND_OK and _sqlstate(result) != _THERE:
            raise _error(result, pgconn)
        described = pgconn.describe_prepared(self.name)
        if described.status != pq.ExecStatus.COMMAND_OK:
            raise _error(described, pgconn)
        encoding = connection.info.encoding
        loaders: list[Loader] = []
        for column in range(described.nfields):
            oid = described.ftype(column)
            if oid in INTEGERS:
                loaders.append(int)
            elif oid in TEXTS:
                loaders.append(partial(str, encoding=encoding))
            else:
                name = (described.fname(column) or b"?").decode(errors="replace")
                raise TypeError(f"a direct read selects only text and integers; "
                                f"column {name!r} has the PostgreSQL type oid {oid}")
        return loaders, encoding


def _text(name: str, value: Any, encoding: str) -> bytes | None:
    """A parameter in PostgreSQL's text format."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:  # libpq would cut the value short at the NUL
            raise psycopg.DataError(
                f"parameter {name!r}: PostgreSQL text cannot contain NUL (0x00) bytes")
        return value.encode(encoding)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode()
    raise TypeError(f"a direct read binds only text and integers; "
                    f"{name!r} is {type(value).__name__}")


def _sqlstate(result: pq.abc.PGresult) -> bytes | None:
    return result.error_field(pq.DiagnosticField.SQLSTATE)


def _error(result: pq.abc.PGresult, pgconn: pq.abc.PGconn) -> psycopg.Error:
    """psycopg's exception for a failed call: its SQLSTATE's class, or
    ``OperationalError`` when the server gave none (the connection is lost)."""
    message = (result.error_message or pgconn.error_message).decode(errors="replace").strip()
    sqlstate = _sqlstate(result)
    if sqlstate is None:
        return psycopg.OperationalError(message or "the connection to the server was lost")
    try:
        return errors.lookup(sqlstate.decode())(message)
    except KeyError:
        return psycopg.DatabaseError(message)
