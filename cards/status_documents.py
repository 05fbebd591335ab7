"""Signed status-list documents: full list, delta since version N, gate snapshot.

Full list (``readerpass-status-list+jwt``), claims (FORMAT.md §7)::

    {"iss": ..., "version": 42, "iat": 1760000000, "size": 20000000,
     "bits_sha256": b64url(SHA-256(bits)), "body_sha256": b64url(SHA-256(body))}

with body = zlib(bits). Delta (``readerpass-status-delta+jwt``) adds ``base_version``
and ``base_bits_sha256``; its body is the varint change list and ``bits_sha256`` is the
digest of the list *after* the delta. Applying a delta therefore checks the chain both
ways: the base must be the exact list we hold, the result must be the exact list the
service holds. Like the Token Status List draft (§8 "iat", §11.5 caching), freshness
comes from ``iat``; the service re-signs at least once per gate maximum age.

Every status-list document also has an HTTP entity tag naming the list it yields
(:func:`status_etag`), so a gate can ask "anything newer than what I hold?" and get a
304 without a body (FORMAT.md §7 "No change").

A gate snapshot is the container of the newest statement it verified (full or delta)
with zlib(bits) of its current list; both commit to ``bits_sha256``, so the snapshot
re-verifies against the anchor on every load.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import replace

from cards.errors import DeltaMismatch, SignedDocumentError
from cards.jws import ClaimReader, sign_document, verify_document
from cards.keys import AnchorKey, PinnedAnchors, b64url_encode
from cards.status_codec import (
    ZLIB_LEVEL,
    decode_changes,
    encode_changes,
    inflate_exact,
    join_container,
    split_container,
)
from cards.status_list import MAX_SIZE, StatusList, StatusListError, diff

STATUS_LIST_TYPE = "readerpass-status-list+jwt"
STATUS_DELTA_TYPE = "readerpass-status-delta+jwt"
_FULL = "status list"
_DELTA = "status list delta"


def _sha256(data: bytes) -> str:
    return b64url_encode(hashlib.sha256(data).digest())


def _claims(status: StatusList, issuer: str, body: bytes) -> dict[str, object]:
    return {
        "iss": issuer,
        "version": status.version,
        "iat": status.issued_at,
        "size": status.size,
        "bits_sha256": b64url_encode(status.digest),
        "body_sha256": _sha256(body),
    }


def status_etag(status: StatusList) -> str:
    """The weak entity tag (RFC 9110 §8.8.3) of every document that yields ``status``:
    ``W/"<version>.<bits_sha256>"``. Weak, because two signatures of one version differ
    in bytes (ECDSA is randomised) but not in meaning; the digest keeps two different
    lists that happen to share a version number (a rebuilt service) apart."""
    return f'W/"{status.version}.{b64url_encode(status.digest)}"'


def sign_status_list(status: StatusList, anchor: AnchorKey, issuer: str) -> bytes:
    """The full download: statement + zlib (level 9) of the bits."""
    body = zlib.compress(status.bits, ZLIB_LEVEL)
    statement = sign_document(anchor, STATUS_LIST_TYPE, _claims(status, issuer, body))
    return join_container(statement, body)


def sign_status_delta(old: StatusList, new: StatusList, anchor: AnchorKey, issuer: str) -> bytes:
    """The delta download that turns ``old`` into ``new``."""
    if new.version <= old.version:
        raise StatusListError(f"delta version {new.version} does not follow {old.version}")
    changes = diff(old, new)
    body = encode_changes(changes.revoked, changes.restored)
    claims = _claims(new, issuer, body)
    claims["base_version"] = old.version
    claims["base_bits_sha256"] = b64url_encode(old.digest)
    return join_container(sign_document(anchor, STATUS_DELTA_TYPE, claims), body)


def _body_matches(reader: ClaimReader, body: bytes) -> None:
    if not hmac.compare_digest(reader.string("body_sha256"), _sha256(body)):
        raise SignedDocumentError(
            "body does not match its signed digest", document=reader.document, reason="content"
        )


def _header(reader: ClaimReader) -> tuple[int, int, int]:
    return reader.integer("size", 1, MAX_SIZE), reader.integer("version"), reader.integer("iat")


def load_status_list(blob: bytes, anchors: PinnedAnchors) -> StatusList:
    """Verify and read a full status list download (or a gate snapshot)."""
    statement, body = split_container(blob, _FULL)
    verified = verify_document(statement, anchors, (STATUS_LIST_TYPE, STATUS_DELTA_TYPE), _FULL)
    reader = ClaimReader(verified.claims, _FULL)
    if verified.typ == STATUS_LIST_TYPE:
        _body_matches(reader, body)
    # else: a snapshot after a delta: the statement is the delta's, the body our own
    # bits, which the bits digest below pins exactly.
    size, version, issued_at = _header(reader)
    bits = inflate_exact(body, (size + 7) // 8, _FULL)
    if not hmac.compare_digest(reader.string("bits_sha256"), _sha256(bits)):
        raise SignedDocumentError(
            "bits do not match their signed digest", document=_FULL, reason="content"
        )
    try:
        return StatusList(size, version, issued_at, bits, signed=statement)
    except StatusListError as exc:
        raise reader.error(exc.message) from exc


def snapshot(status: StatusList) -> bytes:
    """The gate-local form of a verified list; :func:`load_status_list` reads it back."""
    if not status.signed:
        raise StatusListError("only a verified status list can be stored as a snapshot")
    return join_container(status.signed, zlib.compress(status.bits, ZLIB_LEVEL))


def apply_status_delta(current: StatusList, blob: bytes, anchors: PinnedAnchors) -> StatusList:
    """Verify a delta and apply it; the result equals the service's newer full list.

    Raises :class:`DeltaMismatch` when the delta starts from another version or another
    list than ``current``; :class:`SignedDocumentError` when it is not genuine.
    """
    statement, body = split_container(blob, _DELTA)
    verified = verify_document(statement, anchors, STATUS_DELTA_TYPE, _DELTA)
    reader = ClaimReader(verified.claims, _DELTA)
    _body_matches(reader, body)
    size, version, issued_at = _header(reader)
    base_version = reader.integer("base_version")
    if base_version != current.version or not hmac.compare_digest(
        reader.string("base_bits_sha256"), b64url_encode(current.digest)
    ):
        raise DeltaMismatch(
            f"delta starts from version {base_version}, the list is at {current.version}",
            have_version=current.version,
            delta_base_version=base_version,
        )
    if version <= base_version or size < current.size:
        raise reader.error("delta must raise the version and may not shrink the list")
    revoked, restored = decode_changes(body, size, _DELTA)
    try:
        result = current.with_changes(version, issued_at, revoked, restored, size=size)
    except StatusListError as exc:
        raise reader.error(exc.message) from exc
    if not hmac.compare_digest(reader.string("bits_sha256"), b64url_encode(result.digest)):
        raise reader.error("result of the delta does not match its signed digest")
    return replace(result, signed=statement)
