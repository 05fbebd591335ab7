"""Reader card token, format v1: binary layout and text form (specified in cards/FORMAT.md).

A token is 90 bytes: a 26-byte header (version, key id, card serial, status-list index,
issued-at, lifetime) followed by a raw P-256 ECDSA signature r || s over the header.
Its text form is ``RP1`` followed by the RFC 4648 §6 base32 encoding of those 90 bytes:
147 characters, all in the QR alphanumeric set, so it fits QR version 6 at level M.

Decoding is strict: anything but a well-formed v1 token raises :class:`MalformedToken`.
The one tolerance is letter case, because keyboard-wedge scanners type upper-case
letters with Shift and a gate PC left in Caps Lock turns them into lower case.
"""

from __future__ import annotations

import base64
import re
import secrets
import struct
from dataclasses import dataclass
from typing import Final

from cards.errors import MalformedToken

FORMAT_VERSION: Final = 1
TEXT_PREFIX: Final = "RP1"
SERIAL_BYTES: Final = 10
HEADER_BYTES: Final = 26
SIGNATURE_BYTES: Final = 64
TOKEN_BYTES: Final = HEADER_BYTES + SIGNATURE_BYTES
TEXT_LENGTH: Final = len(TEXT_PREFIX) + TOKEN_BYTES * 8 // 5  # 90 bytes -> 144 base32 digits

MAX_STATUS_INDEX: Final = 2**32 - 1
MAX_ISSUED_AT: Final = 2**40 - 1
MAX_LIFETIME: Final = 2**16 - 1

# Order n of the P-256 base point (SEC 2 §2.4.2 / FIPS 186-5 D.1.2.3).
P256_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_HALF_ORDER: Final = P256_ORDER // 2

# version, key id, serial, status index, issued-at (high byte, low 4 bytes), lifetime
_HEADER: Final = struct.Struct(">B4s10sIBIH")
_BODY_RE: Final = re.compile(r"[A-Z2-7]{144}", re.ASCII)
assert _HEADER.size == HEADER_BYTES
assert TEXT_LENGTH == 147


@dataclass(frozen=True, slots=True)
class Token:
    """A decoded token. Decoding checks structure only; :func:`cards.verify` checks trust."""

    key_id: bytes
    serial: bytes
    status_index: int
    issued_at: int
    lifetime: int
    signature: bytes
    signed_bytes: bytes

    @property
    def expires_at(self) -> int:
        """First second at which the token is no longer valid (before clock-skew allowance)."""
        return self.issued_at + self.lifetime

    @property
    def kid(self) -> str:
        return self.key_id.hex()


def new_serial() -> bytes:
    """A fresh random card serial: 80 bits from the OS CSPRNG, no personal data.

    Random rather than sequential so serials reveal neither issue order nor card counts;
    the service still checks uniqueness before it records one.
    """
    return secrets.token_bytes(SERIAL_BYTES)


def new_serials(count: int) -> list[bytes]:
    """``count`` fresh serials from one draw of the OS CSPRNG (a bulk issue makes
    thousands: one system call instead of one each, each a chance for another
    thread to take the interpreter lock)."""
    pool = secrets.token_bytes(SERIAL_BYTES * count)
    return [pool[start:start + SERIAL_BYTES] for start in range(0, len(pool), SERIAL_BYTES)]


def serial_to_text(serial: bytes) -> str:
    """The 16-character base32 form of a serial, for logs, links and staff screens."""
    if len(serial) != SERIAL_BYTES:
        raise ValueError(f"a serial is {SERIAL_BYTES} bytes")
    return base64.b32encode(serial).decode("ascii")


def serial_from_text(text: str) -> bytes:
    """Inverse of :func:`serial_to_text`; raises :class:`MalformedToken` on bad input."""
    if len(text) != 16 or not text.isascii() or not re.fullmatch(r"[A-Z2-7]{16}", text.upper()):
        raise MalformedToken("a card serial is 16 base32 characters")
    return base32_to_bytes(text.upper(), SERIAL_BYTES)


