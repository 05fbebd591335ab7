"""among(): ``column IN (keys)``, one array parameter on PostgreSQL (sent in binary),
finds exactly the rows whose value is among the keys, whatever characters they hold."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session

from idp.db import among, make_engine

# PostgreSQL text cannot hold NUL; everything else may appear in a key.
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
               max_size=12)
AWKWARD = ["", "a", "b,c", 'q"x', "{}", "{a,b}", "back\\slash", "NULL", " pad ", "中文", "é"]


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    with Session(engine) as opened:
        yield opened
    engine.dispose()


def _found(session: Session, rows: list, kind: type, keys: list) -> list:
    table = Table("among_rows", MetaData(), Column("v", kind()), prefixes=["TEMPORARY"])
    table.create(session.connection())
    try:
        session.execute(insert(table), [{"v": row} for row in rows])
        return sorted(session.scalars(select(table.c.v).where(among(session, table.c.v, keys))))
    finally:
        session.rollback()
        table.drop(session.connection(), checkfirst=True)
        session.commit()


def test_awkward_text_keys(session):
    assert _found(session, [*AWKWARD, "other"], String, AWKWARD) == sorted(AWKWARD)
    assert _found(session, AWKWARD, String, ["b", "c", "{a", "NULL "]) == []
    assert _found(session, AWKWARD, String, []) == []


def test_integer_keys_of_every_size(session):
    rows = [1, 2, 40_000, 3_000_000_000, -(2**62)]
    assert _found(session, rows, BigInteger, [2, 3_000_000_000, -(2**62), 7]) == sorted(
        [2, 3_000_000_000, -(2**62)])


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(TEXT, min_size=1, max_size=20, unique=True),
       extra=st.lists(TEXT, max_size=20))
def test_finds_exactly_the_rows_among_the_keys(session, rows, extra):
    keys = rows[::2] + extra
    assert _found(session, rows, String, keys) == sorted(set(rows) & set(keys))
