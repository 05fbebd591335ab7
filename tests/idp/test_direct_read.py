"""DirectRead and ReadConnections: a Core statement run with the driver on a
connection its thread keeps, in autocommit, on SQLite and PostgreSQL. At most
``limit`` threads keep one; a connection goes back to the pool in transactions when
it fails, when its thread has ended, when it was idle (and is pinged when taken
again) and on close."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, bindparam, create_engine, func, select, text
from sqlalchemy.orm import Session

from idp.db import make_engine
from idp.direct_read import DirectRead, ReadConnections
from idp.models import Library
from idp.schemas import LibraryIn
from idp.services import libraries
from idp.services.actor import Actor
from tests.idp.conftest import Clock


def _add(engine: Engine, code: str, *, keep: bool = True) -> None:
    with Session(engine) as session:
        libraries.add_library(session, LibraryIn(code=code, name=f"{code} Library"),
                              actor=Actor.cli(), now=Clock()())
        session.flush()
        if keep:
            session.commit()


def _terminate(postgres_url: str, pid: int) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


def test_reads_the_first_row_with_the_statement_s_own_values(engine):
    _add(engine, "EAST")
    _add(engine, "WEST")
    reads = ReadConnections(engine, limit=1)
    # The literal 0 is bound by the statement itself; only ``code`` is given.
    read = DirectRead(reads, select(Library.id, Library.code).where(
        Library.code == bindparam("code"), Library.id > 0))
    east = read.first(code="EAST")
    assert east is not None and east[1] == "EAST" and isinstance(east[0], int)
    west = read.first(code="WEST")
    assert west is not None and west[1] == "WEST" and west[0] != east[0]
    assert read.first(code="NORTH") is None
    reads.close()


def test_a_thread_keeps_its_connection_while_sessions_use_others(engine):
    reads = ReadConnections(engine, limit=1)
    read = DirectRead(reads, select(func.count()).select_from(Library))
    assert read.first() == (0,)
    assert engine.pool.checkedout() == 1 and reads.count() == 1  # kept between reads
    _add(engine, "GONE", keep=False)  # on another connection, rolled back
    assert read.first() == (0,)
    _add(engine, "KEPT")
    assert read.first() == (1,)
    assert engine.pool.checkedout() == 1
    reads.close()
    assert engine.pool.checkedout() == 0
    assert read.first() == (1,)  # closed: reads go on, each on a connection checked out
    assert engine.pool.checkedout() == 0 and reads.count() == 0


def test_a_connection_goes_back_to_the_pool_in_transactions(database_url):
    engine = make_engine(database_url, pool_size=1)  # one connection in the pool
    reads = ReadConnections(engine, limit=1)
    read = DirectRead(reads, select(func.count()).select_from(Library))
    assert read.first() == (0,)
    reads.close()
    _add(engine, "GONE", keep=False)  # on the read's connection, rolled back
    assert read.first() == (0,)  # autocommit would have kept the row
    engine.dispose()


def test_only_limit_threads_keep_a_connection(engine):
    _add(engine, "EAST")
    reads = ReadConnections(engine, limit=1)
    read = DirectRead(reads, select(Library.code).where(Library.code == bindparam("code")))
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        assert read.first(code="EAST") == ("EAST",)
        holding.set()
        release.wait(30)

    keeper = threading.Thread(target=hold)
    keeper.start()
    try:
        assert holding.wait(30)
        assert read.first(code="EAST") == ("EAST",)  # read on a connection of its own
        assert engine.pool.checkedout() == 1 and reads.count() == 1
    finally:
        release.set()
        keeper.join()
    # The keeper has ended: its connection goes back, and this thread gets its place.
    assert read.first(code="EAST") == ("EAST",)
    assert engine.pool.checkedout() == 1 and reads.count() == 1
    assert reads.held() is not None
    reads.close()
    assert engine.pool.checkedout() == 0


def test_no_connection_is_kept_with_a_limit_of_zero(engine):
    reads = ReadConnections(engine, limit=0)
    read = DirectRead(reads, select(func.count()).select_from(Library))
    assert read.first() == (0,)
    assert engine.pool.checkedout() == 0 and reads.count() == 0


def test_many_threads_read_at_once_and_every_connection_comes_back(engine):
    for code in ("EAST", "WEST", "NORTH"):
        _add(engine, code)
    reads = ReadConnections(engine, limit=2)
    read = DirectRead(reads, select(Library.code).where(Library.code == bindparam("code")))
    start, wrong = threading.Barrier(6), []

    def work(index: int) -> None:
        start.wait(30)
        for n in range(30):
            code = ("EAST", "WEST", "NORTH", "SOUTH")[(index + n) % 4]
            found = read.first(code=code)
            if found != (None if code == "SOUTH" else (code,)):
                wrong.append((code, found))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and reads.count() <= 2
    reads.close()
    assert engine.pool.checkedout() == 0


def test_a_connection_found_broken_is_given_back_and_replaced(postgres_url):
    engine = make_engine(postgres_url, pool_size=2)
    reads = ReadConnections(engine, limit=1)
    read = DirectRead(reads, select(func.pg_backend_pid()))
    first = read.first()
    assert first is not None
    _terminate(postgres_url, first[0])
    with pytest.raises(engine.dialect.loaded_dbapi.OperationalError):
        read.first()  # used a moment ago, so not pinged: the broken connection is found
    assert engine.pool.checkedout() == 0 and reads.count() == 0
    again = read.first()
    assert again is not None and again[0] != first[0]
    reads.close()
    engine.dispose()


def test_an_idle_connection_is_pinged_before_it_serves_again(postgres_url):
    engine = make_engine(postgres_url, pool_size=1)
    reads = ReadConnections(engine, limit=1, idle_seconds=0.0)  # always idle
    read = DirectRead(reads, select(func.pg_backend_pid()))
    first = read.first()
    assert first is not None
    _terminate(postgres_url, first[0])
    again = read.first()  # the ping found it broken: the read went to a new one
    assert again is not None and again[0] != first[0]
    assert engine.pool.checkedout() == 1
    reads.close()
    engine.dispose()
