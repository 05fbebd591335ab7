"""Security headers on every response, added at the WSGI layer.

A view may set its own value for any of them; only missing ones are added.
Doing this below Flask costs one set of lower-cased names per response, where
``Headers.setdefault`` scanned the header list once per header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

DEFAULTS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"),
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SecurityHeaders:
    """WSGI middleware that adds each of ``DEFAULTS`` the response lacks."""

    def __init__(self, app: WSGIApp, defaults: tuple[tuple[str, str], ...] = DEFAULTS):
        self.app = app
        self.defaults = tuple((name.lower(), name, value) for name, value in defaults)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend((name, value) for key, name, value in self.defaults
                           if key not in present)
            return start_response(status, headers, *exc_info)

        return self.app(environ, start)
