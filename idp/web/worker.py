"""The gunicorn worker that ``readerpass serve`` runs.

It is gunicorn's gthread worker (one event loop per process: accept, keep-alive,
idle timeouts, graceful stop) with two changes:

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

It builds on gthread's internals (``enqueue_req``, ``finish_request``, ``TConn``),
hence gunicorn's version range in pyproject.toml.
"""

from __future__ import annotations

import errno
import socket
from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import _DEFER, TConn, ThreadWorker


class ClientSocket(socket.socket):
    """A client connection whose blocking mode carries a timeout.

    gunicorn switches a connection between non-blocking (while it waits in the
    poller) and blocking (while a request is read and answered) with
    ``setblocking``; here blocking means "blocking, at most ``limit`` seconds".
    """

    limit: float

    @classmethod
    def adopt(cls, sock: socket.socket, limit: float) -> ClientSocket:
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.limit = limit
        return adopted

    def setblocking(self, flag: bool) -> None:
        self.settimeout(self.limit if flag else 0.0)


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


def worker_class(client_timeout: float) -> type[Worker]:
    """The worker class with this server's client timeout."""
    return type("ReaderPassWorker", (Worker,), {"client_timeout": float(client_timeout)})
