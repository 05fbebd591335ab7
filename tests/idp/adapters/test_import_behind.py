"""The import's write-behind: items stored in order on another thread, pending ones
visible to the caller, a bounded queue, errors raised to the caller, and what was
submitted stored when the caller stops."""

from __future__ import annotations

import threading

import pytest

from idp.importer.behind import Turn, WriteBehind


def test_items_are_stored_in_order_on_another_thread() -> None:
    stored: list[int] = []
    threads: set[str] = set()

    def store(n: int, turn: Turn) -> None:
        threads.add(threading.current_thread().name)
        stored.append(n)

    with WriteBehind(store, name="test-behind") as behind:
        for n in range(100):
            behind.submit(n)
    assert stored == list(range(100))
    assert threads == {"test-behind"}
    assert behind.pending() == []


def test_pending_holds_what_is_not_stored_yet_and_the_queue_is_bounded() -> None:
    release = threading.Event()
    started = threading.Event()

    def store(n: int, turn: Turn) -> None:
        started.set()
        release.wait(5)

    behind: WriteBehind[int] = WriteBehind(store, depth=1)
    behind.submit(1)
    started.wait(5)
    behind.submit(2)  # waits in the queue while 1 is being stored
    assert behind.pending() == [1, 2]
    blocked = threading.Thread(target=behind.submit, args=(3,))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # no room for a third
    release.set()
    blocked.join(5)
    behind.close()
    assert behind.pending() == []


def test_a_store_error_is_raised_to_the_caller_and_later_items_are_dropped() -> None:
    stored: list[int] = []

    def store(n: int, turn: Turn) -> None:
        if n == 3:
            raise ValueError("batch 3 refused")
        stored.append(n)

    with pytest.raises(ValueError, match="batch 3 refused"), \
            WriteBehind(store) as behind:
        for n in range(1, 50):
            behind.submit(n)
    assert stored == [1, 2]
    assert behind.pending() == []


def test_what_was_submitted_is_stored_when_the_caller_stops() -> None:
    stored: list[int] = []
    def store(n: int, turn: Turn) -> None:
        stored.append(n)

    with pytest.raises(KeyboardInterrupt), WriteBehind(store) as behind:
        behind.submit(1)
        behind.submit(2)
        raise KeyboardInterrupt
    assert stored == [1, 2]


def test_the_callers_error_wins_over_the_writers() -> None:
    def store(n: int, turn: Turn) -> None:
        raise ValueError("the writer's")

    with pytest.raises(RuntimeError, match="the caller's"), WriteBehind(store) as behind:
        behind.submit(1)
        raise RuntimeError("the caller's")


class _Ledger:
    """A store for several writers: the first part of items runs side by side, the
    part after ``turn()`` is recorded in the order it happens."""

    def __init__(self, *, fail: int | None = None, fail_after_turn: bool = False) -> None:
        self.fail, self.fail_after_turn = fail, fail_after_turn
        self.lock = threading.Lock()
        self.running: set[int] = set()
        self.overlapped = False
        self.committed: list[int] = []
        self.rolled_back: list[int] = []

    def store(self, n: int, turn: Turn) -> None:
        with self.lock:
            self.running.add(n)
            self.overlapped |= len(self.running) > 1
        try:
            if n == self.fail and not self.fail_after_turn:
                raise ValueError(f"item {n} refused")
            threading.Event().wait(0.005 * (n % 3))  # earlier items sometimes take longer
            turn()
            if n == self.fail:
                raise ValueError(f"item {n} refused")
            with self.lock:
                self.committed.append(n)
        except BaseException:
            with self.lock:
                self.rolled_back.append(n)
            raise
        finally:
            with self.lock:
                self.running.discard(n)


def test_several_writers_store_side_by_side_and_finish_in_order() -> None:
    ledger = _Ledger()
    with WriteBehind(ledger.store, writers=2, depth=2, name="pair") as behind:
        for n in range(60):
            behind.submit(n)
            assert behind.pending() == sorted(behind.pending())
    assert ledger.committed == list(range(60))
    assert ledger.overlapped
    assert behind.pending() == []


@pytest.mark.parametrize("after_turn", [False, True])
def test_with_several_writers_a_failure_stores_what_came_before_and_drops_the_rest(
        after_turn: bool) -> None:
    ledger = _Ledger(fail=7, fail_after_turn=after_turn)
    with pytest.raises(ValueError, match="item 7 refused"), \
            WriteBehind(ledger.store, writers=3, depth=2) as behind:
        for n in range(40):
            behind.submit(n)
    assert ledger.committed == list(range(7))
    # Items stored beside 7 got as far as their turn and no further.
    assert all(n >= 7 for n in ledger.rolled_back)
    assert behind.pending() == []


def test_an_earlier_items_failure_wins_over_a_later_ones() -> None:
    later_failed = threading.Event()

    def store(n: int, turn: Turn) -> None:
        if n == 1:
            raise ValueError("item 1 refused")
        if n == 0:
            later_failed.wait(5)
            raise ValueError("item 0 refused")

    with pytest.raises(ValueError, match="item 0 refused"), \
            WriteBehind(store, writers=2) as behind:
        behind.submit(0)
        behind.submit(1)
        threading.Event().wait(0.2)
        later_failed.set()
