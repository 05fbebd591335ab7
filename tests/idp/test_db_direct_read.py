"""DirectRead: a Core statement run on a pooled driver connection in autocommit, on
SQLite and PostgreSQL; the connection goes back to the pool as it was, and one
found broken is discarded."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, bindparam, create_engine, func, select, text
from sqlalchemy.orm import Session

from idp.db import DirectRead, make_engine
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


def test_reads_the_first_row_with_the_statement_s_own_values(database_url):
    engine = make_engine(database_url)
    _add(engine, "EAST")
    _add(engine, "WEST")
    # The literal 0 is bound by the statement itself; only ``code`` is given.
    read = DirectRead(engine, select(Library.id, Library.code).where(
        Library.code == bindparam("code"), Library.id > 0))
    east = read.first(code="EAST")
    assert east is not None and east[1] == "EAST" and isinstance(east[0], int)
    west = read.first(code="WEST")
    assert west is not None and west[1] == "WEST" and west[0] != east[0]
    assert read.first(code="NORTH") is None
    engine.dispose()


def test_the_connection_returns_to_the_pool_in_transactions_again(database_url):
    engine = make_engine(database_url, pool_size=1)
    read = DirectRead(engine, select(func.count()).select_from(Library))
    assert read.first() == (0,)
    _add(engine, "GONE", keep=False)  # on the same pooled connection, rolled back
    assert read.first() == (0,)  # autocommit would have kept the row
    engine.dispose()


def test_a_connection_found_broken_is_discarded(postgres_url):
    engine = make_engine(postgres_url, pool_size=1)
    read = DirectRead(engine, select(func.pg_backend_pid()))
    first = read.first()
    assert first is not None
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first[0]})
    admin.dispose()
    with pytest.raises(engine.dialect.loaded_dbapi.OperationalError):
        read.first()  # used a moment ago, so not pinged: the broken connection is found
    again = read.first()
    assert again is not None and again[0] != first[0]
    engine.dispose()
