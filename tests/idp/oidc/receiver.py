"""A relying party's back-channel logout endpoint on a real socket, verifying
each logout token as Back-Channel Logout 1.0 section 2.6 asks (PyJWT, JWKS)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    def __init__(self, port: int, *, jwks: Callable[[], dict[str, Any]], issuer: str,
                 client_id: str, now: Callable[[], int]):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/backchannel-logout"
        self.received: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self._check = dict(jwks=jwks, issuer=issuer, client_id=client_id, now=now)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def verify(self, token: str) -> dict[str, Any]:
        check = self._check
        header = jwt.get_unverified_header(token)
        assert header["typ"] == "logout+jwt" and header["alg"] == "ES256"
        keys = check["jwks"]()["keys"]
        key = jwt.PyJWK(next(k for k in keys if k["kid"] == header["kid"])).key
        claims = jwt.decode(token, key, algorithms=["ES256"], audience=check["client_id"],
                            issuer=check["issuer"], options={
                                "verify_exp": False, "verify_iat": False,
                                "require": ["iss", "aud", "iat", "exp", "jti", "events"]})
        assert claims["iat"] <= check["now"]() < claims["exp"]
        assert set(claims["events"]) == {EVENT} and claims["events"][EVENT] == {}
        assert "nonce" not in claims and (claims.get("sid") or claims.get("sub"))
        return claims

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                try:
                    receiver.received.append(receiver.verify(form["logout_token"][0]))
                    status = 200
                except Exception as exc:  # a bad token is a 400 to the OP, noted for the test
                    receiver.rejected.append(repr(exc))
                    status = 400
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(json.dumps({}).encode() if status != 200 else b"")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(5)
            self._server = None
