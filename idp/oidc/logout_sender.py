"""First attempts of back-channel logouts, made beside the request that ended the
session instead of inside it.

Ending a session writes one delivery row per client in the same transaction, so
nothing depends on this module: it only makes the first attempt prompt. The request
hands the new rows' ids over and answers at once; a few daemon threads per worker
post the logout tokens in parallel, each bounded by ``oidc.logout_timeout_seconds``,
so a client that hangs holds up neither the reader's browser nor the other clients'
logouts. What fails backs off as usual and ``readerpass oidc deliver-logouts``
retries it; ids dropped because the queue is full, or lost when the worker exits,
are still due and that command sends them.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable

from ..context import Context
from . import backchannel
from .keyring import Keyring

log = logging.getLogger(__name__)


class LogoutSender:
    THREADS = 4
    MAX_WAITING = 1_000

    def __init__(self, ctx: Context, keyring: Keyring, *,
                 post: backchannel.Poster = backchannel.http_post,
                 threads: int = THREADS, max_waiting: int = MAX_WAITING):
        self._ctx = ctx
        self._keyring = keyring
        self._post = post
        self._threads = threads
        self._max_waiting = max_waiting
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._unfinished = 0
        self._pid: int | None = None
        self._queue: queue.Queue[int] = queue.Queue(max_waiting)

    def send(self, delivery_ids: Iterable[int]) -> int:
        """Queue first attempts (after the commit that stored the rows); return how
        many were queued. The others wait for ``readerpass oidc deliver-logouts``."""
        ids = list(delivery_ids)
        if not ids:
            return 0
        with self._lock:
            self._start()
            queued = 0
            for delivery_id in ids:
                try:
                    self._queue.put_nowait(delivery_id)
                except queue.Full:
                    log.warning("logout sender busy: %d deliveries left to the retry command",
                                len(ids) - queued)
                    break
                queued += 1
            self._unfinished += queued
        return queued

    def _start(self) -> None:
        """Threads of this process (a forked worker starts its own)."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._queue = queue.Queue(self._max_waiting)
        self._unfinished = 0
        for number in range(self._threads):
            threading.Thread(target=self._run, args=(self._queue,), daemon=True,
                             name=f"logout-sender-{number}").start()

    def _run(self, work: queue.Queue[int]) -> None:
        while True:
            delivery_id = work.get()
            try:
                backchannel.deliver_due(self._ctx, self._keyring, post=self._post,
                                        only=[delivery_id])
            except Exception:  # the row stays due; the retry command sends it
                log.exception("back-channel logout delivery %d: first attempt failed",
                              delivery_id)
            finally:
                with self._lock:
                    self._unfinished -= 1
                    if self._unfinished <= 0:
                        self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued attempt has finished; False if ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._unfinished > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True
