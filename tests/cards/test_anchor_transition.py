"""Anchor transitions (FORMAT.md §11): signing, strict reading, following a chain from
the pinned anchor, refusing forgeries; malformed input never crashes the parser."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards import AnchorKey, PinnedAnchors, SignedDocumentError, public_key_to_jwk
from cards.anchor_transition import (
    ANCHOR_TRANSITION_TYPE,
    follow_transitions,
    load_anchor_transition,
    parse_transition_list,
    sign_anchor_transition,
    transition_list,
)
from cards.jws import sign_document

from .conftest import NOW

ISSUER = "https://id.example.org"
OLD, MIDDLE, NEW = AnchorKey.generate(), AnchorKey.generate(), AnchorKey.generate()


def _step(previous: AnchorKey, following: AnchorKey, sequence: int) -> str:
    return sign_anchor_transition(previous, following.public_key, issuer=ISSUER,
                                  sequence=sequence, issued_at=NOW + sequence)


CHAIN = [_step(OLD, MIDDLE, 1), _step(MIDDLE, NEW, 2)]


def test_round_trip():
    step = load_anchor_transition(CHAIN[0], PinnedAnchors.of(OLD.public_key))
    assert (step.previous_kid, step.next_kid, step.sequence, step.issuer) == (
        OLD.kid, MIDDLE.kid, 1, ISSUER)
    with pytest.raises(SignedDocumentError, match="not pinned"):
        load_anchor_transition(CHAIN[0], PinnedAnchors.of(NEW.public_key))


@pytest.mark.parametrize("pinned, expected_steps", [(OLD, 2), (MIDDLE, 1), (NEW, 0)])
def test_following_the_chain_from_any_point_ends_at_the_newest(pinned, expected_steps):
    followed = follow_transitions(CHAIN, PinnedAnchors.of(pinned.public_key), ISSUER)
    assert list(followed.anchors) == [NEW.kid]
    assert len(followed.steps) == expected_steps


def test_a_transition_not_signed_by_the_pinned_anchor_is_refused():
    impostor = AnchorKey.generate()
    impostor.kid = OLD.kid  # names the pinned anchor in header and claims
    forged = sign_anchor_transition(impostor, AnchorKey.generate().public_key, issuer=ISSUER,
                                    sequence=1, issued_at=NOW)
    with pytest.raises(SignedDocumentError, match="forged or damaged") as caught:
        follow_transitions([forged], PinnedAnchors.of(OLD.public_key), ISSUER)
    assert caught.value.reason == "signature"
    # Signed by another key under its own id but claiming to leave the pinned anchor.
    other = AnchorKey.generate()
    claims = {"iss": ISSUER, "sequence": 1, "iat": NOW, "previous_kid": OLD.kid,
              "next_kid": other.kid, "next_jwk": public_key_to_jwk(other.public_key)}
    lying = sign_document(other, ANCHOR_TRANSITION_TYPE, claims)
    with pytest.raises(SignedDocumentError, match="forged or damaged"):
        follow_transitions([lying], PinnedAnchors.of(OLD.public_key), ISSUER)


@pytest.mark.parametrize("change, message", [
    ({"next_kid": "00000000"}, "next_kid does not match"),
    ({"previous_kid": MIDDLE.kid}, "names anchor"),
    ({"next_jwk": {"kty": "EC"}}, "next_jwk"),
    ({"sequence": 0}, "sequence"),
    ({"iss": 7}, "iss"),
])
def test_bad_claims_are_refused_with_a_specific_error(change, message):
    claims = {"iss": ISSUER, "sequence": 1, "iat": NOW, "previous_kid": OLD.kid,
              "next_kid": NEW.kid, "next_jwk": public_key_to_jwk(NEW.public_key), **change}
    text = sign_document(OLD, ANCHOR_TRANSITION_TYPE, claims)
    with pytest.raises(SignedDocumentError, match=message):
        load_anchor_transition(text, PinnedAnchors.of(OLD.public_key))


def test_another_issuer_and_other_document_types_are_refused():
    elsewhere = sign_anchor_transition(OLD, NEW.public_key, issuer="https://other.example",
                                       sequence=1, issued_at=NOW)
    with pytest.raises(SignedDocumentError, match="another issuer"):
        follow_transitions([elsewhere], PinnedAnchors.of(OLD.public_key), ISSUER)
    trust_like = sign_document(OLD, "readerpass-trust-list+jwt", {"previous_kid": OLD.kid})
    with pytest.raises(SignedDocumentError, match="type"):
        follow_transitions([trust_like], PinnedAnchors.of(OLD.public_key), ISSUER)
    with pytest.raises(SignedDocumentError, match="another issuer"):
        parse_transition_list(transition_list("https://other.example", CHAIN), ISSUER)
    assert parse_transition_list(transition_list(ISSUER, CHAIN), ISSUER) == CHAIN


PINNED = PinnedAnchors.of(OLD.public_key)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@given(st.binary(max_size=300))
def test_any_bytes_as_a_list_give_a_clear_error_or_a_list(data):
    try:
        texts = parse_transition_list(data, ISSUER)
    except SignedDocumentError as exc:
        assert exc.document == "anchor transition list" and exc.message
    else:
        assert all(isinstance(t, str) for t in texts)


@given(st.lists(st.text(max_size=200), max_size=4))
def test_any_text_as_transitions_gives_a_clear_error(texts):
    try:
        follow_transitions(texts, PINNED, ISSUER)
    except SignedDocumentError as exc:
        assert exc.reason in {"format", "type", "signature", "unknown_anchor", "content"}


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(st.dictionaries(st.sampled_from(["iss", "sequence", "iat", "previous_kid", "next_kid",
                                        "next_jwk", "x"]), _json, max_size=7))
def test_any_claims_signed_by_the_anchor_give_a_clear_error_or_a_transition(claims):
    text = sign_document(OLD, ANCHOR_TRANSITION_TYPE, {"previous_kid": OLD.kid, **claims})
    try:
        followed = follow_transitions([text], PINNED, ISSUER)
    except SignedDocumentError as exc:
        assert exc.message
    else:
        assert len(followed.steps) in (0, 1)


@given(st.integers(0, len(CHAIN[0]) - 1), st.sampled_from("A_-.x=0"))
def test_a_damaged_transition_never_passes_and_never_crashes(position, char):
    text = CHAIN[0]
    damaged = text[:position] + char + text[position + 1:]
    try:
        followed = follow_transitions([damaged], PINNED, ISSUER)
    except SignedDocumentError:
        return
    # Only a change that leaves the meaning intact may pass (or one making it not ours).
    assert damaged == text or [s.next_kid for s in followed.steps] in ([MIDDLE.kid], [])


_segment = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=",
                   max_size=60)


@given(_segment, _segment, _segment, st.sampled_from(CHAIN[0].split(".")))
def test_jws_shaped_garbage_gives_a_clear_error(header, payload, signature, real):
    for text in (f"{header}.{payload}.{signature}", f"{real}.{payload}.{signature}",
                 f"{CHAIN[0].split('.')[0]}.{payload}.{signature}"):
        try:
            follow_transitions([text], PINNED, ISSUER)
        except SignedDocumentError as exc:
            assert exc.message
