"""Purging delivered outbox items: only delivered ones, only older than asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.errors import InvalidInput
from idp.models import AuditEvent
from idp.relay import operators
from idp.services.actor import Actor

from .conftest import RegisterFn, library
from .test_relay import items, relay


def purge(ctx, days: int, code: str | None = None) -> int:
    with ctx.transaction() as session:
        lib = library(session, code) if code else None
        return operators.purge(session, older_than=timedelta(days=days), library=lib,
                               actor=Actor.cli(), now=ctx.now())


def test_purge_keeps_pending_dead_and_recent_items(ctx, clock, city, store,
                                                   register: RegisterFn):
    old = register(home_library="CITY")
    register(home_library="CITY", category="family")  # dead: no local category
    relay(ctx)
    clock.advance(days=10)
    recent = register(home_library="CITY")
    relay(ctx)
    store.faults.go_down()
    register(home_library="CITY")  # pending: the library is down
    relay(ctx)
    clock.advance(days=1)
    assert purge(ctx, 30) == 0
    assert purge(ctx, 10, "PROV") == 0  # another library's items
    assert purge(ctx, 10, "CITY") == 1
    left = items(ctx)
    assert old.id not in {i.reader_id for i in left}
    assert sorted(i.state for i in left) == ["dead", "done", "pending"]
    assert recent.id in {i.reader_id for i in left if i.state == "done"}
    with ctx.transaction() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "outbox.purge").order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.details["removed"] == 1
    with pytest.raises(InvalidInput):
        purge(ctx, 0)
