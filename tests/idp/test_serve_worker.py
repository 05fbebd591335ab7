"""`readerpass serve`'s worker over raw TCP: keep-alive, requests sent ahead, idle
clients, and clients that stall in the middle of a request. One worker process, so a
client that held it would hold the whole server; run with one thread (requests on
the worker's own thread) and with two (gunicorn's pool)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from idp.config_file import render_config
from tests.idp.test_server import free_port, running, wait_for

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@dataclass(frozen=True)
class Served:
    port: int
    home: Path  # the server's $HOME and $XDG_RUNTIME_DIR/..


@pytest.fixture(scope="module", params=[1, 2], ids=["one-thread", "two-threads"])
def server(request: pytest.FixtureRequest, sqlite_template: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("serve")
    shutil.copy(sqlite_template, directory / "readerpass.db")
    config = directory / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="T",
                                    database_url=f"sqlite:///{directory / 'readerpass.db'}"),
                      encoding="utf-8")
    port = free_port()
    env = {"READERPASS_CONFIG": str(config), "READERPASS_SERVER_CLIENT_TIMEOUT_SECONDS": "1",
           "HOME": str(directory), "XDG_RUNTIME_DIR": str(directory / "run")}
    args = ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads",
            str(request.param), "--no-access-log"]
    with running(args, directory, env) as process:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield Served(port, directory)


def read_response(sock: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes]:
    """One HTTP/1.1 response with a Content-Length body, and the bytes after it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside a body"
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def test_one_connection_serves_requests_in_turn_and_sent_ahead(server: Served):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(REQUEST)
        first, rest = read_response(sock)
        sock.sendall(REQUEST * 3)  # pipelined: all three before any answer
        answers = [first]
        for _ in range(3):
            answer, rest = read_response(sock, rest)
            answers.append(answer)
    assert rest == b""
    assert all(a.startswith(b"HTTP/1.1 200") and b'"database":"ok"' in a.replace(b" ", b"")
               for a in answers), answers


def test_kept_alive_connections_end_in_every_way_and_the_worker_goes_on(server: Served):
    """A kept-alive connection ends by the client closing, by "Connection: close",
    or by a request that cannot be parsed; each time with its descriptor's next
    owner (the next connection) served."""
    endings = [b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
               b"NOT HTTP\r\n\r\n"]
    for round_ in range(6):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(REQUEST)
            answer, rest = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200") and rest == b""
            ending = endings[round_ % len(endings)]
            if ending:
                sock.sendall(ending)
                assert read_until_closed(sock).startswith((b"HTTP/1.1 200", b"HTTP/1.1 400"))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(REQUEST)
        assert read_response(sock)[0].startswith(b"HTTP/1.1 200")


def test_an_idle_connection_does_not_hold_the_worker(server: Served):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
                sock.sendall(REQUEST)
                answer, _ = read_response(sock)
                assert answer.startswith(b"HTTP/1.1 200")
        idle.sendall(REQUEST)  # and the idle one is still served when it speaks
        answer, _ = read_response(idle)
        assert answer.startswith(b"HTTP/1.1 200")


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes (the socket's timeout fails it)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


@pytest.mark.parametrize("partial", [
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trace: ",
    b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
    b"application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
], ids=["in-headers", "in-body"])
def test_a_client_that_stalls_inside_a_request_is_disconnected(server: Served, partial: bytes):
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as stalled:
        stalled.sendall(partial)
        answer = read_until_closed(stalled)  # the client timeout is 1 s
    assert b"200 OK" not in answer
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(REQUEST)
        answer, _ = read_response(sock)
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_client_expecting_100_continue_gets_it_before_it_sends_the_body(server: Served):
    body = b"grant_type=client_credentials"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     b"application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = sock.recv(65536)
            assert chunk, interim
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        answer, _ = read_response(sock, interim.partition(b"\r\n\r\n")[2])
    assert answer.startswith(b"HTTP/1.1 401") and b"invalid_client" in answer


def test_no_control_socket_is_opened(server: Served):
    """gunicorn's control socket sits at one path per user, which every server of
    that user would share; ``readerpass serve`` is managed with signals instead."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(REQUEST)
        read_response(sock)
    assert not list(server.home.rglob("gunicorn.ctl"))