def pack_header(
    key_id: bytes, serial: bytes, status_index: int, issued_at: int, lifetime: int
) -> bytes:
    """The 26 signed header bytes (FORMAT.md §2). Callers validate ranges first."""
    return _HEADER.pack(
        FORMAT_VERSION,
        key_id,
        serial,
        status_index,
        issued_at >> 32,
        issued_at & 0xFFFFFFFF,
        lifetime,
    )


def encode_token(header: bytes, signature: bytes) -> str:
    """Text form of a signed token: prefix plus base32 of header || signature."""
    return TEXT_PREFIX + base64.b32encode(header + signature).decode("ascii")


# RFC 4648 base32 digits (values 0..31) spelled as the digits int(..., 32) reads.
_TO_INT_DIGITS: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                      "0123456789abcdefghijklmnopqrstuv")


def base32_to_bytes(text: str, size: int) -> bytes:
    """Decode unpadded upper-case RFC 4648 base32 whose bits fill ``size`` bytes
    exactly (``len(text) * 5 == size * 8``: tokens and serials), in C rather than
    :func:`base64.b32decode`'s Python loop (a tenth of the time). The caller has
    checked the alphabet."""
    if len(text) * 5 != size * 8:
        raise ValueError(f"{len(text)} base32 digits do not make {size} bytes")
    return int(text.translate(_TO_INT_DIGITS), 32).to_bytes(size, "big")


_ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz")


def _first_bad_character(text: str, start: int) -> int:
    """Offset of the first character outside the (case-folded) base32 alphabet."""
    return next((i for i, char in enumerate(text[start:], start) if char not in _ALPHABET), start)


def decode_token(text: str) -> Token:
    """Parse the text form of a v1 token (FORMAT.md §3); raise :class:`MalformedToken`.

    Checks, in order: type, length, prefix, alphabet, version byte, lifetime,
    signature scalars in [1, n-1] and low-S (FORMAT.md §4; a high-S twin of a valid
    signature is refused so each token has exactly one byte encoding).
    """
    if not isinstance(text, str):
        raise MalformedToken("a token is text")
    if len(text) != TEXT_LENGTH:
        raise MalformedToken(f"a v1 token is {TEXT_LENGTH} characters, got {len(text)}")
    if not text.isascii():
        raise MalformedToken(
            "token contains a non-ASCII character", position=_first_bad_character(text, 0)
        )
    upper = text.upper()
    if not upper.startswith(TEXT_PREFIX):
        raise MalformedToken(f"token does not start with {TEXT_PREFIX}", position=0)
    body = upper[len(TEXT_PREFIX) :]
    if _BODY_RE.fullmatch(body) is None:
        raise MalformedToken(
            "token contains a character outside base32 (A-Z, 2-7)",
            position=_first_bad_character(text, len(TEXT_PREFIX)),
        )
    return decode_token_bytes(base32_to_bytes(body, TOKEN_BYTES))


def decode_token_bytes(raw: bytes) -> Token:
    """Parse the 90-byte binary form of a v1 token; raise :class:`MalformedToken`."""
    if len(raw) != TOKEN_BYTES:
        raise MalformedToken(f"a v1 token is {TOKEN_BYTES} bytes, got {len(raw)}")
    version, kid, serial, index, iat_high, iat_low, lifetime = _HEADER.unpack_from(raw)
    if version != FORMAT_VERSION:
        raise MalformedToken(f"token format version {version} is not {FORMAT_VERSION}")
    if lifetime == 0:
        raise MalformedToken("token lifetime is zero")
    signature = raw[HEADER_BYTES:]
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < P256_ORDER and 0 < s <= P256_HALF_ORDER):
        raise MalformedToken("signature is not a canonical low-S P-256 signature")
    return Token(
        key_id=kid,
        serial=serial,
        status_index=index,
        issued_at=(iat_high << 32) | iat_low,
        lifetime=lifetime,
        signature=signature,
        signed_bytes=raw[:HEADER_BYTES],
    )
