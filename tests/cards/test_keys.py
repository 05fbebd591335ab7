"""Key generation, short key ids and serialisation (PEM, JWK, raw point)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from cards import (
    AnchorKey,
    CardKey,
    InvalidKey,
    PinnedAnchors,
    key_id,
    public_key_from_jwk,
    public_key_from_raw,
    public_key_to_jwk,
    public_key_to_raw,
)
from cards.keys import b64url_decode


def test_key_id_is_the_rfc7638_thumbprint_prefix() -> None:
    key = CardKey.generate()
    jwk = public_key_to_jwk(key.public_key)
    members = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    thumbprint = hashlib.sha256(members.encode()).digest()
    assert key.kid == thumbprint[:4].hex() == key_id(key.public_key)
    assert key.kid_bytes == thumbprint[:4]


def test_pem_round_trip_keeps_the_key_and_id() -> None:
    key = AnchorKey.generate()
    loaded = AnchorKey.from_pem(key.to_pem())
    assert loaded.kid == key.kid
    assert loaded.private_key.private_numbers() == key.private_key.private_numbers()


def test_encrypted_pem_needs_its_password() -> None:
    key = CardKey.generate()
    pem = key.to_pem(password=b"correct horse")
    assert b"ENCRYPTED" in pem
    assert CardKey.from_pem(pem, password=b"correct horse").kid == key.kid
    with pytest.raises(InvalidKey):
        CardKey.from_pem(pem, password=b"wrong")
    with pytest.raises(InvalidKey):
        CardKey.from_pem(pem)


def test_pem_of_the_wrong_kind_is_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    ed = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidKey, match="elliptic"):
        CardKey.from_pem(ed)
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidKey, match="P-256"):
        CardKey.from_pem(p384)
    with pytest.raises(InvalidKey):
        CardKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


def test_public_key_serialisations_round_trip() -> None:
    key = CardKey.generate()
    assert key_id(public_key_from_jwk(key.public_jwk())) == key.kid
    raw = public_key_to_raw(key.public_key)
    assert len(raw) == 65 and raw[0] == 4
    assert key_id(public_key_from_raw(raw)) == key.kid
    assert key.public_raw() == raw
    assert "d" not in key.public_jwk()


def test_point_off_the_curve_is_refused() -> None:
    raw = bytearray(public_key_to_raw(CardKey.generate().public_key))
    raw[-1] ^= 1
    with pytest.raises(InvalidKey, match="not a point on P-256"):
        public_key_from_raw(bytes(raw))


@pytest.mark.parametrize(
    "change",
    [
        {"kty": "RSA"},
        {"crv": "P-384"},
        {"x": "!!!"},
        {"x": base64.urlsafe_b64encode(b"\1" * 31).rstrip(b"=").decode()},
        {"d": "AAAA"},
        {"y": None},
    ],
)
def test_bad_jwks_are_refused(change: dict[str, object]) -> None:
    jwk: dict[str, object] = {**public_key_to_jwk(CardKey.generate().public_key), **change}
    with pytest.raises(InvalidKey):
        public_key_from_jwk(jwk)


def test_repr_does_not_leak_key_material() -> None:
    key = CardKey.generate()
    assert repr(key) == f"CardKey(kid={key.kid!r})"


def test_pinned_anchors_refuse_duplicates_and_emptiness() -> None:
    anchor = AnchorKey.generate()
    with pytest.raises(InvalidKey):
        PinnedAnchors.of(anchor.public_key, anchor.public_key)
    with pytest.raises(InvalidKey):
        PinnedAnchors.of()
    assert list(PinnedAnchors.of(anchor.public_key)) == [anchor.kid]


def test_b64url_decoding_is_canonical() -> None:
    assert b64url_decode("AQ") == b"\x01"
    for bad in ("AR", "AQ==", "A", "A+"):
        with pytest.raises(ValueError):
            b64url_decode(bad)
