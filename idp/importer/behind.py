"""Writing behind: batches are stored on writer threads while the next one is planned.

Storing a batch is mostly waiting: the identity database checks foreign keys and
fills indexes for every row ``COPY`` streams to it. Planning the next batch is
mostly Python (deciding each row, hashing, encrypting). Writer threads store the
batches, each in its own transaction, while the caller plans the next one; the
caller learns which items are not yet stored from :meth:`WriteBehind.pending`
(``claims`` explains why it needs to).

With several writers, consecutive items are stored at the same time, but they
finish in the order they were submitted: ``store(item, turn)`` calls ``turn()``
before the part that must follow the items before it (on the import, moving the
checkpoint and committing), and ``turn()`` returns once every earlier item is
stored. The database then works on one batch's rows while the other's are sent.
A store that never calls ``turn()`` is still counted as stored in order.

At most ``depth`` items wait besides the ones being stored, so memory stays flat.
An error in a store stops the writers: later items are dropped (their ``turn()``
raises instead of returning, so their transactions roll back), earlier ones are
still stored, and the error is raised to the caller (itself, as ``read_ahead``
does) at its next :meth:`~WriteBehind.submit` or at the end. When the caller stops
early (an error, Ctrl-C), the items already submitted are still stored before the
error goes on, as if each had been written in line.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
Turn = Callable[[], None]


class _Dropped(Exception):
    """Raised by ``turn()`` in the store of an item after one that failed."""


class WriteBehind(Generic[T]):
    def __init__(self, store: Callable[[T, Turn], None], *, depth: int = 1,
                 writers: int = 1, name: str = "write-behind") -> None:
        self._store = store
        self._queue: queue.Queue[tuple[int, T] | None] = queue.Queue(maxsize=depth)
        self._changed = threading.Condition()
        self._pending: dict[int, T] = {}  # by submission number, in order
        self._submitted = 0
        self._stored = 0  # items 0 .. _stored - 1 are stored
        self._failed: int | None = None  # the first item whose store raised
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._run, daemon=True,
                                          name=name if writers == 1 else f"{name}-{n}")
                         for n in range(1, writers + 1)]
        for thread in self._threads:
            thread.start()

    def submit(self, item: T) -> None:
        """Queue ``item`` to be stored after those before it; waits while ``depth``
        items wait. Raises the writers' error if they have stopped on one."""
        self._raise_error()
        with self._changed:
            number = self._submitted
            self._submitted += 1
            self._pending[number] = item
        while True:
            try:
                self._queue.put((number, item), timeout=0.1)
                return
            except queue.Full:
                self._raise_error()

    def pending(self) -> list[T]:
        """The items submitted and not yet stored, oldest first."""
        with self._changed:
            return list(self._pending.values())

    def close(self) -> None:
        """Store every submitted item, stop the writers, raise their error if any."""
        # Counted first: a writer may stop on one of these before the loop is done.
        for _ in [thread for thread in self._threads if thread.is_alive()]:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._raise_error()

    def __enter__(self) -> WriteBehind[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if error is None:
            self.close()
            return
        # The caller's error is the one raised; what it submitted is still stored.
        with contextlib.suppress(BaseException):
            self.close()

    def _run(self) -> None:
        while (entry := self._queue.get()) is not None:
            number, item = entry
            try:
                if self._dropped(number):
                    raise _Dropped
                self._store(item, functools.partial(self._turn, number))
                self._turn(number)
            except _Dropped:  # after a failure: drop, but keep draining
                with self._changed:
                    self._pending.pop(number, None)
                continue
            except BaseException as exc:  # handed to the caller
                self._fail(number, exc)
                continue
            with self._changed:
                self._stored = number + 1
                del self._pending[number]
                self._changed.notify_all()

    def _dropped(self, number: int) -> bool:
        return self._failed is not None and self._failed < number

    def _turn(self, number: int) -> None:
        """Return once every item before ``number`` is stored; raise ``_Dropped``
        if one of them failed."""
        with self._changed:
            while self._stored < number and not self._dropped(number):
                self._changed.wait()
            if self._dropped(number):
                raise _Dropped

    def _fail(self, number: int, error: BaseException) -> None:
        with self._changed:
            if self._failed is None or number < self._failed:
                self._failed, self._error = number, error
            for later in [n for n in self._pending if n >= number]:
                del self._pending[later]
            self._changed.notify_all()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error
