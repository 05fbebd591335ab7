"""An import batch's look-ups on PostgreSQL are index probes, whatever the tables' size."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from idp.context import Context
from idp.importer.lookups import lookup_statement, probes_only
from idp.services.libraries import get_library
from idp.services.numbers import new_card_numbers

from .conftest import RegisterFn


def _plan(session: Session, library_id: int) -> str:
    """The EXPLAIN of a thousand-row batch's look-up statement."""
    keys = [f"{n:064x}" for n in range(1000)]
    statement = lookup_statement(
        session, library_id, local_ids=[str(n) for n in range(1000)],
        barcodes=[f"B{n}" for n in range(1000)], row_keys=keys, hashes=keys,
        backlinks=[f"01J{n:023d}" for n in range(1000)],
        card_numbers=new_card_numbers(1000), serials=[f"{n:016d}" for n in range(1000)])
    compiled = statement.compile(dialect=session.get_bind().dialect)
    params: dict[str, Any] = dict(compiled.params)
    rows = session.connection().exec_driver_sql("EXPLAIN " + str(compiled), params)
    return "\n".join(line for (line,) in rows)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_lookups_probe_indexes_where_the_planner_would_scan(
        ctx: Context, register: RegisterFn):
    for _ in range(3):  # small tables: reading them whole is what PostgreSQL prefers
        register()
    with ctx.sessions() as session:
        library_id = get_library(session, "CITY").id
        unguided = _plan(session, library_id)
        probes_only(session)
        guided = _plan(session, library_id)
        session.rollback()
    assert "Seq Scan" in unguided  # the situation the setting is for
    assert "Seq Scan" not in guided, guided
    assert "Gather" not in guided, guided
    with ctx.sessions() as session:  # the settings end with the transaction
        assert "Seq Scan" in _plan(session, library_id)
