"""The gunicorn worker that ``readerpass serve`` runs.

It is gunicorn's gthread worker (one event loop per process: accept, keep-alive,
idle timeouts, graceful stop) with four changes:

* With one thread (``[server] threads = 1``, the default) a request is served on
  the loop's own thread. gthread would hand it to a pool of one thread and take
  the connection back through a wake-up pipe: two thread switches, a pipe write
  and read and the interpreter lock changing hands for every request. A
  connection is read only once its first bytes have arrived, so idle and
  kept-alive clients cost nothing; a client that stalls in the middle of a
  request holds its worker until the client timeout, as with gunicorn's sync
  worker, so a buffering proxy belongs in front of a public server.
* Each client socket has a deadline (``[server] client_timeout_seconds``) for
  every blocking read and for sending each response, in both modes; gunicorn
  leaves them without one, so a stalled client could hold a thread forever.
* A response's head and body leave in one write where they fit in
  ``HOLD_LIMIT`` (gunicorn writes them separately): one segment instead of two.
* A kept-alive request costs two system calls, its read and its write. gunicorn
  switched the socket between blocking and non-blocking around each request
  (five ``ioctl``), polled before each read and write that had a timeout, and took
  the connection out of the poller and put it back (two ``epoll_ctl``): eleven in
  all. Here a client socket stays non-blocking and waits (``poll``) only when the
  kernel says it would block, and with one thread a kept-alive connection stays
  registered with the poller while its request is served.

It builds on gthread's internals (``enqueue_req``, ``finish_request``, ``TConn``),
hence gunicorn's version range in pyproject.toml.
"""

from __future__ import annotations

import errno
import select
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from gunicorn.workers.gthread import _DEFER, STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

HOLD_LIMIT = 64 * 1024  # bytes of a response kept back before they are sent anyway

T = TypeVar("T")


