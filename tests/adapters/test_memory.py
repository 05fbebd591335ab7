"""The in-memory reference backend against the contract, plus its fault switch."""

from __future__ import annotations

import pytest

from adapters.errors import Unavailable
from adapters.memory import FaultSwitch, MemoryPatronStore
from adapters.port import PatronStore
from adapters.values import PatronMatch
from tests.adapters.contract import BRANCHES, CATEGORIES, PatronStoreContract, new_request


class TestMemoryStore(PatronStoreContract):
    @pytest.fixture
    def store(self) -> PatronStore:
        return MemoryPatronStore(CATEGORIES, BRANCHES)

    @pytest.fixture
    def unreachable_store(self) -> PatronStore:
        faults = FaultSwitch()
        faults.go_down()
        return MemoryPatronStore(CATEGORIES, BRANCHES, faults=faults)

    def block_locally(self, store: PatronStore, local_id: str) -> None:
        assert isinstance(store, MemoryPatronStore)
        store.set_local_block(local_id, True)


def test_retry_after_lost_reply_returns_the_created_patron() -> None:
    store = MemoryPatronStore(CATEGORIES, BRANCHES)
    store.faults.lose_next_reply()
    with pytest.raises(Unavailable):
        store.create(new_request(1), "k-1")
    retried = store.create(new_request(1), "k-1")
    assert store.find(PatronMatch(barcode=new_request(1).barcode)) == retried


def test_store_recovers_when_switch_comes_up() -> None:
    store = MemoryPatronStore(CATEGORIES, BRANCHES)
    store.faults.go_down()
    assert not store.health().ok
    store.faults.come_up()
    created = store.create(new_request(2), "k-2")
    assert store.get(created.local_id) == created
