"""Signed documents: JWS compact serialisation, ES256, signed by the province anchor.

Trust lists and status-list statements are JWS (RFC 7515 §7.1) with ``alg`` ES256
(RFC 7518 §3.4), a ``typ`` naming the document kind (RFC 7515 §4.1.9; explicit typing as
RFC 8725 §3.11 recommends, so one kind of document can never pass for another) and a
``kid`` naming the anchor key. Only pinned anchors are tried; nothing in the document
chooses its own verification key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.api_jws import PyJWS

from cards.errors import SignedDocumentError
from cards.keys import AnchorKey, PinnedAnchors, b64url_encode

_JWS = PyJWS(algorithms=["ES256"])
_DETERMINISTIC_ES256 = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
MAX_DOCUMENT_CHARS = 4_000_000  # far above any real trust list; stops absurd inputs early


def canonical_json(value: object) -> bytes:
    """Compact, key-sorted UTF-8 JSON: stable bytes for signing and for digests."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 §6)")


def parse_json_object(data: bytes | str) -> dict[str, Any]:
    """Strict JSON object parsing: no duplicate members, no NaN/Infinity (RFC 8259)."""
    value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def sign_document(anchor: AnchorKey, typ: str, claims: Mapping[str, object]) -> str:
    """JWS compact serialisation of ``claims`` signed by ``anchor``.

    The signature is deterministic ECDSA (RFC 6979) and header and payload are
    canonical JSON, so one anchor signing the same claims twice (two service workers,
    say) produces the same bytes: the strong entity tags of FORMAT.md §6 agree.
    """
    header = canonical_json({"alg": "ES256", "kid": anchor.kid, "typ": typ})
    signing_input = f"{b64url_encode(header)}.{b64url_encode(canonical_json(dict(claims)))}"
    der = anchor.private_key.sign(signing_input.encode("ascii"), _DETERMINISTIC_ES256)
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def strong_etag(body: bytes) -> str:
    """The strong entity tag (RFC 9110 §8.8.3) of a document that is served as the same
    bytes every time (the configuration, a trust list): ``"<b64url SHA-256(body)>"``."""
    return f'"{b64url_encode(hashlib.sha256(body).digest())}"'


@dataclass(frozen=True)
class VerifiedDocument:
    claims: dict[str, Any]
    typ: str
    anchor_kid: str


def verify_document(
    text: str, anchors: PinnedAnchors, types: str | tuple[str, ...], document: str
) -> VerifiedDocument:
    """Check a JWS against the pinned anchors; ``typ`` must be one of ``types``.

    Raises :class:`SignedDocumentError` with reason ``format``, ``type``,
    ``unknown_anchor``, ``signature`` or ``content``.
    """

    def fail(message: str, reason: str) -> SignedDocumentError:
        return SignedDocumentError(message, document=document, reason=reason)

    if not isinstance(text, str) or not text.isascii() or len(text) > MAX_DOCUMENT_CHARS:
        raise fail("not an ASCII JWS of reasonable size", "format")
    if text.count(".") != 2:
        raise fail("not a JWS compact serialisation", "format")
    try:
        header = _JWS.get_unverified_header(text)
    except jwt.InvalidTokenError as exc:
        raise fail(f"unreadable JWS header: {exc}", "format") from exc
    if header.get("alg") != "ES256":
        raise fail("JWS algorithm is not ES256", "format")
    typ = header.get("typ")
    allowed = (types,) if isinstance(types, str) else types
    if typ not in allowed or not isinstance(typ, str):
        raise fail(f"JWS type {typ!r} is not one of {', '.join(allowed)}", "type")
    if "crit" in header:  # RFC 7515 §4.1.11: we understand no extensions
        raise fail("JWS has critical extensions", "format")
    kid = header.get("kid")
    public_key = anchors.get(kid) if isinstance(kid, str) else None
    if public_key is None or not isinstance(kid, str):
        raise fail(f"signed by anchor {kid!r}, which is not pinned", "unknown_anchor")
    try:
        decoded = _JWS.decode_complete(text, public_key, algorithms=["ES256"])
    except jwt.InvalidSignatureError as exc:
        raise fail("signature does not check against the pinned anchor", "signature") from exc
    except jwt.InvalidTokenError as exc:
        raise fail(f"unreadable JWS: {exc}", "format") from exc
    try:
        claims = parse_json_object(decoded["payload"])
    except (ValueError, UnicodeDecodeError) as exc:
        raise fail(f"payload is not a JSON object: {exc}", "content") from exc
    return VerifiedDocument(claims, typ, kid)


class ClaimReader:
    """Typed access to claims; every miss is a :class:`SignedDocumentError` (``content``)."""

    def __init__(self, claims: Mapping[str, Any], document: str) -> None:
        self.claims = claims
        self.document = document

    def error(self, message: str) -> SignedDocumentError:
        return SignedDocumentError(message, document=self.document, reason="content")

    def integer(self, name: str, low: int = 0, high: int = 2**53 - 1) -> int:
        value = self.claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(f"claim {name!r} must be an integer in [{low}, {high}]")
        return value

    def string(self, name: str) -> str:
        value = self.claims.get(name)
        if not isinstance(value, str) or not value:
            raise self.error(f"claim {name!r} must be a non-empty string")
        return value

    def array(self, name: str) -> list[Any]:
        value = self.claims.get(name)
        if not isinstance(value, list):
            raise self.error(f"claim {name!r} must be an array")
        return value