class ClientSocket(socket.socket):
    """A client connection whose blocking mode carries a timeout, and which can hold
    a response back to send it in one piece.

    gunicorn switches a connection between non-blocking (while it waits in the
    poller) and blocking (while a request is read and answered) with
    ``setblocking``; here blocking means "blocking, at most ``limit`` seconds".
    The kernel's socket stays non-blocking throughout: the mode and timeout are
    this object's own, and a read or write waits (``poll``) only after the kernel
    answered that it would block, up to the timeout (for ``sendall``, a deadline
    for the whole call, as Python's sockets have).
    gunicorn writes a response's head and body with separate ``sendall`` calls;
    between :meth:`hold` and :meth:`release` they are joined (up to
    ``HOLD_LIMIT`` bytes), so a small response leaves in one write and, on a local
    network, one segment instead of two.
    """

    limit: float
    _wait = 0.0  # the timeout in force; 0 = non-blocking
    _held: list[bytes] | None = None
    _held_bytes = 0

    @classmethod
    def adopt(cls, sock: socket.socket, limit: float) -> ClientSocket:
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        socket.socket.setblocking(adopted, False)  # the kernel's mode, once
        adopted.limit = limit
        return adopted

    def setblocking(self, flag: bool) -> None:
        self._wait = self.limit if flag else 0.0

    def settimeout(self, value: float | None) -> None:
        """``None`` (blocking without limit) means at most ``limit`` here."""
        self._wait = self.limit if value is None else min(float(value), self.limit)

    def gettimeout(self) -> float:
        return self._wait

    def _ready(self, event: int, seconds: float) -> None:
        """Wait until the kernel can read (or write) without blocking."""
        if self._wait == 0.0:
            raise BlockingIOError(errno.EAGAIN, "the operation would block")
        poller = select.poll()
        poller.register(self, event)
        if seconds <= 0 or not poller.poll(seconds * 1000):
            raise TimeoutError("timed out")

    def _waiting(self, call: Callable[..., T], event: int, *args: Any) -> T:
        """``call(*args)``, waiting (up to the timeout) while the kernel would block."""
        while True:
            try:
                return call(*args)
            except BlockingIOError:
                self._ready(event, self._wait)

    def recv(self, size: int, flags: int = 0) -> bytes:
        return self._waiting(super().recv, select.POLLIN, size, flags)

    def recv_into(self, buffer: Any, size: int = 0, flags: int = 0) -> int:
        return self._waiting(super().recv_into, select.POLLIN, buffer, size, flags)

    def _sendall(self, data: Any, flags: int = 0) -> None:
        view = memoryview(data).cast("B")
        deadline = time.monotonic() + self._wait
        while view:
            try:
                view = view[super().send(view, flags):]
            except BlockingIOError:
                self._ready(select.POLLOUT, deadline - time.monotonic())

    def hold(self) -> None:
        self._held, self._held_bytes = [], 0

    def release(self) -> None:
        """Send what is held and stop holding."""
        self._send_held()
        self._held = None

    def discard(self) -> None:
        """Stop holding and forget what is held (a response that failed halfway)."""
        self._held = None

    def _send_held(self) -> None:
        if self._held:
            data = b"".join(self._held)
            self._held, self._held_bytes = [], 0
            self._sendall(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self._held is None or flags:
            self._send_held()
            self._sendall(data, flags)
            return
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= HOLD_LIMIT:
            self._send_held()

    def send(self, data: Any, flags: int = 0) -> int:
        self._send_held()  # e.g. "100 Continue", which the client waits for
        return self._waiting(super().send, select.POLLOUT, data, flags)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        self._send_held()
        return super().sendfile(file, offset, count)


class Worker(ThreadWorker):  # type: ignore[misc]
    client_timeout: float = 30.0

    def accept(self, listener: Any) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        sock = ClientSocket.adopt(client, self.client_timeout)
        self.enqueue_req(TConn(self.cfg, sock, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection's next request: with one thread it is served
        right here, and the connection stays registered with the poller (with the
        same callback) while it is kept alive."""
        if self.cfg.threads > 1:
            super().on_client_socket_readable(conn, client)
            return
        self.keepalived_conns.remove(conn)
        outcome = self._serve(conn)
        if outcome is True:
            self._keep_alive(conn)
            return
        self.poller.unregister(client)
        self._finish(conn, outcome)

    def enqueue_req(self, conn: TConn) -> None:
        if self.cfg.threads > 1:
            super().enqueue_req(conn)
            return
        # A new connection waits in the poller for its first bytes.
        new = not conn.initialized and not conn.data_ready
        self._finish(conn, _DEFER if new else self._serve(conn))

    def _serve(self, conn: TConn) -> Any:
        """Serve the connection's request, and those the client sent ahead
        (pipelining, already buffered) here rather than through finish_request,
        which would recurse."""
        outcome = self.handle(conn)
        while outcome is True and conn.parser.unreader.buf.getvalue():
            outcome = self.handle(conn)
        return outcome

    def _finish(self, conn: TConn, outcome: Any) -> None:
        done: Future[Any] = Future()
        done.set_result(outcome)
        self.finish_request(conn, done)

    def _keep_alive(self, conn: TConn) -> None:
        """finish_request's keep-alive case for a connection still registered
        with the poller (with the same callback): only its timeout changes."""
        conn.sock.setblocking(False)
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
        self.keepalived_conns.append(conn)

    def handle_request(self, req: Any, conn: TConn) -> bool:
        """One HTTP/1 request, its response sent in one piece where it fits."""
        sock = conn.sock
        if not isinstance(sock, ClientSocket):
            return bool(super().handle_request(req, conn))
        sock.hold()
        try:
            keep_alive = bool(super().handle_request(req, conn))
        except BaseException:
            sock.discard()  # gunicorn answers or closes; no half response goes first
            raise
        sock.release()
        return keep_alive


def worker_class(client_timeout: float) -> type[Worker]:
    """The worker class with this server's client timeout."""
    return type("ReaderPassWorker", (Worker,), {"client_timeout": float(client_timeout)})
