"""The staff JSON API under ``/api`` (bearer tokens; OpenAPI at /api/openapi.json)."""

from __future__ import annotations

from flask import Blueprint, request

from .auth import authenticate_request

api = Blueprint("api", __name__, url_prefix="/api")

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


@api.before_request
def _authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate_request()


from . import (  # noqa: E402,F401  (routes register on import)
    duplicates,
    libraries,
    merges,
    openapi,
    readers,
)
