"""Fixtures for the card tests: keys, a signed trust list and status list, a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cards import (
    AnchorKey,
    CardKey,
    PinnedAnchors,
    StatusList,
    TokenSigner,
    TrustedKey,
    TrustList,
    load_status_list,
    load_trust_list,
    sign_status_list,
    sign_trust_list,
)

NOW = 1_760_000_000
ISSUER = "https://id.example.org"
SIZE = 10_000
REVOKED_INDEX = 666


@dataclass
class World:
    anchor: AnchorKey
    anchors: PinnedAnchors
    card_key: CardKey
    signer: TokenSigner
    trust_list: TrustList
    status_list: StatusList


@pytest.fixture(scope="session")
def world() -> World:
    anchor = AnchorKey.generate()
    anchors = PinnedAnchors.of(anchor.public_key)
    card_key = CardKey.generate()
    trusted = TrustedKey(card_key.public_key, not_before=NOW - 86_400, not_after=NOW + 86_400)
    trust_text = sign_trust_list(TrustList.build(ISSUER, 1, NOW - 60, [trusted]), anchor)
    status = StatusList.from_indices(SIZE, [REVOKED_INDEX], version=1, issued_at=NOW - 60)
    return World(
        anchor=anchor,
        anchors=anchors,
        card_key=card_key,
        signer=TokenSigner(card_key),
        trust_list=load_trust_list(trust_text, anchors),
        status_list=load_status_list(sign_status_list(status, anchor, ISSUER), anchors),
    )
