"""The import's write-behind: items stored in order on another thread, pending ones
visible to the caller, a bounded queue, errors raised to the caller, and what was
submitted stored when the caller stops."""

from __future__ import annotations

import threading

import pytest

from idp.importer.behind import WriteBehind


def test_items_are_stored_in_order_on_another_thread() -> None:
    stored: list[int] = []
    threads: set[str] = set()

    def store(n: int) -> None:
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

    def store(n: int) -> None:
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

    def store(n: int) -> None:
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
    with pytest.raises(KeyboardInterrupt), WriteBehind(stored.append) as behind:
        behind.submit(1)
        behind.submit(2)
        raise KeyboardInterrupt
    assert stored == [1, 2]


def test_the_callers_error_wins_over_the_writers() -> None:
    def store(n: int) -> None:
        raise ValueError("the writer's")

    with pytest.raises(RuntimeError, match="the caller's"), WriteBehind(store) as behind:
        behind.submit(1)
        raise RuntimeError("the caller's")
