"""The staff JSON API under ``/api`` (bearer tokens; OpenAPI at /api/openapi.json)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import IntegerConverter, Map

from .auth import authenticate_request

api = Blueprint("api", __name__, url_prefix="/api")

#: The largest row id (a signed 64-bit integer, the tables' BigInteger keys).
MAX_ROW_ID = 2**63 - 1


class RowId(IntegerConverter):
    """``<rowid:name>``: a row id, so at most a signed 64-bit integer; a longer
    number is no route (404) rather than an overflow in the database driver."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=0, max=MAX_ROW_ID)


@api.record_once
def _converters(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["rowid"] = RowId


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
