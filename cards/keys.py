"""P-256 keys: card-signing keys and the province trust anchor.

Two roles, two classes, so the type checker stops an anchor from signing cards and a
card key from signing trust lists. Both are NIST P-256 (secp256r1) keys, the curve of
ES256 (RFC 7518 §3.4). Card keys are separate from the service's OIDC keys (house
style: one key per purpose).

Key ids are short: the first 4 bytes of the RFC 7638 JWK thumbprint, written as 8
lower-case hex digits. Deriving the id from the key means a trust list cannot pair an
id with a different key unnoticed (the loader recomputes it), and 4 bytes keep the
token small. Ids are not secret and collisions are harmless to security (the signature
still has to check); builders reject two keys with the same id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Self

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cards.errors import InvalidKey

KEY_ID_BYTES = 4
_COORDINATE_BYTES = 32
_RAW_POINT_BYTES = 1 + 2 * _COORDINATE_BYTES


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`; raises ``ValueError`` on anything else."""
    if not text.isascii() or "=" in text or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:  # rejects non-zero padding bits
        raise ValueError("non-canonical base64url")
    return data


def public_key_to_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK (RFC 7517, RFC 7518 §6.2.1) of a P-256 key."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
    }


def public_key_from_jwk(jwk: Mapping[str, object]) -> ec.EllipticCurvePublicKey:
    """Read a public P-256 JWK; the point must lie on the curve. Private members are refused."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidKey("JWK is not an EC P-256 key")
    if "d" in jwk:
        raise InvalidKey("JWK carries a private key where a public key is expected")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise InvalidKey("JWK lacks the x or y coordinate")
    try:
        xb, yb = b64url_decode(x), b64url_decode(y)
    except (ValueError, binascii.Error) as exc:
        raise InvalidKey("JWK coordinate is not base64url") from exc
    if len(xb) != _COORDINATE_BYTES or len(yb) != _COORDINATE_BYTES:
        raise InvalidKey("JWK coordinate is not 32 bytes (RFC 7518 §6.2.1.2)")
    return public_key_from_raw(b"\x04" + xb + yb)


def public_key_to_raw(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed point (SEC 1 §2.3.3: 0x04 || X || Y)."""
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def public_key_from_raw(data: bytes) -> ec.EllipticCurvePublicKey:
    """Read an uncompressed P-256 point; points off the curve are refused."""
    if len(data) != _RAW_POINT_BYTES or data[0] != 4:
        raise InvalidKey("raw public key is not a 65-byte uncompressed P-256 point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as exc:
        raise InvalidKey("raw public key is not a point on P-256") from exc


def jwk_thumbprint(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-256 JWK thumbprint (RFC 7638 §3: required members, sorted, no whitespace)."""
    canonical = json.dumps(public_key_to_jwk(public_key), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).digest()


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """Short key id: the first 4 thumbprint bytes as 8 lower-case hex digits."""
    return jwk_thumbprint(public_key)[:KEY_ID_BYTES].hex()


class _P256Key:
    """A P-256 private key with its derived short key id."""

    __slots__ = ("kid", "kid_bytes", "private_key", "public_key")

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise InvalidKey(f"expected a P-256 key, got {private_key.curve.name}")
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.kid = key_id(self.public_key)
        self.kid_bytes = bytes.fromhex(self.kid)

    @classmethod
    def generate(cls) -> Self:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> Self:
        """Load a PKCS#8 (or SEC 1) PEM private key, optionally encrypted."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise InvalidKey(f"cannot read PEM private key: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InvalidKey("PEM private key is not an elliptic-curve key")
        return cls(key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM; encrypted with the best available scheme when a password is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def public_jwk(self) -> dict[str, str]:
        return {**public_key_to_jwk(self.public_key), "kid": self.kid}

    def public_raw(self) -> bytes:
        return public_key_to_raw(self.public_key)

    def __repr__(self) -> str:  # never print key material
        return f"{type(self).__name__}(kid={self.kid!r})"


class CardKey(_P256Key):
    """Signs reader card tokens. Published to gates through the trust list."""

    __slots__ = ()


class AnchorKey(_P256Key):
    """The province trust anchor: signs trust lists and status lists; gates pin its public key."""

    __slots__ = ()


@dataclass(frozen=True)
class PinnedAnchors:
    """The anchor public keys a gate trusts, by key id.

    Usually one; two while the province rotates its anchor, so gates can be re-pinned
    before the new anchor starts signing.
    """

    keys: Mapping[str, ec.EllipticCurvePublicKey] = field(default_factory=dict)

    @classmethod
    def of(cls, *public_keys: ec.EllipticCurvePublicKey) -> PinnedAnchors:
        return cls.from_keys(public_keys)

    @classmethod
    def from_keys(cls, public_keys: Iterable[ec.EllipticCurvePublicKey]) -> PinnedAnchors:
        keys: dict[str, ec.EllipticCurvePublicKey] = {}
        for public_key in public_keys:
            if not isinstance(public_key.curve, ec.SECP256R1):
                raise InvalidKey("anchor keys must be P-256")
            kid = key_id(public_key)
            if kid in keys:
                raise InvalidKey(f"anchor key id {kid} is pinned twice")
            keys[kid] = public_key
        if not keys:
            raise InvalidKey("at least one anchor key must be pinned")
        return cls(keys)

    def get(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        return self.keys.get(kid)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)
