"""The relay: outbox rows written with the change, convergent idempotent delivery,
backoff, per-library breaker, dead letters, order per reader, offline switch."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from adapters.memory import MemoryPatronStore
from adapters.values import PatronMatch
from idp.context import Context
from idp.models import OutboxItem, Reader
from idp.relay import operators
from idp.relay.policy import RelayPolicy
from idp.relay.run import run_once
from idp.schemas import ReaderUpdateIn, StatusChangeIn
from idp.services import readers
from idp.services.actor import Actor
from idp.services.library_adapters import set_offline

from .conftest import RegisterFn, library

POLICY = RelayPolicy(base_delay=timedelta(seconds=10), breaker_threshold=3,
                     breaker_cooldown=timedelta(minutes=5), max_attempts=4)


def relay(ctx: Context):
    [result] = run_once(ctx, library="CITY", policy=POLICY, rng=random.Random(1))
    return result


def items(ctx: Context, reader: Reader | None = None) -> list[OutboxItem]:
    with ctx.transaction() as session:
        query = select(OutboxItem).order_by(OutboxItem.id)
        if reader is not None:
            query = query.where(OutboxItem.reader_id == reader.id)
        return list(session.scalars(query))


def patron_of(store: MemoryPatronStore, reader: Reader):
    return store.find(PatronMatch(reader_id=reader.id))


def change(ctx: Context, reader: Reader, **fields: str) -> None:
    with ctx.transaction() as session:
        fresh = session.get(Reader, reader.id)
        if "status" in fields:
            readers.change_status(session, ctx, fresh, StatusChangeIn(**fields),
                                  actor=Actor.cli())
        else:
            readers.update_reader(session, ctx, fresh, ReaderUpdateIn(**fields),
                                  actor=Actor.cli())


def test_changes_reach_the_home_library_once(ctx, city, store, register: RegisterFn):
    elsewhere = register()  # home PROV has no adapter: nothing queued
    reader = register(home_library="CITY")
    assert [i.event for i in items(ctx)] == ["reader.register"]
    assert relay(ctx).delivered == 1 and items(ctx)[0].state == "done"
    patron = patron_of(store, reader)
    assert patron is not None and patron.barcode == reader.card_number
    assert relay(ctx).delivered == 0 and patron_of(store, elsewhere) is None
    change(ctx, reader, family_name="欧阳")
    change(ctx, reader, mobile="13912345678")  # stays in the province
    change(ctx, reader, status="suspended", reason="identity check")
    assert [i.event for i in items(ctx, reader)][1:] == ["reader.update", "reader.status"]
    store.set_local_block(patron.local_id, True)
    assert relay(ctx).delivered == 1  # one delivery covers both items
    after = store.get(patron.local_id)
    assert after is not None and after.surname == "欧阳" and after.blocked_by_province
    change(ctx, reader, status="active")
    relay(ctx)
    after = store.get(patron.local_id)
    assert after is not None and not after.blocked_by_province and after.blocked_locally
    version = after.version
    change(ctx, reader, status="lost_reported")
    relay(ctx)  # nothing differs: the patron is not touched
    assert store.get(patron.local_id).version == version  # type: ignore[union-attr]


def test_unavailable_backs_off_and_breaker_opens(ctx, clock, city, store, register):
    people = [register(home_library="CITY") for _ in range(4)]
    store.faults.go_down()
    first = relay(ctx)
    assert (first.retrying, first.stopped) == (3, "breaker_open")
    queued = items(ctx)
    assert [i.attempts for i in queued] == [1, 1, 1, 0]  # the 4th was never tried
    for item in queued[:3]:
        delay = item.next_attempt_at - clock()
        assert timedelta(seconds=5) <= delay <= timedelta(seconds=10)
    assert relay(ctx).stopped == "breaker_open"
    clock.advance(minutes=5, seconds=1)
    probe = relay(ctx)  # half open: one failure opens it again
    assert (probe.retrying, probe.stopped) == (1, "breaker_open")
    store.faults.come_up()
    clock.advance(minutes=10)
    done = relay(ctx)
    assert (done.delivered, done.stopped) == (4, None)
    assert all(patron_of(store, r) is not None for r in people)
    assert store.health().detail.startswith("4 patrons")


def test_lost_reply_retry_never_creates_a_second_patron(ctx, clock, city, store, register):
    reader = register(home_library="CITY")
    store.faults.lose_next_reply()
    assert relay(ctx).retrying == 1
    clock.advance(minutes=1)
    assert relay(ctx).delivered == 1
    assert store.health().detail.startswith("1 patrons")
    assert patron_of(store, reader) is not None


def test_permanent_error_dead_letters_one_item_and_the_rest_flow(ctx, city, store, register):
    family = register(home_library="CITY", category="family")  # CITY maps no family category
    other = register(home_library="CITY")
    result = relay(ctx)
    assert (result.delivered, result.dead) == (1, 1)
    dead = items(ctx, family)[0]
    assert dead.state == "dead" and "no local category" in (dead.last_error or "")
    assert patron_of(store, other) is not None
    with ctx.transaction() as session:
        assert operators.retry(session, [dead.id], library=None, all_dead=False,
                               actor=Actor.cli(), now=ctx.now()) == 1
    assert items(ctx, family)[0].state == "pending"
    assert relay(ctx).dead == 1


def test_later_item_waits_behind_an_earlier_failed_one(ctx, clock, city, store, register):
    slow = register(home_library="CITY")
    relay(ctx)
    change(ctx, slow, given_name="一")
    store.faults.lose_next_reply()  # the update lands but the relay cannot know
    assert relay(ctx).retrying == 1
    change(ctx, slow, given_name="二")
    fast = register(home_library="CITY")
    second = relay(ctx)
    assert (second.delivered, second.waiting) == (1, 2)
    assert patron_of(store, fast) is not None
    assert patron_of(store, slow).first_name == "一"  # type: ignore[union-attr]
    clock.advance(minutes=1)
    assert relay(ctx).delivered == 1
    assert patron_of(store, slow).first_name == "二"  # type: ignore[union-attr]
    assert {i.state for i in items(ctx, slow)} == {"done"}


def test_offline_library_queues_until_online(ctx, city, store, register):
    reader = register(home_library="CITY")
    with ctx.transaction() as session:
        set_offline(session, library(session, "CITY"), True, actor=Actor.cli(), now=ctx.now(),
                    reason="ILS upgrade")
    assert relay(ctx).stopped == "offline" and patron_of(store, reader) is None
    with ctx.transaction() as session:
        set_offline(session, library(session, "CITY"), False, actor=Actor.cli(),
                    now=ctx.now())
    assert relay(ctx).delivered == 1 and patron_of(store, reader) is not None


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RelayPolicy(base_delay=timedelta(seconds=30), max_delay=timedelta(hours=1))
    rng = random.Random(3)
    delays = [policy.backoff(n, rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(timedelta(hours=1), timedelta(seconds=30) * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({d.total_seconds() for d in delays}) == len(delays)
