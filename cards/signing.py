"""Issuing tokens: one at a time for the card page, or in batches for offline phones.

Signing is on the hot path (the card page re-renders every 30-60 s for every open
card), so :class:`TokenSigner` does the per-key work once and each token costs one
ECDSA signature plus a few byte operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cards.errors import TokenFieldError
from cards.keys import CardKey
from cards.token import (
    MAX_ISSUED_AT,
    MAX_LIFETIME,
    MAX_STATUS_INDEX,
    P256_HALF_ORDER,
    P256_ORDER,
    SERIAL_BYTES,
    encode_token,
    pack_header,
)

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
MAX_BATCH_SLOTS = 7 * 24 * 60  # one week of one-minute slots


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed token and its validity window (``expires_at`` excludes clock skew)."""

    text: str
    issued_at: int
    expires_at: int


def _check_range(field: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TokenFieldError(
            f"{field} must be an integer in [{low}, {high}]", field=field, value=value
        )


class TokenSigner:
    """Signs v1 tokens with one card key (FORMAT.md §4)."""

    __slots__ = ("_kid", "_sign", "key")

    def __init__(self, key: CardKey) -> None:
        self.key = key
        self._kid = key.kid_bytes
        self._sign = key.private_key.sign

    def sign(self, serial: bytes, status_index: int, issued_at: int, lifetime: int) -> str:
        """The text form of a token for this card at ``issued_at`` (Unix seconds, UTC)."""
        if len(serial) != SERIAL_BYTES:
            raise TokenFieldError(
                f"serial must be {SERIAL_BYTES} bytes", field="serial", value=len(serial)
            )
        _check_range("status_index", status_index, 0, MAX_STATUS_INDEX)
        _check_range("issued_at", issued_at, 0, MAX_ISSUED_AT)
        _check_range("lifetime", lifetime, 1, MAX_LIFETIME)
        header = pack_header(self._kid, serial, status_index, issued_at, lifetime)
        r, s = decode_dss_signature(self._sign(header, _ECDSA_SHA256))
        # Low-S normalisation (as in Bitcoin's BIP 62): (r, n - s) verifies too, so we
        # always emit the smaller s and decoders refuse the other; one token, one encoding.
        if s > P256_HALF_ORDER:
            s = P256_ORDER - s
        return encode_token(header, r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def batch(
        self,
        serial: bytes,
        status_index: int,
        start: int,
        slots: int,
        slot_seconds: int = 60,
        lifetime: int | None = None,
    ) -> list[IssuedToken]:
        """Tokens for ``slots`` consecutive slots from ``start`` (e.g. 1440 x 60 s = 24 h).

        A phone shows the token of the current slot. ``lifetime`` defaults to two slots,
        so a code shown at the very end of its slot still passes a gate a slot later.
        """
        _check_range("slots", slots, 1, MAX_BATCH_SLOTS)
        _check_range("slot_seconds", slot_seconds, 1, MAX_LIFETIME)
        life = 2 * slot_seconds if lifetime is None else lifetime
        _check_range("lifetime", life, 1, MAX_LIFETIME)
        issued = []
        for slot in range(slots):
            issued_at = start + slot * slot_seconds
            text = self.sign(serial, status_index, issued_at, life)
            issued.append(IssuedToken(text, issued_at, issued_at + life))
        return issued


def sign_token(
    key: CardKey, serial: bytes, status_index: int, issued_at: int, lifetime: int
) -> str:
    """One-off signing; hot paths keep a :class:`TokenSigner` instead."""
    return TokenSigner(key).sign(serial, status_index, issued_at, lifetime)


def sign_batch(
    key: CardKey,
    serial: bytes,
    status_index: int,
    start: int,
    slots: int,
    slot_seconds: int = 60,
    lifetime: int | None = None,
) -> list[IssuedToken]:
    """See :meth:`TokenSigner.batch`."""
    return TokenSigner(key).batch(serial, status_index, start, slots, slot_seconds, lifetime)
