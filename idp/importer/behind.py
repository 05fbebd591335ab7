"""Writing behind: one batch is stored on a thread while the next one is planned.

Storing a batch is mostly waiting: the identity database checks foreign keys and
fills indexes for every row ``COPY`` streams to it. Planning the next batch is
mostly Python (deciding each row, hashing, encrypting). A writer thread stores the
batches in the order they were submitted, each in its own transaction, while the
caller plans the next one; the caller learns which items are not yet stored from
:meth:`WriteBehind.pending` (``claims`` explains why it needs to).

At most ``depth`` items wait besides the one being stored, so memory stays flat.
An error in the writer stops it: later items are dropped, and the error is raised
to the caller (itself, as ``read_ahead`` does) at its next
:meth:`~WriteBehind.submit` or at the end. When the
caller stops early (an error, Ctrl-C), the items already submitted are still
stored before the error goes on, as if each had been written in line.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")


class WriteBehind(Generic[T]):
    def __init__(self, store: Callable[[T], None], *, depth: int = 1,
                 name: str = "write-behind") -> None:
        self._store = store
        self._queue: queue.Queue[tuple[bool, T | None]] = queue.Queue(maxsize=depth)
        self._pending: deque[T] = deque()
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> None:
        """Queue ``item`` to be stored after those before it; waits while ``depth``
        items wait. Raises the writer's error if it has stopped on one."""
        self._raise_error()
        with self._lock:
            self._pending.append(item)
        while True:
            try:
                self._queue.put((True, item), timeout=0.1)
                return
            except queue.Full:
                self._raise_error()

    def pending(self) -> list[T]:
        """The items submitted and not yet stored, oldest first."""
        with self._lock:
            return list(self._pending)

    def close(self) -> None:
        """Store every submitted item, stop the writer, raise its error if any."""
        if self._thread.is_alive():
            self._queue.put((False, None))
            self._thread.join()
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
        while True:
            more, item = self._queue.get()
            if not more:
                return
            if self._error is not None:
                continue  # drop what comes after a failure, but keep draining
            try:
                self._store(item)  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the caller
                self._error = exc
                with self._lock:
                    self._pending.clear()
                continue
            with self._lock:
                self._pending.popleft()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error
