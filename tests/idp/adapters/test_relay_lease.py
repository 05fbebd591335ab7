"""Two relays on one library: the lease lets one work at a time, so a reader's
items keep their order and nothing is delivered twice; a dead relay's lease
expires."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from adapters import LibraryAdapter, PatronStore, mapping_from_dict
from adapters.memory import MemoryPatronStore
from adapters.values import LocalPatron, PatronPatch
from idp.context import Context
from idp.models import LibraryAdapterConfig, OutboxItem
from idp.relay.policy import RelayPolicy
from idp.relay.run import LibraryRun, run_once

from .conftest import MAPPING, RegisterFn, library
from .test_relay import change, patron_of

POLICY = RelayPolicy(lease=timedelta(minutes=2))
WAIT = 3  # seconds: a deadlock fails the test instead of hanging it


class Watched:
    """The library's store, recording how many relay calls are in it at once and
    the order of the names it is given; ``on_update`` runs inside an update."""

    def __init__(self, store: PatronStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.inside = self.most_inside = 0
        self.names: dict[str, list[str]] = {}
        self.on_update: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def watched(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.inside += 1
                self.most_inside = max(self.most_inside, self.inside)
            try:
                return attribute(*args, **kwargs)
            finally:
                with self._lock:
                    self.inside -= 1

        return watched

    def update(self, local_id: str, patch: PatronPatch, expected_version: str) -> LocalPatron:
        hook, self.on_update = self.on_update, None
        if hook is not None:
            hook()
        patron: LocalPatron = self._store.update(local_id, patch, expected_version)
        if patch.first_name is not None:
            self.names.setdefault(local_id, []).append(patch.first_name)
        return patron


def relay(ctx: Context, batch_size: int = 500) -> LibraryRun:
    [result] = run_once(ctx, library="CITY", policy=POLICY, rng=random.Random(2),
                        batch_size=batch_size)
    return result


def pending(ctx: Context) -> int:
    with ctx.transaction() as session:
        return len(session.scalars(select(OutboxItem.id).where(
            OutboxItem.state == "pending")).all())


@pytest.fixture
def watched(ctx: Context, city: str, store: MemoryPatronStore) -> Watched:
    wrapper = Watched(store)
    ctx.adapters.install("CITY", LibraryAdapter(wrapper, mapping_from_dict(MAPPING)))
    return wrapper


def test_a_second_relay_leaves_a_library_being_worked(ctx, watched, store,
                                                      register: RegisterFn):
    reader = register(home_library="CITY")
    relay(ctx)
    change(ctx, reader, given_name="一")
    others = [register(home_library="CITY") for _ in range(3)]
    inside, go_on = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        assert go_on.wait(WAIT)

    watched.on_update = hold
    results: list[LibraryRun] = []
    first = threading.Thread(target=lambda: results.append(relay(ctx)))
    first.start()
    try:
        assert inside.wait(WAIT)  # the first relay is in the middle of a delivery
        second = relay(ctx)
    finally:
        go_on.set()
        first.join(WAIT)
    assert (second.stopped, second.delivered) == ("leased", 0)
    assert (results[0].delivered, results[0].stopped) == (4, None)
    assert all(patron_of(store, r) is not None for r in others)
    assert relay(ctx).stopped is None  # released at the end of the pass


def test_a_dead_relays_lease_expires(ctx, clock, watched, register: RegisterFn):
    register(home_library="CITY")
    with ctx.transaction() as session:
        session.execute(update(LibraryAdapterConfig)
                        .where(LibraryAdapterConfig.library_id == library(session, "CITY").id)
                        .values(lease_owner="relay-gone", lease_until=clock() + POLICY.lease))
    assert relay(ctx).stopped == "leased"
    clock.advance(minutes=2)
    assert relay(ctx).delivered == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_relays_in_threads_keep_order_and_deliver_once(ctx, clock, watched, store,
                                                           register: RegisterFn):
    readers = [register(home_library="CITY") for _ in range(6)]
    relay(ctx)
    for round_ in range(4):
        for reader in readers:
            change(ctx, reader, given_name=f"名{round_}")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(WAIT)
            for _ in range(200):
                if not pending(ctx):
                    return
                relay(ctx, batch_size=3)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not errors and pending(ctx) == 0
    assert watched.most_inside == 1  # never two relays in the library at once
    for reader in readers:
        patron = patron_of(store, reader)
        assert patron is not None and patron.first_name == "名3"
        sent = watched.names.get(patron.local_id, [])
        assert sent == sorted(sent) and len(sent) == len(set(sent))  # in order, once each
    assert store.health().detail.startswith("6 patrons")
