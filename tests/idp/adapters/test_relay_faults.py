"""The relay against a library database that really goes down: a private
PostgreSQL with an Evergreen-shaped schema, stopped in the middle of a relay run
and started again. Deliveries wait with backoff, the breaker opens, and after
the restart every change lands exactly once; a record the library rejects is a
dead letter with its reason while the rest keep flowing."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from adapters import LibraryAdapter, PatronStore
from adapters.values import CreateRequest, LocalPatron
from idp.context import Context
from idp.models import LibraryAdapterConfig, OutboxItem, Reader
from idp.relay.policy import RelayPolicy
from idp.relay.run import LibraryRun, run_once
from idp.services.actor import Actor
from idp.services.library_adapters import set_adapter
from tests.adapters.evergreen_seed import (
    BACKLINK_IDENT_TYPE,
    DEFAULT_IDENT_TYPE,
    PROVINCE_PENALTY,
    seed_evergreen,
)
from tests.adapters.private_pg import PrivatePostgres, private_postgres

from .conftest import RegisterFn, library
from .test_relay import change

POLICY = RelayPolicy(base_delay=timedelta(seconds=10), breaker_threshold=3,
                     breaker_cooldown=timedelta(minutes=5), max_attempts=6)


class StopsAfterCreates:
    """The library's store, with the server stopped right after the n-th patron is
    created: the create is committed there, the relay never hears back."""

    def __init__(self, store: PatronStore, creates: int, stop: Callable[[], None]) -> None:
        self._store, self._left, self._stop = store, creates, stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def create(self, request: CreateRequest, idempotency_key: str) -> LocalPatron:
        patron = self._store.create(request, idempotency_key)
        self._left -= 1
        if self._left == 0:
            self._stop()
        return patron


@pytest.fixture
def evergreen(ctx: Context) -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield _configure(ctx, server)


def _configure(ctx: Context, private_postgres: PrivatePostgres) -> PrivatePostgres:
    engine = create_engine(private_postgres.url)
    with engine.begin() as conn:
        seed_evergreen(conn, ["MAIN"], ["ADULT"])
    engine.dispose()
    table = {
        "backend": "evergreen_sql",
        "url": private_postgres.url.render_as_string(hide_password=False),
        "backlink_ident_type": BACKLINK_IDENT_TYPE, "default_ident_type": DEFAULT_IDENT_TYPE,
        "province_penalty": PROVINCE_PENALTY, "connect_timeout": 2,
        "mapping": {
            # FAMILY is mapped here but the library has no such profile: it rejects it.
            "categories": {"adult": "ADULT", "family": "FAMILY"},
            "default_branch": "MAIN", "expiry": {"policy": "same_as_province"},
            "backlink_field": "ident_value2",
        },
    }
    with ctx.transaction() as session:
        set_adapter(session, library(session, "CITY"), table, actor=Actor.cli(), now=ctx.now())
    return private_postgres


def relay(ctx: Context) -> LibraryRun:
    [result] = run_once(ctx, library="CITY", policy=POLICY, rng=random.Random(5))
    return result


def outbox(ctx: Context) -> dict[str, list[OutboxItem]]:
    with ctx.transaction() as session:
        found: dict[str, list[OutboxItem]] = {}
        for item in session.scalars(select(OutboxItem).order_by(OutboxItem.id)):
            found.setdefault(item.reader_id, []).append(item)
        return found


def patrons(server: PrivatePostgres) -> list[tuple[str, str, str, str, int]]:
    """Every live patron: back-link, names, barcode, and how many create keys it has."""
    engine = create_engine(server.url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT u.ident_value2, u.family_name, u.first_given_name, c.barcode, "
            "(SELECT count(*) FROM actor.usr_setting s WHERE s.usr = u.id) "
            "FROM actor.usr u JOIN actor.card c ON c.id = u.card WHERE NOT u.deleted "
            "ORDER BY u.id")).all()
    engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def expected(ctx: Context, readers: list[Reader]) -> list[tuple[str, str, str, str, int]]:
    with ctx.transaction() as session:
        fresh = [session.get(Reader, r.id) for r in readers]
        return [(r.id, r.family_name, r.given_name, r.card_number, 1) for r in fresh if r]


def breaker(ctx: Context) -> Any:
    with ctx.transaction() as session:
        switches = session.get(LibraryAdapterConfig, library(session, "CITY").id)
        assert switches is not None
        return switches.breaker_open_until


def test_library_database_stops_mid_run_and_comes_back(ctx, clock, evergreen,
                                                       register: RegisterFn):
    first, second = register(home_library="CITY"), register(home_library="CITY")
    rejected = register(home_library="CITY", category="family")
    third, fourth, fifth, sixth = (register(home_library="CITY") for _ in range(4))
    with ctx.transaction() as session:
        adapter = ctx.adapters.get(session, library(session, "CITY"))
    ctx.adapters.install("CITY", LibraryAdapter(
        StopsAfterCreates(adapter.store, 3, evergreen.stop), adapter.mapping))

    run = relay(ctx)  # the server stops just after creating the third reader's patron
    assert (run.delivered, run.dead, run.retrying, run.stopped) == (2, 1, 3, "breaker_open")
    queue = outbox(ctx)
    [dead] = queue[rejected.id]
    assert dead.state == "dead"
    assert dead.last_error == "rejected: category: no category 'FAMILY' in this library"
    for reader in (third, fourth, fifth):
        [item] = queue[reader.id]
        assert (item.state, item.attempts) == ("pending", 1)
        assert "unreachable" in (item.last_error or "")
        assert timedelta(seconds=5) <= item.next_attempt_at - clock() <= timedelta(seconds=10)
    assert (queue[sixth.id][0].state, queue[sixth.id][0].attempts) == ("pending", 0)
    assert breaker(ctx) == clock() + POLICY.breaker_cooldown

    clock.advance(seconds=30)  # past the backoff, not past the breaker
    assert relay(ctx).stopped == "breaker_open"
    assert [i.attempts for i in outbox(ctx)[third.id]] == [1]

    evergreen.start()
    clock.advance(minutes=5)
    run = relay(ctx)
    assert (run.delivered, run.retrying, run.dead, run.stopped) == (4, 0, 0, None)
    assert all(i.state == "done" for r in (third, fourth, fifth, sixth)
               for i in outbox(ctx)[r.id])
    # One patron per reader, the third's created once although its create was
    # answered by a dead server; the rejected reader has none.
    assert patrons(evergreen) == expected(ctx, [first, second, third, fourth, fifth, sixth])
    assert relay(ctx).delivered == 0

    # Between two passes: changes queue, the server goes, the changes wait.
    change(ctx, first, family_name="欧阳")
    change(ctx, third, given_name="复")
    evergreen.stop()
    run = relay(ctx)
    assert (run.delivered, run.retrying, run.stopped) == (0, 2, None)
    evergreen.start()
    assert relay(ctx).waiting == 2  # still inside the backoff: nothing is sent early
    clock.advance(seconds=11)
    assert relay(ctx).delivered == 2
    assert patrons(evergreen) == expected(ctx, [first, second, third, fourth, fifth, sixth])
    assert {i.state for items in outbox(ctx).values() for i in items} == {"done", "dead"}
