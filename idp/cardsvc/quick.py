"""The usual online verification, answered below Flask.

A gate sends every scan as ``POST /cards/verify`` with ``{"token": ...}`` in a JSON
body and the same bearer token, which after its first scan is in the worker's
gate-token cache (:class:`~idp.cardsvc.auth.GateTokens`). Such a request needs none
of Flask's request context, URL map, session interface or hooks, which took about a
third of its time in the worker. :class:`QuickVerify` answers it with the function
the view calls (:func:`~idp.cardsvc.verification.verify_online`) and the same JSON
and headers, and hands every other request to Flask as it came.

It falls back to Flask, before anything is counted or stored, for: another path or
method; a body that is not ``application/json`` with a ``Content-Length`` of at most
1 KB (and within the request limit), or not a JSON object whose ``token`` is text of
1 to ``MAX_TEXT`` characters; an ``Authorization`` that is not a bearer token in the
cache (so a revoked, expired or unknown token, and every request while the cache is
turned off, goes through the view's own check). Once the verification has started
(the rate limit counted, the replay cache written) there is no going back: an error
from it is answered by Flask's own error handlers, in a request context made for it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy.orm import Session

from ..web.headers import WSGIApp
from .auth import Gate, bearer_value
from .verification import scanned_text, verify_online

if TYPE_CHECKING:
    from .runtime import CardRuntime

PATH = "/cards/verify"
MAX_BODY = 1024


class QuickVerify:
    """WSGI middleware in front of Flask's ``wsgi_app`` (see the module docstring)."""

    def __init__(self, wsgi_app: WSGIApp, app: Flask, runtime: CardRuntime):
        self.wsgi_app = wsgi_app
        self.app = app
        self.runtime = runtime
        self.ctx = runtime.ctx

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "POST":
            usual = self.usual_request(environ)
            if usual is not None:
                return self.answer(environ, start_response, *usual)
        return self.wsgi_app(environ, start_response)

    def usual_request(self, environ: dict[str, Any]) -> tuple[Gate, str] | None:
        """The gate and the scanned text of a usual request, else ``None``. Reads
        nothing but the body, which it leaves for Flask to read again."""
        if environ.get("CONTENT_TYPE") != "application/json" or self.app.debug:
            return None  # (in debug mode Flask indents its JSON)
        value = bearer_value(environ.get("HTTP_AUTHORIZATION", ""))
        gate = None if value is None else self.runtime.gates.get(
            value, int(self.ctx.now().timestamp()))
        length = environ.get("CONTENT_LENGTH", "")
        configured = self.app.config["MAX_CONTENT_LENGTH"]
        limit = MAX_BODY if configured is None else min(MAX_BODY, configured)
        if gate is None or not (length.isdigit() and 0 < int(length) <= limit):
            return None
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)
        if len(body) != int(length):
            return None
        try:
            data = json.loads(body)  # as Flask's get_json: bytes, encoding detected
        except ValueError:
            return None
        text = scanned_text(data.get("token") if isinstance(data, dict) else None)
        return None if text is None else (gate, text)

    def answer(self, environ: dict[str, Any], start_response: Callable[..., Any],
               gate: Gate, text: str) -> Iterable[bytes]:
        opened: list[Session] = []

        def session() -> Session:  # only a reader's first admission at a library
            if not opened:
                opened.append(self.ctx.sessions())
            return opened[0]

        try:
            verdict = verify_online(session, self.ctx, self.runtime, gate, text)
        except Exception as error:  # answered by Flask's handlers
            return self.flask_error(environ, start_response, error)
        finally:
            for each in opened:  # as the app's teardown closes a request's session
                each.rollback()
                each.close()
        body = self.app.json.dumps(verdict, separators=(",", ":")).encode() + b"\n"
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body))),
                                  ("Cache-Control", "no-store")])
        return [body]

    def flask_error(self, environ: dict[str, Any], start_response: Callable[..., Any],
                    error: Exception) -> Iterable[bytes]:
        """The response Flask gives when the view raises ``error``."""
        with self.app.request_context(environ):
            try:
                response = self.app.finalize_request(self.app.handle_user_exception(error))
            except Exception as unhandled:  # as Flask's wsgi_app does
                response = self.app.handle_exception(unhandled)
            return response(environ, start_response)
