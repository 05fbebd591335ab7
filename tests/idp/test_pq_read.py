"""DirectRead on PostgreSQL through psycopg runs its statement as one libpq prepared
once per connection (idp.pq_read): values come back as psycopg's cursor gives them,
anything but text and integers is refused, and server errors, a deallocated
statement and NUL characters are handled as the cursor would."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Engine, String, bindparam, func, literal, select, true

from idp.db import make_engine
from idp.direct_read import DirectRead, ReadConnections

TEXT = bindparam("text", type_=String)
NUMBER = bindparam("number", type_=BigInteger)


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def reads(engine: Engine) -> Iterator[ReadConnections]:
    reads = ReadConnections(engine, limit=1)
    yield reads
    reads.close()
    assert engine.pool.checkedout() == 0


def _through_sqlalchemy(engine: Engine, statement, **values):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        row = connection.execute(statement, values).first()
    return None if row is None else tuple(row)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_characters="\x00"))),
       number=st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1)))
def test_values_come_back_as_the_cursor_gives_them(engine, reads, text, number):
    statement = select(TEXT, NUMBER, func.length(TEXT), literal("固定"))
    read = DirectRead(reads, statement)
    row = read.first(text=text, number=number)
    assert row == _through_sqlalchemy(engine, statement, text=text, number=number)
    assert row is not None and row[0] == text and row[1] == number


def test_no_row_and_the_statement_s_own_values(engine, reads):
    read = DirectRead(reads, select(NUMBER, literal("bound")).where(literal(0) < NUMBER))
    assert read.first(number=2) == (2, "bound")
    assert read.first(number=0) is None


def test_other_types_are_refused(reads):
    with pytest.raises(TypeError, match=r"selects only text and integers.*'flag'"):
        DirectRead(reads, select(true().label("flag"))).first()
    read = DirectRead(reads, select(NUMBER))
    for value in (True, 1.5, b"7"):
        with pytest.raises(TypeError, match="binds only text and integers"):
            read.first(number=value)
    assert read.first(number=7) == (7,)  # the connection is still good


def test_a_nul_is_refused_not_cut_short(reads):
    read = DirectRead(reads, select(TEXT))
    with pytest.raises(psycopg.DataError, match="NUL"):
        read.first(text="ABC\x00XYZ")
    assert read.first(text="ABC") == ("ABC",)


def test_a_server_error_is_psycopg_s_and_the_connection_serves_on(reads):
    read = DirectRead(reads, select(literal(10).op("/")(NUMBER)))
    with pytest.raises(psycopg.errors.DivisionByZero, match="division by zero"):
        read.first(number=0)
    assert read.first(number=5) == (2,)


def test_a_statement_deallocated_on_the_server_is_prepared_again(reads):
    read = DirectRead(reads, select(TEXT))
    assert read.first(text="one") == ("one",)
    held = reads.held()
    assert held is not None
    connection = held.pooled.dbapi_connection
    assert isinstance(connection, psycopg.Connection)
    connection.execute("DEALLOCATE ALL")
    assert read.first(text="two") == ("two",)
