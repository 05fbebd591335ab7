"""Offline verification of a card token at a gate (or by the online endpoint).

Checks run cheapest-first and in an order that keeps the replay cache clean: decode,
key lookup, signature, key validity, time window, status bit, and only then the replay
cache. So forged, expired or revoked tokens never claim a cache slot, and a token that
fails is not "used up" (FORMAT.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cards.errors import MalformedToken
from cards.replay import ReplayCache
from cards.status_list import StatusList
from cards.token import decode_token, serial_to_text
from cards.trust_list import TrustList

DEFAULT_SKEW = 30  # seconds; gate clocks synced by NTP stay well inside this
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class Reason(StrEnum):
    """Why a token was admitted or refused; stable values for logs and API answers."""

    OK = "ok"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of :func:`verify`. Token fields are set whenever the token decoded."""

    reason: Reason
    detail: str = ""
    serial: bytes | None = None
    status_index: int | None = None
    key_id: str | None = None
    issued_at: int | None = None
    expires_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK

    @property
    def serial_text(self) -> str | None:
        return None if self.serial is None else serial_to_text(self.serial)


def verify(
    text: str,
    trust_list: TrustList,
    status_list: StatusList,
    replay_cache: ReplayCache,
    now: int,
    *,
    skew: int = DEFAULT_SKEW,
) -> Verdict:
    """Verify a scanned token text at time ``now`` (Unix seconds).

    A token is valid from ``issued_at - skew`` up to, not including,
    ``issued_at + lifetime + skew``. Never raises for any input text; errors of the
    replay cache itself (e.g. Redis unreachable) propagate, so the caller fails closed.
    """
    try:
        token = decode_token(text)
    except MalformedToken as exc:
        return Verdict(Reason.MALFORMED, exc.message)

    def verdict(reason: Reason, detail: str = "") -> Verdict:
        return Verdict(
            reason,
            detail,
            token.serial,
            token.status_index,
            token.kid,
            token.issued_at,
            token.expires_at,
        )

    trusted = trust_list.get(token.key_id)
    if trusted is None:
        return verdict(
            Reason.UNKNOWN_KEY, f"key {token.kid} is not in trust list version {trust_list.version}"
        )
    signature = token.signature
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        trusted.public_key.verify(der, token.signed_bytes, _ECDSA_SHA256)
    except InvalidSignature:
        return verdict(Reason.BAD_SIGNATURE)
    if not trusted.covers(token.issued_at):
        return verdict(
            Reason.UNKNOWN_KEY,
            f"key {token.kid} is not trusted for tokens issued at {token.issued_at}",
        )
    if token.issued_at > now + skew:
        return verdict(Reason.NOT_YET_VALID, f"issued {token.issued_at - now} s in the future")
    keep_until = token.expires_at + skew - 1
    if now > keep_until:
        return verdict(Reason.EXPIRED, f"expired {now - token.expires_at} s ago")
    if status_list.is_revoked(token.status_index):
        detail = (
            "status index beyond the status list"
            if token.status_index >= status_list.size
            else f"revoked in status list version {status_list.version}"
        )
        return verdict(Reason.REVOKED, detail)
    if not replay_cache.first_use(token.serial, token.issued_at, keep_until, now):
        return verdict(Reason.REPLAYED)
    return verdict(Reason.OK)
