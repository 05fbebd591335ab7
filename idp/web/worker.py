"""The gunicorn worker that ``readerpass serve`` runs.

It is gunicorn's gthread worker (one event loop per process: accept, keep-alive,
idle timeouts, graceful stop) with three changes:

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

It builds on gthread's internals (``enqueue_req``, ``finish_request``, ``TConn``),
hence gunicorn's version range in pyproject.toml.
"""

from __future__ import annotations

import errno
import socket
from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import _DEFER, TConn, ThreadWorker

HOLD_LIMIT = 64 * 1024  # bytes of a response kept back before they are sent anyway


class ClientSocket(socket.socket):
    """A client connection whose blocking mode carries a timeout, and which can hold
    a response back to send it in one piece.

    gunicorn switches a connection between non-blocking (while it waits in the
    poller) and blocking (while a request is read and answered) with
    ``setblocking``; here blocking means "blocking, at most ``limit`` seconds".
    gunicorn writes a response's head and body with separate ``sendall`` calls;
    between :meth:`hold` and :meth:`release` they are joined (up to
    ``HOLD_LIMIT`` bytes), so a small response leaves in one write and, on a local
    network, one segment instead of two.
    """

    limit: float
    _held: list[bytes] | None = None
    _held_bytes = 0

    @classmethod
    def adopt(cls, sock: socket.socket, limit: float) -> ClientSocket:
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.limit = limit
        return adopted

    def setblocking(self, flag: bool) -> None:
        self.settimeout(self.limit if flag else 0.0)

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
            super().sendall(data)

    def sendall(self, data: Any, flags: int = 0) -> None:
        if self._held is None or flags:
            self._send_held()
            super().sendall(data, flags)
            return
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= HOLD_LIMIT:
            self._send_held()

    def send(self, data: Any, flags: int = 0) -> int:
        self._send_held()  # e.g. "100 Continue", which the client waits for
        return super().send(data, flags)

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

    def enqueue_req(self, conn: TConn) -> None:
        if self.cfg.threads > 1:
            super().enqueue_req(conn)
            return
        if not conn.initialized and not conn.data_ready:
            # A new connection: wait in the poller for its first bytes.
            outcome: Any = _DEFER
        else:
            outcome = self.handle(conn)
            # Requests the client sent ahead (pipelining) are already buffered; serve
            # them here rather than through finish_request, which would recurse.
            while outcome is True and conn.parser.unreader.buf.getvalue():
                outcome = self.handle(conn)
        done: Future[Any] = Future()
        done.set_result(outcome)
        self.finish_request(conn, done)

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
