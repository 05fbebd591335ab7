"""The pool's ping of idle connections, against the real servers: a connection
idle past the limit is checked (and replaced when its server side is gone); one
just returned to the pool is used as it is, and a dead one fails once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, exc, text
from sqlalchemy.pool import NullPool

from adapters.sqltools import ping_when_idle


@pytest.fixture(params=["postgres", "mariadb"])
def url(request: pytest.FixtureRequest) -> str:
    found: str = request.getfixturevalue(f"{request.param}_url")
    return found


def session_id(conn: Connection) -> int:
    query = "SELECT pg_backend_pid()" if conn.dialect.name == "postgresql" else \
        "SELECT CONNECTION_ID()"
    return int(conn.execute(text(query)).scalar_one())


def end_session(url: str, ident: int) -> None:
    """End a server session from another connection, as a server restart would."""
    admin = create_engine(url, poolclass=NullPool)
    with admin.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": ident})
        else:
            conn.execute(text(f"KILL {int(ident)}"))
        conn.commit()
    admin.dispose()


@pytest.fixture
def stale_pool(url: str) -> Iterator[Callable[[float], tuple[Engine, int]]]:
    """Makes a one-connection pool pinging after ``after`` seconds idle whose pooled
    connection's server session was then ended; gives the engine and that session."""
    made: list[Engine] = []

    def make(after: float) -> tuple[Engine, int]:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        ping_when_idle(engine, after=after)
        made.append(engine)
        with engine.connect() as conn:
            first = session_id(conn)
        end_session(url, first)
        return engine, first

    yield make
    for engine in made:
        engine.dispose()


def test_a_connection_idle_past_the_limit_is_pinged_and_replaced(
        stale_pool: Callable[[float], tuple[Engine, int]]):
    engine, first = stale_pool(0.0)
    with engine.connect() as conn:  # the ping found it dead: a new connection
        assert session_id(conn) != first


def test_a_connection_just_returned_is_used_without_a_ping(
        stale_pool: Callable[[float], tuple[Engine, int]]):
    engine, first = stale_pool(3600.0)
    with pytest.raises(exc.DBAPIError) as failed, engine.connect() as conn:
        session_id(conn)
    assert failed.value.connection_invalidated
    with engine.connect() as conn:
        assert session_id(conn) != first
