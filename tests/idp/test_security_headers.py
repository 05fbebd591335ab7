"""Every response carries the security headers once, whatever answered it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from idp.web.headers import DEFAULTS, SecurityHeaders

PATHS = [
    ("GET", "/register"),  # a page
    ("GET", "/healthz"),
    ("GET", "/.well-known/openid-configuration"),  # a cached protocol document
    ("POST", "/oauth/token"),  # an OAuth error (no grant type)
    ("GET", "/api/readers"),  # a problem document (no token)
    ("GET", "/no/such/page"),  # Flask's own 404
]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_response_has_each_header_once(app: Any, method: str, path: str) -> None:
    response = app.test_client().open(path, method=method)
    for name, value in DEFAULTS:
        assert response.headers.getlist(name) == [value], (path, name)


def test_a_views_own_value_is_kept() -> None:
    inner = Flask(__name__)

    @inner.get("/framed")
    def framed() -> Any:
        return "ok", 200, {"x-frame-options": "SAMEORIGIN"}

    inner.wsgi_app = SecurityHeaders(inner.wsgi_app)  # type: ignore[method-assign]
    response = inner.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
