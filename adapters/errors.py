"""Typed errors of the adapter port.

Every error carries the data a caller needs to decide what to do next (retry, mark
the link as conflicting, show a reason to staff), so nobody has to parse messages.
The relay in ``idp`` turns them into link states and outbox retries in one place.
``retryable`` tells that place whether the same call may succeed later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from adapters.capabilities import Capability


class AdapterError(Exception):
    """Base of every error a backend raises on purpose."""

    code: ClassVar[str] = "adapter_error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unavailable(AdapterError):
    """The library system could not be reached or did not answer in time; retry later."""

    code = "unavailable"
    retryable = True

    def __init__(self, message: str, *, backend: str) -> None:
        super().__init__(message)
        self.backend = backend


class Conflict(AdapterError):
    """The change collides with existing local data, e.g. a barcode already in use.

    ``field`` names the colliding value; ``local_id`` is the patron already holding
    it when the library system tells us.
    """

    code = "conflict"

    def __init__(self, message: str, *, field: str, local_id: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.local_id = local_id


class VersionConflict(AdapterError):
    """The patron changed since the caller read it: re-read, re-apply, retry."""

    code = "version_conflict"

    def __init__(self, message: str, *, local_id: str, expected: str, actual: str) -> None:
        super().__init__(message)
        self.local_id = local_id
        self.expected = expected
        self.actual = actual


class AmbiguousMatch(AdapterError):
    """A look-up matched more than one local patron; staff must choose."""

    code = "ambiguous_match"

    def __init__(self, message: str, *, local_ids: Sequence[str]) -> None:
        super().__init__(message)
        self.local_ids = tuple(local_ids)


class Rejected(AdapterError):
    """The library system refuses the request for good, e.g. an unknown category.

    Retrying the same request cannot succeed; ``reason`` is fit to show to staff.
    """

    code = "rejected"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


class PatronNotFound(Rejected):
    """A change was asked for a local patron that does not exist (look-ups return None)."""

    code = "patron_not_found"

    def __init__(self, local_id: str) -> None:
        super().__init__(f"no local patron {local_id!r}", field="local_id")
        self.local_id = local_id


class CapabilityMissing(AdapterError):
    """The backend does not offer this operation; check ``capabilities`` first."""

    code = "capability_missing"

    def __init__(self, capability: Capability, *, backend: str) -> None:
        super().__init__(f"backend {backend!r} does not support {capability.name}")
        self.capability = capability
        self.backend = backend


class ConfigError(AdapterError):
    """A configuration table is invalid; ``key`` is the dotted path of the bad key."""

    code = "config_error"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem
