"""``/.well-known/reader-card-configuration``: where gates find the card documents.

Shaped like OAuth/OIDC discovery metadata (RFC 8414 §2, §3): a JSON object served at a
well-known path (RFC 8615) under the issuer, whose ``issuer`` must equal the URL it was
fetched from. The document is not signed: it only points at the signed documents, and a
gate's trust comes from its pinned anchor key, never from this document.

Example::

    {"issuer": "https://id.example.org",
     "trust_list_uri": "https://id.example.org/cards/trust-list",
     "status_list_uri": "https://id.example.org/cards/status-list",
     "status_list_delta_uri": "https://id.example.org/cards/status-list/delta",
     "verification_endpoint": "https://id.example.org/cards/verify",
     "token_format_versions": [1], "token_prefix": "RP1",
     "signing_alg_values_supported": ["ES256"],
     "clock_skew_seconds": 30, "status_list_max_age_seconds": 900,
     "anchor_transitions_uri": "https://id.example.org/cards/anchor-transitions"}

``status_list_delta_uri`` takes the query parameter ``since`` (the version the gate holds).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from cards.errors import ConfigurationError
from cards.jws import canonical_json, parse_json_object
from cards.token import FORMAT_VERSION, TEXT_PREFIX
from cards.verify import DEFAULT_SKEW

WELL_KNOWN_PATH = "/.well-known/reader-card-configuration"
MEDIA_TYPE = "application/json"
_URI_FIELDS = ("issuer", "trust_list_uri", "status_list_uri", "status_list_delta_uri")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_uri(name: str, value: object) -> str:
    """HTTPS URI without fragment (RFC 8414 §2); plain HTTP only on loopback (development)."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string")
    parts = urlsplit(value)
    if parts.fragment or not parts.hostname:
        raise ConfigurationError(f"{name} must be an absolute URI without fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        raise ConfigurationError(f"{name} must use https (http only on loopback)")
    return value


@dataclass(frozen=True)
class ReaderCardConfiguration:
    """The configuration document; the service serves :meth:`to_json` at WELL_KNOWN_PATH."""

    issuer: str
    trust_list_uri: str
    status_list_uri: str
    status_list_delta_uri: str
    verification_endpoint: str | None = None
    token_format_versions: tuple[int, ...] = (FORMAT_VERSION,)
    token_prefix: str = TEXT_PREFIX
    signing_alg_values_supported: tuple[str, ...] = ("ES256",)
    clock_skew_seconds: int = DEFAULT_SKEW
    status_list_max_age_seconds: int = 900
    #: Where the anchor transitions are published (FORMAT.md §11); optional.
    anchor_transitions_uri: str | None = None

    def __post_init__(self) -> None:
        for name in _URI_FIELDS:
            check_uri(name, getattr(self, name))
        for name in ("verification_endpoint", "anchor_transitions_uri"):
            if getattr(self, name) is not None:
                check_uri(name, getattr(self, name))
        if not self.token_format_versions or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0
            for v in self.token_format_versions
        ):
            raise ConfigurationError("token_format_versions must list positive integers")
        if not isinstance(self.token_prefix, str) or not self.token_prefix:
            raise ConfigurationError("token_prefix must be a non-empty string")
        if not all(isinstance(a, str) for a in self.signing_alg_values_supported):
            raise ConfigurationError("signing_alg_values_supported must list strings")
        for name in ("clock_skew_seconds", "status_list_max_age_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative integer")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("verification_endpoint", "anchor_transitions_uri"):
            if data[name] is None:
                del data[name]
        data["token_format_versions"] = list(self.token_format_versions)
        data["signing_alg_values_supported"] = list(self.signing_alg_values_supported)
        return data

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReaderCardConfiguration:
        """Read the document strictly; unknown members are ignored (RFC 8414 §3.2)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for name in _URI_FIELDS:
            if name not in known:
                raise ConfigurationError(f"{name} is missing")
        for name in ("token_format_versions", "signing_alg_values_supported"):
            if name in known:
                if not isinstance(known[name], list):
                    raise ConfigurationError(f"{name} must be an array")
                known[name] = tuple(known[name])
        return cls(**known)

    @classmethod
    def from_bytes(cls, raw: bytes) -> ReaderCardConfiguration:
        try:
            data = parse_json_object(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"not a JSON object: {exc}") from exc
        return cls.from_json(data)

    def supports_this_library(self) -> bool:
        """True when tokens of our format version and signature algorithm are in use."""
        return (
            FORMAT_VERSION in self.token_format_versions
            and "ES256" in self.signing_alg_values_supported
        )
