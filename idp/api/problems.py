"""Domain errors to HTTP answers, in one place: RFC 9457 problem documents."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ReaderPassError,
)
from ..messaging import DeliveryFailed
from ..migrate import SchemaNotCurrent

log = logging.getLogger(__name__)

STATUS: list[tuple[type[ReaderPassError], int]] = [
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (RateLimited, 429),
    (DeliveryFailed, 503),
    (SchemaNotCurrent, 503),
]


class BadRequest(ReaderPassError):
    """The request itself is unusable: not JSON, wrong content type (HTTP 400/415)."""

    code = "bad_request"

    def __init__(self, message: str, *, status: int = 400, field: str | None = None):
        super().__init__(message, field=field)
        self.status = status


class Unauthorized(ReaderPassError):
    code = "unauthorized"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({key: value for key, value in extra.items() if value is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def from_error(error: ReaderPassError) -> Response:
    if isinstance(error, BadRequest):
        status = error.status
    elif isinstance(error, Unauthorized):
        response = problem(401, "unauthorized", error.message, code=error.code)
        response.headers["WWW-Authenticate"] = 'Bearer realm="readerpass-staff"'
        return response
    else:
        status = next((code for kind, code in STATUS if isinstance(error, kind)), 400)
    response = problem(status, error.code.replace("_", " "), error.message,
                       code=error.code, field=error.field)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def from_validation(error: ValidationError) -> Response:
    items = error.errors(include_url=False, include_input=False, include_context=False)
    if items and items[0]["type"] == "json_invalid":
        return problem(400, "bad request", f"the body is not valid JSON: {items[0]['msg']}",
                       code="invalid_json")
    errors: list[dict[str, str]] = [
        {"field": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
        for item in items
    ]
    first = errors[0]
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return problem(422, "invalid request", detail, code="invalid",
                   field=first["field"] or None, errors=errors)


def register(app: Flask) -> None:
    @app.errorhandler(ReaderPassError)
    def _domain(error: ReaderPassError) -> Response:
        return from_error(error)

    @app.errorhandler(ValidationError)
    def _validation(error: ValidationError) -> Response:
        return from_validation(error)

    @app.errorhandler(DataError)
    def _data(error: DataError) -> Response:
        """SQLSTATE class 22, a data exception: a value from the request that the
        database refuses to store or compare, such as a NUL character in text on
        PostgreSQL. The request's transaction is rolled back at teardown, so
        nothing changed. Logged (without the value) as a validation gap."""
        log.warning("%s %s: the database refused a value (%s)", request.method,
                    request.endpoint, type(error.orig).__name__)
        return problem(400, "bad request", "a value in the request cannot be stored or "
                       "searched for (a NUL character, for example)", code="invalid_value")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/"):
            return error
        status = error.code or 500
        return problem(status, (error.name or "error").lower(), str(error.description or ""),
                       code=(error.name or "error").lower().replace(" ", "_"))
