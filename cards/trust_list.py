"""The trust list: which card keys a gate accepts, and for which issue times.

A JWS (see :mod:`cards.jws`) of type ``readerpass-trust-list+jwt`` signed by the
province anchor; claims (FORMAT.md §6)::

    {"iss": "https://id.example.org", "version": 7, "iat": 1760000000,
     "keys": [{"kid": "1a2b3c4d", "jwk": {"kty": "EC", "crv": "P-256", "x": ..., "y": ...},
               "not_before": 1750000000, "not_after": 1790000000}]}

A key is trusted for tokens whose ``issued_at`` lies in [not_before, not_after]. Retiring
a key means setting ``not_after`` to the retirement time: tokens it issued before then
keep working until they expire, later ones are refused. Versions only grow; a gate never
goes back to an older list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from cryptography.hazmat.primitives.asymmetric import ec

from cards.errors import InvalidKey, SignedDocumentError
from cards.jws import ClaimReader, sign_document, verify_document
from cards.keys import AnchorKey, PinnedAnchors, key_id, public_key_from_jwk, public_key_to_jwk

TRUST_LIST_TYPE = "readerpass-trust-list+jwt"
_DOCUMENT = "trust list"
MAX_KEYS = 1000


@dataclass(frozen=True)
class TrustedKey:
    """A card-signing public key and the issue times it is trusted for (inclusive)."""

    public_key: ec.EllipticCurvePublicKey
    not_before: int
    not_after: int
    kid: str = field(default="")

    def __post_init__(self) -> None:
        if not isinstance(self.public_key.curve, ec.SECP256R1):
            raise InvalidKey("card keys must be P-256")
        derived = key_id(self.public_key)
        if self.kid and self.kid != derived:
            raise InvalidKey(f"key id {self.kid} does not match the key (expected {derived})")
        object.__setattr__(self, "kid", derived)
        if self.not_after < self.not_before:
            raise InvalidKey(f"key {derived}: not_after is before not_before")

    def covers(self, issued_at: int) -> bool:
        return self.not_before <= issued_at <= self.not_after


@dataclass(frozen=True)
class TrustList:
    """A verified (or about to be signed) trust list. ``signed`` is its JWS, if any."""

    issuer: str
    version: int
    issued_at: int
    keys: Mapping[bytes, TrustedKey]
    signed: str = ""

    @classmethod
    def build(
        cls, issuer: str, version: int, issued_at: int, keys: Iterable[TrustedKey]
    ) -> TrustList:
        by_id: dict[bytes, TrustedKey] = {}
        for trusted in keys:
            kid = bytes.fromhex(trusted.kid)
            if kid in by_id:
                raise InvalidKey(f"key id {trusted.kid} appears twice in the trust list")
            by_id[kid] = trusted
        if len(by_id) > MAX_KEYS:
            raise InvalidKey(f"a trust list holds at most {MAX_KEYS} keys")
        return cls(issuer, version, issued_at, by_id)

    def get(self, kid: bytes) -> TrustedKey | None:
        return self.keys.get(kid)

    def claims(self) -> dict[str, object]:
        return {
            "iss": self.issuer,
            "version": self.version,
            "iat": self.issued_at,
            "keys": [
                {
                    "kid": k.kid,
                    "jwk": public_key_to_jwk(k.public_key),
                    "not_before": k.not_before,
                    "not_after": k.not_after,
                }
                for k in sorted(self.keys.values(), key=lambda k: k.kid)
            ],
        }


def sign_trust_list(trust_list: TrustList, anchor: AnchorKey) -> str:
    """The JWS a gate downloads."""
    return sign_document(anchor, TRUST_LIST_TYPE, trust_list.claims())


def _read_entry(entry: object, position: int) -> TrustedKey:
    where = f"keys[{position}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("jwk"), dict):
        raise SignedDocumentError(
            f"{where} is not an object with a jwk", document=_DOCUMENT, reason="content"
        )
    item = ClaimReader(entry, _DOCUMENT)
    try:
        return TrustedKey(
            public_key=public_key_from_jwk(entry["jwk"]),
            not_before=item.integer("not_before"),
            not_after=item.integer("not_after"),
            kid=item.string("kid"),
        )
    except InvalidKey as exc:
        raise SignedDocumentError(
            f"{where}: {exc.message}", document=_DOCUMENT, reason="content"
        ) from exc


def load_trust_list(text: str, anchors: PinnedAnchors) -> TrustList:
    """Verify a trust list JWS against the pinned anchors and read it strictly.

    Raises :class:`SignedDocumentError`; a key entry whose id does not match its key
    (RFC 7638 thumbprint prefix) is refused as ``content``.
    """
    verified = verify_document(text, anchors, TRUST_LIST_TYPE, _DOCUMENT)
    reader = ClaimReader(verified.claims, _DOCUMENT)
    entries = reader.array("keys")
    if len(entries) > MAX_KEYS:
        raise reader.error(f"a trust list holds at most {MAX_KEYS} keys")
    keys = [_read_entry(entry, position) for position, entry in enumerate(entries)]
    try:
        built = TrustList.build(
            reader.string("iss"), reader.integer("version"), reader.integer("iat"), keys
        )
    except InvalidKey as exc:
        raise reader.error(exc.message) from exc
    return replace(built, signed=text)
