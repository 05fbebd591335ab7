"""Typed errors of the card library.

Every error carries a stable machine-readable ``code`` plus the data that explains it,
so the service can map it to an HTTP/SIP2 answer in one place and a gate can log it.
Messages never contain personal data (the token holds none to begin with).

This package is imported by gate devices on their own, so these errors do not derive
from the service's ``idp.errors``; the service maps them at its edge.
"""

from __future__ import annotations


class CardError(Exception):
    """Base of every error this package raises on purpose."""

    code = "card_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedToken(CardError):
    """A token text or byte string does not follow format v1 (cards/FORMAT.md).

    ``position`` is the character offset of the first offending character when one
    is known, else ``None``.
    """

    code = "malformed"

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class InvalidKey(CardError):
    """A serialised key (PEM, JWK, raw point or key id) could not be read."""

    code = "invalid_key"


class TokenFieldError(CardError):
    """A value handed to the signer does not fit its field in format v1."""

    code = "invalid_token_field"

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class SignedDocumentError(CardError):
    """A signed document (trust list, status list, delta) failed a check.

    ``document`` names the kind of document, ``reason`` is a stable short word:
    ``format``, ``signature``, ``unknown_anchor``, ``type`` or ``content``.
    """

    code = "invalid_signed_document"

    def __init__(self, message: str, *, document: str, reason: str) -> None:
        super().__init__(f"{document}: {message}")
        self.document = document
        self.reason = reason


class DeltaMismatch(CardError):
    """A status list delta does not continue the list it is applied to."""

    code = "delta_mismatch"

    def __init__(self, message: str, *, have_version: int, delta_base_version: int) -> None:
        super().__init__(message)
        self.have_version = have_version
        self.delta_base_version = delta_base_version


class ConfigurationError(CardError):
    """The reader-card configuration document is not valid."""

    code = "invalid_configuration"


class BundleError(CardError):
    """A gate bundle on disk is missing, unreadable or fails verification."""

    code = "bundle_invalid"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class StaleBundle(BundleError):
    """The signed data of a gate bundle is older than the allowed maximum age.

    ``part`` says which part (``trust_list`` or ``status_list``); ages are seconds.
    A gate must refuse to run rather than admit on stale revocation data.
    """

    code = "bundle_stale"

    def __init__(self, message: str, *, path: str, part: str, age: int, max_age: int) -> None:
        super().__init__(message, path=path)
        self.part = part
        self.age = age
        self.max_age = max_age


class SyncError(CardError):
    """Downloading the bundle from the service failed."""

    code = "sync_failed"

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class QRCapacityError(CardError):
    """The text does not fit the largest QR version allowed (hard cap: version 7)."""

    code = "qr_too_large"

    def __init__(self, message: str, *, length: int, max_version: int) -> None:
        super().__init__(message)
        self.length = length
        self.max_version = max_version
