"""A local fake of the FOLIO APIs the folio_rest backend uses, served over real HTTP.

``running_fake()`` serves a :class:`FolioFake` (see ``folio_fake_model``) on
127.0.0.1 at a random port, one thread per request, with FOLIO's JSON error
bodies and status codes: 201 on create, 204 on update and delete, 404, 400 for
unsupported CQL or an unknown patron group, 422 for schema and unique-index
violations. Requests must name the tenant (``X-Okapi-Tenant: diku``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.adapters.folio_fake_model import FolioFake, Problem, Record

__all__ = ["FolioFake", "running_fake"]


class _Handler(BaseHTTPRequestHandler):
    fake: FolioFake

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _answer(self, status: int, body: Record | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> tuple[str, str | None, dict[str, list[str]]]:
        if self.headers.get("X-Okapi-Tenant") != "diku":
            raise Problem(400, "no tenant")
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        return parts[0], parts[1] if len(parts) > 1 else None, parse_qs(url.query)

    def _body(self) -> Record:
        data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if not isinstance(data, dict):
            raise Problem(400, "expected a JSON object")
        return data

    def _do(self, method: str) -> None:
        try:
            name, record_id, params = self._route()
            if method == "GET" and record_id is None:
                query = params.get("query", [None])[0]
                self._answer(200, self.fake.search(name, query, _number(params, "limit", 10),
                                                   _number(params, "offset", 0)))
            elif method == "GET" and record_id:
                self._answer(200, self.fake.fetch(name, record_id))
            elif method == "POST" and record_id is None:
                self._answer(201, self.fake.post(name, self._body()))
            elif method == "PUT" and record_id:
                self.fake.put(name, record_id, self._body())
                self._answer(204)
            elif method == "DELETE" and record_id:
                self.fake.delete(name, record_id)
                self._answer(204)
            else:
                raise Problem(405, "method not allowed")
        except Problem as problem:
            self._answer(problem.status, problem.body())

    def do_GET(self) -> None:
        self._do("GET")

    def do_POST(self) -> None:
        self._do("POST")

    def do_PUT(self) -> None:
        self._do("PUT")

    def do_DELETE(self) -> None:
        self._do("DELETE")


def _number(params: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(params.get(name, [str(default)])[0])
    except ValueError:
        raise Problem(400, f"{name} must be an integer") from None


@contextmanager
def running_fake() -> Iterator[tuple[FolioFake, str]]:
    """Serve a fresh fake on 127.0.0.1 (random port) until the block ends."""
    fake = FolioFake()
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
