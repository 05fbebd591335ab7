"""Anchor transitions: how a gate follows the province from one trust anchor to the next.

A transition is a JWS (see :mod:`cards.jws`) of type ``readerpass-anchor-transition+jwt``
signed by the *outgoing* anchor, naming the incoming one (FORMAT.md §11)::

    {"iss": "https://id.example.org", "sequence": 1, "iat": 1760000000,
     "previous_kid": "1a2b3c4d", "next_kid": "5e6f7a8b",
     "next_jwk": {"kty": "EC", "crv": "P-256", "x": ..., "y": ...}}

The service publishes every transition it ever made, oldest first, in one JSON document
(``{"iss": ..., "transitions": [JWS, ...]}``). A gate walks the list from the anchors it
pins: a transition whose ``previous_kid`` it pins must verify against that anchor, and
then replaces it by the next one; transitions from anchors it does not pin (ones it
passed long ago) are skipped. A transition that claims to leave a pinned anchor but is
not signed by it is a forgery and stops the sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from cards.errors import InvalidKey, SignedDocumentError
from cards.jws import (
    _JWS,
    MAX_DOCUMENT_CHARS,
    ClaimReader,
    canonical_json,
    parse_json_object,
    sign_document,
    verify_document,
)
from cards.keys import AnchorKey, PinnedAnchors, key_id, public_key_from_jwk, public_key_to_jwk

ANCHOR_TRANSITION_TYPE = "readerpass-anchor-transition+jwt"
MEDIA_TYPE = "application/json"
MAX_TRANSITIONS = 1000
_DOCUMENT = "anchor transition"
_LIST = "anchor transition list"


def _error(message: str, reason: str = "content", document: str = _DOCUMENT) -> (
    SignedDocumentError
):
    return SignedDocumentError(message, document=document, reason=reason)


@dataclass(frozen=True)
class AnchorTransition:
    """A verified transition from anchor ``previous_kid`` to ``next_key``."""

    issuer: str
    sequence: int
    issued_at: int
    previous_kid: str
    next_key: ec.EllipticCurvePublicKey
    signed: str = ""

    @property
    def next_kid(self) -> str:
        return key_id(self.next_key)


def sign_anchor_transition(
    previous: AnchorKey,
    next_key: ec.EllipticCurvePublicKey,
    *,
    issuer: str,
    sequence: int,
    issued_at: int,
) -> str:
    """The transition from ``previous`` (which signs it) to ``next_key``."""
    next_kid = key_id(next_key)
    if next_kid == previous.kid:
        raise InvalidKey("an anchor cannot hand over to itself")
    return sign_document(previous, ANCHOR_TRANSITION_TYPE, {
        "iss": issuer, "sequence": sequence, "iat": issued_at,
        "previous_kid": previous.kid, "next_kid": next_kid,
        "next_jwk": public_key_to_jwk(next_key),
    })


def load_anchor_transition(text: str, anchors: PinnedAnchors) -> AnchorTransition:
    """Verify one transition against the pinned anchors and read it strictly.

    Raises :class:`SignedDocumentError`: ``unknown_anchor`` when no pinned anchor signed
    it, ``signature`` when the signature fails, ``format``/``type``/``content`` when the
    document is malformed.
    """
    verified = verify_document(text, anchors, ANCHOR_TRANSITION_TYPE, _DOCUMENT)
    reader = ClaimReader(verified.claims, _DOCUMENT)
    previous_kid = reader.string("previous_kid")
    if previous_kid != verified.anchor_kid:
        raise reader.error(
            f"names anchor {previous_kid} as previous but is signed by {verified.anchor_kid}")
    jwk = verified.claims.get("next_jwk")
    if not isinstance(jwk, dict):
        raise reader.error("claim 'next_jwk' must be a JWK object")
    try:
        next_key = public_key_from_jwk(jwk)
    except InvalidKey as exc:
        raise reader.error(f"next_jwk: {exc.message}") from exc
    next_kid = key_id(next_key)
    if reader.string("next_kid") != next_kid:
        raise reader.error(f"next_kid does not match next_jwk (expected {next_kid})")
    if next_kid == previous_kid:
        raise reader.error("an anchor cannot hand over to itself")
    return AnchorTransition(reader.string("iss"), reader.integer("sequence", 1),
                            reader.integer("iat"), previous_kid, next_key, signed=text)


def _claimed_previous(text: str) -> object:
    """The ``previous_kid`` a transition claims, read *without* verifying it."""
    try:
        payload = _JWS.decode_complete(text, options={"verify_signature": False})["payload"]
        return parse_json_object(payload).get("previous_kid")
    except (jwt.InvalidTokenError, ValueError, UnicodeDecodeError) as exc:
        raise _error(f"unreadable JWS: {exc}", "format") from exc


def transition_list(issuer: str, transitions: Iterable[str]) -> bytes:
    """The published document: every transition, oldest first."""
    return canonical_json({"iss": issuer, "transitions": list(transitions)})


def parse_transition_list(body: bytes, issuer: str) -> list[str]:
    """Read the published document strictly; its ``iss`` must be ``issuer``."""
    if len(body) > MAX_DOCUMENT_CHARS:
        raise _error("document too large", "format", _LIST)
    try:
        data = parse_json_object(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _error(f"not a JSON object: {exc}", "format", _LIST) from exc
    if data.get("iss") != issuer:
        raise _error("names another issuer", "content", _LIST)
    texts = data.get("transitions")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise _error("'transitions' must be an array of JWS strings", "content", _LIST)
    if len(texts) > MAX_TRANSITIONS:
        raise _error(f"more than {MAX_TRANSITIONS} transitions", "content", _LIST)
    return texts


@dataclass(frozen=True)
class Followed:
    """The anchors to pin after walking the transitions, and the steps taken."""

    anchors: PinnedAnchors
    steps: tuple[AnchorTransition, ...]


def follow_transitions(texts: Iterable[str], anchors: PinnedAnchors, issuer: str) -> Followed:
    """Walk ``texts`` (oldest first) from ``anchors``: each transition that leaves a
    pinned anchor must be signed by it and replaces it by its successor.

    Raises :class:`SignedDocumentError` for a malformed transition, one from another
    issuer, or one that claims to leave a pinned anchor without its signature (forged).
    """
    pinned = dict(anchors.keys)
    steps: list[AnchorTransition] = []
    for position, text in enumerate(texts):
        if not isinstance(text, str) or not text.isascii() or text.count(".") != 2:
            raise _error(f"transitions[{position}] is not a JWS compact serialisation",
                         "format")
        claimed = _claimed_previous(text)
        if not isinstance(claimed, str) or claimed not in pinned:
            continue  # leaves an anchor this gate does not hold (passed long ago)
        try:
            step = load_anchor_transition(text, PinnedAnchors({claimed: pinned[claimed]}))
        except SignedDocumentError as exc:
            raise _error(f"transition {position + 1} claims to hand over from the pinned "
                         f"anchor {claimed} but does not verify against it "
                         f"(forged or damaged): {exc.message}", exc.reason) from exc
        if step.issuer != issuer:
            raise _error(f"transition {position + 1} names another issuer")
        del pinned[claimed]
        pinned[step.next_kid] = step.next_key
        steps.append(step)
    return Followed(PinnedAnchors(pinned), tuple(steps))


def describe(steps: Iterable[AnchorTransition]) -> list[dict[str, object]]:
    return [{"from": s.previous_kid, "to": s.next_kid, "sequence": s.sequence}
            for s in steps]


__all__ = [
    "ANCHOR_TRANSITION_TYPE",
    "AnchorTransition",
    "Followed",
    "describe",
    "follow_transitions",
    "load_anchor_transition",
    "parse_transition_list",
    "sign_anchor_transition",
    "transition_list",
]
