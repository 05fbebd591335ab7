"""Typed domain errors.

The domain raises these; only the edges (HTTP API, pages, CLI) turn them into
status codes, problem documents or exit codes, in one place each. Every error
carries a stable machine-readable ``code`` and, where it concerns one input
field, the field's name. Messages never contain personal data.
"""

from __future__ import annotations


class ReaderPassError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(ReaderPassError):
    """A value was rejected by a validation rule (HTTP 400/422, CLI exit 2)."""

    code = "invalid"


class InvalidIdentityNumber(InvalidInput):
    """An identity document number failed its format, date or check-digit rule."""

    code = "invalid_identity_number"


class InvalidMobileNumber(InvalidInput):
    """A mobile number could not be parsed or is not a mobile number."""

    code = "invalid_mobile"


class NotFound(ReaderPassError):
    """The named object does not exist (HTTP 404)."""

    code = "not_found"


class Conflict(ReaderPassError):
    """The change contradicts existing state, e.g. a duplicate document (HTTP 409)."""

    code = "conflict"


class Forbidden(ReaderPassError):
    """The actor may not do this (HTTP 403)."""

    code = "forbidden"


class RateLimited(ReaderPassError):
    """Too many attempts; try again after ``retry_after`` seconds (HTTP 429)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after
