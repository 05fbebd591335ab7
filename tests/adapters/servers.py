"""Scratch databases on the real test servers, and a port nobody listens on."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, create_engine, make_url, text


def closed_port() -> int:
    """A loopback port that was free a moment ago; connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[URL]:
    """Create a uniquely named database on the server; drop it afterwards."""
    server = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    quote = "`" if server.get_backend_name() == "mysql" else '"'
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
        try:
            yield server.set(database=name)
        finally:
            with admin.connect() as conn:
                if server.get_backend_name() == "postgresql":
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                else:
                    conn.execute(text(f"DROP DATABASE `{name}`"))
    finally:
        admin.dispose()
