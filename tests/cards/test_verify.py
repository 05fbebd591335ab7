"""Full offline verification: every refusal reason, order of checks, mutation properties."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards import (
    CardKey,
    MemoryReplayCache,
    Reason,
    StatusList,
    TokenSigner,
    TrustedKey,
    TrustList,
    Verdict,
    verify,
)

from .conftest import ISSUER, NOW, REVOKED_INDEX, SIZE, World

SERIAL = bytes(range(10))
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _check(
    world: World, text: str, now: int = NOW, cache: MemoryReplayCache | None = None, **kwargs: int
) -> Verdict:
    if cache is None:
        cache = MemoryReplayCache()
    return verify(text, world.trust_list, world.status_list, cache, now, **kwargs)


def test_valid_token_is_admitted_with_its_fields(world: World) -> None:
    verdict = _check(world, world.signer.sign(SERIAL, 5, NOW - 10, 60))
    assert verdict.ok and verdict.reason == "ok"
    assert (verdict.serial, verdict.status_index, verdict.issued_at, verdict.expires_at) == (
        SERIAL,
        5,
        NOW - 10,
        NOW + 50,
    )
    assert verdict.key_id == world.card_key.kid
    assert verdict.serial_text == "AAAQEAYEAUDAOCAJ"


def test_malformed_text_has_no_fields(world: World) -> None:
    verdict = _check(world, "RP1HELLO")
    assert verdict.reason is Reason.MALFORMED and verdict.serial is None
    assert "147" in verdict.detail


def test_unknown_key(world: World) -> None:
    stranger = TokenSigner(CardKey.generate())
    verdict = _check(world, stranger.sign(SERIAL, 5, NOW, 60))
    assert verdict.reason is Reason.UNKNOWN_KEY and verdict.serial == SERIAL


def test_key_outside_its_validity_window_is_unknown(world: World) -> None:
    verdict = _check(world, world.signer.sign(SERIAL, 5, NOW + 86_401, 60), now=NOW + 86_401)
    assert verdict.reason is Reason.UNKNOWN_KEY and "not trusted for tokens" in verdict.detail


def test_signature_by_an_untrusted_key_using_a_trusted_kid_is_bad(world: World) -> None:
    forger = TokenSigner(CardKey.generate())
    forger._kid = world.card_key.kid_bytes  # forge the key id only
    assert _check(world, forger.sign(SERIAL, 5, NOW, 60)).reason is Reason.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("issued_at", "lifetime", "skew", "reason"),
    [
        (NOW + 31, 60, 30, Reason.NOT_YET_VALID),
        (NOW + 30, 60, 30, Reason.OK),
        (NOW + 5, 60, 0, Reason.NOT_YET_VALID),
        (NOW - 90, 60, 30, Reason.EXPIRED),
        (NOW - 89, 60, 30, Reason.OK),
        (NOW - 60, 60, 0, Reason.EXPIRED),
        (NOW - 59, 60, 0, Reason.OK),
    ],
)
def test_time_window_with_skew(
    world: World, issued_at: int, lifetime: int, skew: int, reason: Reason
) -> None:
    verdict = _check(world, world.signer.sign(SERIAL, 5, issued_at, lifetime), skew=skew)
    assert verdict.reason is reason


def test_revoked_card(world: World) -> None:
    verdict = _check(world, world.signer.sign(SERIAL, REVOKED_INDEX, NOW, 60))
    assert verdict.reason is Reason.REVOKED and "version 1" in verdict.detail


def test_index_beyond_the_status_list_fails_closed(world: World) -> None:
    verdict = _check(world, world.signer.sign(SERIAL, SIZE, NOW, 60))
    assert verdict.reason is Reason.REVOKED and "beyond" in verdict.detail


def test_replay_is_refused_even_with_the_malleated_or_recased_twin(world: World) -> None:
    cache = MemoryReplayCache()
    first = world.signer.sign(SERIAL, 5, NOW, 60)
    second = world.signer.sign(SERIAL, 5, NOW, 60)  # new ECDSA nonce: other signature bytes
    assert first != second
    assert _check(world, first, cache=cache).ok
    assert _check(world, second, cache=cache).reason is Reason.REPLAYED
    assert _check(world, first.lower(), now=NOW + 20, cache=cache).reason is Reason.REPLAYED
    # the next slot of the same card is a different token
    assert _check(world, world.signer.sign(SERIAL, 5, NOW + 60, 60), NOW + 60, cache).ok


def test_failed_tokens_do_not_enter_the_replay_cache(world: World) -> None:
    cache = MemoryReplayCache()
    expired = world.signer.sign(SERIAL, 5, NOW - 1000, 60)
    revoked = world.signer.sign(SERIAL, REVOKED_INDEX, NOW, 60)
    future = world.signer.sign(SERIAL, 5, NOW + 500, 60)
    for text in (expired, revoked, future):
        assert not _check(world, text, cache=cache).ok
    forged = bytearray(base64.b32decode(world.signer.sign(SERIAL, 5, NOW, 60)[3:]))
    forged[30] ^= 1
    assert _check(world, "RP1" + base64.b32encode(bytes(forged)).decode(), cache=cache).reason in {
        Reason.BAD_SIGNATURE,
        Reason.MALFORMED,
    }
    assert len(cache) == 0
    # the refused future token was not recorded: it is admitted once its time comes
    assert _check(world, future, now=NOW + 500, cache=cache).ok
    assert len(cache) == 1


def test_retired_key_keeps_its_earlier_tokens(world: World) -> None:
    key = CardKey.generate()
    trust = TrustList.build(ISSUER, 2, NOW, [TrustedKey(key.public_key, NOW - 100, NOW)])
    signer = TokenSigner(key)
    status = StatusList.empty(SIZE, 1, NOW)
    cache = MemoryReplayCache()
    assert verify(signer.sign(SERIAL, 1, NOW, 60), trust, status, cache, NOW + 30).ok
    late = verify(signer.sign(SERIAL, 1, NOW + 1, 60), trust, status, cache, NOW + 30)
    assert late.reason is Reason.UNKNOWN_KEY


def test_batch_covers_consecutive_slots(world: World) -> None:
    batch = world.signer.batch(SERIAL, 5, start=NOW, slots=1440, slot_seconds=60)
    assert len(batch) == 1440 and len({t.text for t in batch}) == 1440
    assert [t.issued_at for t in batch[:3]] == [NOW, NOW + 60, NOW + 120]
    assert batch[-1].expires_at == NOW + 1439 * 60 + 120
    cache = MemoryReplayCache()
    for slot in (0, 700, 1439):
        now = NOW + slot * 60 + 59
        assert _check(world, batch[slot].text, now=now, cache=cache).ok
    assert _check(world, batch[0].text, now=NOW + 60 * 60).reason is Reason.EXPIRED


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_random_text_never_verifies(world: World, text: str) -> None:
    verdict = _check(world, text)
    assert verdict.reason is Reason.MALFORMED


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bit=st.integers(0, 90 * 8 - 1), issued_at=st.integers(NOW - 30, NOW))
def test_any_bit_flip_is_refused(world: World, bit: int, issued_at: int) -> None:
    text = world.signer.sign(SERIAL, 5, issued_at, 60)
    raw = bytearray(base64.b32decode(text[3:]))
    raw[bit // 8] ^= 1 << (bit % 8)
    verdict = _check(world, "RP1" + base64.b32encode(bytes(raw)).decode())
    assert not verdict.ok
    assert verdict.reason in {Reason.MALFORMED, Reason.UNKNOWN_KEY, Reason.BAD_SIGNATURE}


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 146), replacement=st.characters(codec="utf-8"))
def test_any_character_change_is_refused(world: World, position: int, replacement: str) -> None:
    text = world.signer.sign(SERIAL, 5, NOW, 60)
    # Case changes are deliberately accepted (Caps Lock), so they are not mutations.
    if replacement.upper() == text[position].upper() or len(replacement.upper()) != 1:
        replacement = ALPHABET[(ALPHABET.index(text[position]) + 1) % 32] if position > 2 else "X"
    mutated = text[:position] + replacement + text[position + 1 :]
    assert mutated.upper() != text
    verdict = _check(world, mutated)
    assert not verdict.ok
    assert verdict.reason in {Reason.MALFORMED, Reason.UNKNOWN_KEY, Reason.BAD_SIGNATURE}
