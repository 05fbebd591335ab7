"""Reading ahead: the next batch is read and prepared while the current one is written.

An import alternates between the library's database (reading a page), Python
(validating and preparing rows) and the identity database (writing a batch, where
the server checks foreign keys and fills indexes while the client waits). A
producer thread keeps one prepared batch ready, so those waits overlap with the
next batch's reading and preparing. At most ``depth`` batches wait in the queue,
so memory stays flat however large the source.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], *, depth: int = 1, name: str = "read-ahead") -> Iterator[T]:
    """Yield ``items`` in order, produced by a thread up to ``depth`` ahead.

    An exception in the producer is raised here, at the item where it happened.
    Closing this generator early (or an exception in the caller) stops the producer
    at its next item; the producer is always joined before this returns.
    """
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            ok, value = handoff.get()
            if not ok:
                raise value
            if value is _END:
                return
            yield value
    finally:
        stop.set()
        thread.join()
