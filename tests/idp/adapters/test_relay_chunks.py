"""The relay records deliveries in chunks (several items per transaction): every
item is delivered in order across chunk boundaries, and an unexpected error rolls
back only the records of its chunk, whose items the next pass delivers again
without a second patron."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from idp.models import OutboxItem
from idp.relay import run as relay_run
from idp.relay.run import run_once

from .conftest import RegisterFn
from .test_relay import POLICY, patron_of


def states(ctx) -> list[str]:
    with ctx.transaction() as session:
        return list(session.scalars(select(OutboxItem.state).order_by(OutboxItem.id)))


def test_items_spread_over_several_chunks_all_arrive_once(ctx, city, store, register: RegisterFn,
                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(relay_run, "CHUNK", 2)
    people = [register(home_library="CITY") for _ in range(5)]
    [result] = run_once(ctx, library="CITY", policy=POLICY, rng=random.Random(1))
    assert (result.delivered, result.stopped) == (5, None)
    assert states(ctx) == ["done"] * 5
    assert all(patron_of(store, r) is not None for r in people)
    assert store.health().detail.startswith("5 patrons")


def test_an_unexpected_error_rolls_back_its_chunk_only(ctx, city, store, register: RegisterFn,
                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(relay_run, "CHUNK", 2)
    people = [register(home_library="CITY") for _ in range(4)]
    real, calls = relay_run.deliver, []

    def fourth_fails(session, ctx_, adapter, reader, library):  # type: ignore[no-untyped-def]
        calls.append(reader.id)
        if len(calls) == 4:
            raise RuntimeError("bug in a delivery")
        return real(session, ctx_, adapter, reader, library)

    monkeypatch.setattr(relay_run, "deliver", fourth_fails)
    with pytest.raises(RuntimeError, match="bug in a delivery"):
        run_once(ctx, library="CITY", policy=POLICY, rng=random.Random(1))
    # The first chunk is recorded; the second's delivered item is pending again.
    assert states(ctx) == ["done", "done", "pending", "pending"]
    monkeypatch.setattr(relay_run, "deliver", real)
    [result] = run_once(ctx, library="CITY", policy=POLICY, rng=random.Random(1))
    assert result.delivered == 2 and states(ctx) == ["done"] * 4
    assert store.health().detail.startswith("4 patrons")  # delivered twice, one patron
    assert all(patron_of(store, r) is not None for r in people)
