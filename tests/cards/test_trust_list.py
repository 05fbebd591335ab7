"""Trust list: build, sign, verify against the pinned anchor, strict reading."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cards import (
    AnchorKey,
    CardKey,
    InvalidKey,
    PinnedAnchors,
    SignedDocumentError,
    TrustedKey,
    TrustList,
    load_trust_list,
    sign_trust_list,
)
from cards.jws import sign_document
from cards.keys import b64url_decode, b64url_encode, public_key_to_jwk
from cards.trust_list import TRUST_LIST_TYPE

from .conftest import ISSUER, NOW, World


def _trusted(key: CardKey) -> TrustedKey:
    return TrustedKey(key.public_key, not_before=NOW - 10, not_after=NOW + 10)


def test_round_trip_keeps_keys_and_validity(world: World) -> None:
    keys = [CardKey.generate(), CardKey.generate()]
    text = sign_trust_list(TrustList.build(ISSUER, 3, NOW, map(_trusted, keys)), world.anchor)
    loaded = load_trust_list(text, world.anchors)
    assert (loaded.issuer, loaded.version, loaded.issued_at) == (ISSUER, 3, NOW)
    assert loaded.signed == text
    for key in keys:
        trusted = loaded.get(key.kid_bytes)
        assert trusted is not None
        assert trusted.kid == key.kid
        assert public_key_to_jwk(trusted.public_key) == public_key_to_jwk(key.public_key)
        assert (trusted.not_before, trusted.not_after) == (NOW - 10, NOW + 10)
    assert loaded.get(b"\0\0\0\0") is None


def test_signed_by_another_anchor_is_refused(world: World) -> None:
    stranger = AnchorKey.generate()
    text = sign_trust_list(TrustList.build(ISSUER, 1, NOW, []), stranger)
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(text, world.anchors)
    assert caught.value.reason == "unknown_anchor"


def test_another_anchor_claiming_the_pinned_kid_is_refused(world: World) -> None:
    stranger = AnchorKey.generate()
    stranger.kid = world.anchor.kid  # forge the header's kid
    text = sign_trust_list(TrustList.build(ISSUER, 1, NOW, []), stranger)
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(text, world.anchors)
    assert caught.value.reason == "signature"


def test_tampered_payload_is_refused(world: World) -> None:
    key = CardKey.generate()
    text = sign_trust_list(TrustList.build(ISSUER, 1, NOW, [_trusted(key)]), world.anchor)
    header, payload, signature = text.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["keys"][0]["not_after"] = NOW + 10**9
    forged = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(forged, world.anchors)
    assert caught.value.reason == "signature"


def test_tampered_signature_is_refused(world: World) -> None:
    text = sign_trust_list(TrustList.build(ISSUER, 1, NOW, []), world.anchor)
    header, payload, signature = text.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 0x40
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(".".join([header, payload, b64url_encode(bytes(raw))]), world.anchors)
    assert caught.value.reason == "signature"


def test_other_document_types_do_not_pass_as_trust_lists(world: World) -> None:
    text = sign_document(
        world.anchor, "readerpass-status-list+jwt", TrustList.build(ISSUER, 1, NOW, []).claims()
    )
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(text, world.anchors)
    assert caught.value.reason == "type"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c.pop("version"),
        lambda c: c.update(version="1"),
        lambda c: c.update(iat=True),
        lambda c: c.update(keys={}),
        lambda c: c["keys"][0].update(kid="00000000"),
        lambda c: c["keys"][0].update(jwk="nope"),
        lambda c: c["keys"][0].update(not_after=NOW - 100),
        lambda c: c["keys"].append(dict(c["keys"][0])),
    ],
)
def test_signed_but_invalid_content_is_refused(
    world: World, mangle: Callable[[dict[str, Any]], object]
) -> None:
    claims = TrustList.build(ISSUER, 1, NOW, [_trusted(CardKey.generate())]).claims()
    mangle(claims)
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(sign_document(world.anchor, TRUST_LIST_TYPE, claims), world.anchors)
    assert caught.value.reason == "content"


@pytest.mark.parametrize("text", ["", "a.b", "a.b.c", "é.é.é", "x" * 5_000_000, "..."])
def test_garbage_is_a_format_error(world: World, text: str) -> None:
    with pytest.raises(SignedDocumentError) as caught:
        load_trust_list(text, world.anchors)
    assert caught.value.reason == "format"


def test_builder_refuses_duplicate_ids_and_mismatched_kid() -> None:
    key = CardKey.generate()
    with pytest.raises(InvalidKey):
        TrustList.build(ISSUER, 1, NOW, [_trusted(key), _trusted(key)])
    with pytest.raises(InvalidKey):
        TrustedKey(key.public_key, NOW, NOW, kid="deadbeef")


def test_a_second_pinned_anchor_allows_rotation(world: World) -> None:
    new_anchor = AnchorKey.generate()
    both = PinnedAnchors.of(world.anchor.public_key, new_anchor.public_key)
    text = sign_trust_list(TrustList.build(ISSUER, 1, NOW, []), new_anchor)
    assert load_trust_list(text, both).version == 1
