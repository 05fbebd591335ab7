"""The import's read-ahead: order kept, errors raised where they happened, the
producer stopped and joined however the consumer ends, and a bounded queue."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from idp.importer.ahead import read_ahead


def test_items_come_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def items() -> Iterator[int]:
        for n in range(50):
            threads.add(threading.current_thread().name)
            yield n

    assert list(read_ahead(items(), name="test-ahead")) == list(range(50))
    assert threads == {"test-ahead"}


def test_a_producer_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 unreadable")

    seen = []
    with pytest.raises(ValueError, match="page 3 unreadable"):
        for n in read_ahead(items()):
            seen.append(n)
    assert seen == [1, 2]


def test_stopping_early_stops_the_producer_and_closes_its_source() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            for n in range(10_000):
                produced.append(n)
                yield n
        finally:
            closed.set()

    ahead = read_ahead(items(), depth=2)
    assert next(ahead) == 0
    ahead.close()  # joins the producer
    assert closed.is_set()
    assert len(produced) <= 5  # one consumed, two queued, one in hand, one offered
    assert not any(t.name == "read-ahead" for t in threading.enumerate())


def test_the_producer_stays_at_most_depth_ahead() -> None:
    produced: list[int] = []
    release = threading.Event()

    def items() -> Iterator[int]:
        for n in range(100):
            produced.append(n)
            yield n

    ahead = read_ahead(items(), depth=1)
    assert next(ahead) == 0
    release.wait(0.3)  # give the producer time to run ahead as far as it may
    assert len(produced) <= 3
    assert list(ahead) == list(range(1, 100))
