"""The serve worker's client socket, over a real socket pair: blocking reads and
writes wait at most their timeout though the kernel's socket never blocks; a held
response leaves in one piece and in order, whatever gunicorn writes it with."""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from idp.web.worker import HOLD_LIMIT, ClientSocket


@pytest.fixture
def pair() -> Iterator[tuple[ClientSocket, socket.socket]]:
    ours, peer = socket.socketpair()
    client = ClientSocket.adopt(ours, limit=5)
    client.setblocking(True)
    peer.settimeout(5)
    yield client, peer
    client.close()
    peer.close()


def pending(peer: socket.socket) -> bytes:
    """What has arrived so far, without waiting."""
    peer.setblocking(False)
    try:
        return peer.recv(1 << 20)
    except BlockingIOError:
        return b""
    finally:
        peer.settimeout(5)


def receive(peer: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = peer.recv(1 << 20)
        assert chunk
        data += chunk
    return data


def test_blocking_mode_has_the_client_timeout(pair: tuple[ClientSocket, socket.socket]):
    client, _ = pair
    assert client.gettimeout() == 5
    client.setblocking(False)
    assert client.gettimeout() == 0.0


def kernel_blocks(sock: socket.socket) -> bool:
    return not fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK


def later(seconds: float, action) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_reads_wait_for_data_up_to_their_timeout(pair: tuple[ClientSocket, socket.socket]):
    client, peer = pair
    client.settimeout(0.2)
    with pytest.raises(TimeoutError):
        client.recv(10)
    client.settimeout(None)  # blocking: at most the client timeout
    assert client.gettimeout() == 5
    later(0.1, lambda: peer.sendall(b"late"))
    assert client.recv(10) == b"late"
    buffer = bytearray(4)
    later(0.1, lambda: peer.sendall(b"into"))
    assert client.recv_into(buffer) == 4 and buffer == b"into"
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        client.recv(10)
    assert not kernel_blocks(client)  # the mode is the object's, not the kernel's


def test_writes_wait_for_room_up_to_their_timeout(pair: tuple[ClientSocket, socket.socket]):
    client, peer = pair
    data = os.urandom(4 << 20)  # far more than the socket buffers hold
    received = bytearray()

    def read_all() -> None:
        while len(received) < len(data):
            received.extend(peer.recv(1 << 16))

    reader = later(0.1, read_all)
    client.sendall(data)
    reader.join()
    assert received == data
    client.settimeout(0.2)
    with pytest.raises(TimeoutError):  # nobody reads
        client.sendall(data)


def test_a_held_response_is_sent_whole_on_release(pair: tuple[ClientSocket, socket.socket]):
    client, peer = pair
    client.hold()
    client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
    client.sendall(memoryview(b"ok"))
    assert pending(peer) == b""
    client.release()
    assert receive(peer, 40) == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    client.sendall(b"after")  # no longer held
    assert receive(peer, 5) == b"after"


def test_a_large_response_is_not_held_past_the_limit(
        pair: tuple[ClientSocket, socket.socket]):
    client, peer = pair
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * HOLD_LIMIT)
    client.hold()
    client.sendall(b"h" * 100)
    client.sendall(b"b" * HOLD_LIMIT)
    assert receive(peer, HOLD_LIMIT + 100) == b"h" * 100 + b"b" * HOLD_LIMIT
    client.sendall(b"tail")
    assert pending(peer) == b""
    client.release()
    assert receive(peer, 4) == b"tail"


def test_send_and_sendfile_go_after_what_is_held(pair: tuple[ClientSocket, socket.socket],
                                                 tmp_path: Path):
    client, peer = pair
    client.hold()
    client.sendall(b"head;")
    assert client.send(b"now;") == 4
    assert receive(peer, 9) == b"head;now;"
    client.sendall(b"head2;")
    body = tmp_path / "body"
    body.write_bytes(b"file")
    with body.open("rb") as handle:
        client.sendfile(handle)
    assert receive(peer, 10) == b"head2;file"
    client.release()
    assert pending(peer) == b""


def test_a_discarded_response_is_never_sent(pair: tuple[ClientSocket, socket.socket]):
    client, peer = pair
    client.hold()
    client.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf")
    client.discard()
    client.sendall(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")  # sent at once
    assert receive(peer, 38) == b"HTTP/1.1 500 Internal Server Error\r\n\r\n"
    assert pending(peer) == b""
