"""A switch that makes the memory store behave like an unreachable or flaky ILS."""

from __future__ import annotations

import threading

from adapters.errors import Unavailable

NAME = "memory"


class FaultSwitch:
    """Makes a store behave as if its library system were down or flaky."""

    def __init__(self) -> None:
        self._down = threading.Event()
        self._lose_reply = threading.Event()

    def go_down(self) -> None:
        self._down.set()

    def come_up(self) -> None:
        self._down.clear()

    def lose_next_reply(self) -> None:
        """The next change is applied but its caller sees Unavailable, as when a
        connection drops after COMMIT: the case idempotency keys exist for."""
        self._lose_reply.set()

    def before(self) -> None:
        if self._down.is_set():
            raise Unavailable("library system is down (fault switch)", backend=NAME)

    def after_change(self) -> None:
        if self._lose_reply.is_set():
            self._lose_reply.clear()
            raise Unavailable("reply lost after the change was applied", backend=NAME)
