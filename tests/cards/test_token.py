"""Token format v1: layout, text form and strict decoding (cards/FORMAT.md §2-§4)."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cards import (
    TEXT_LENGTH,
    MalformedToken,
    TokenFieldError,
    decode_token,
    new_serial,
    new_serials,
)
from cards.token import (
    P256_HALF_ORDER,
    P256_ORDER,
    base32_to_bytes,
    decode_token_bytes,
    serial_from_text,
    serial_to_text,
)

from .conftest import NOW, World

SERIAL = bytes.fromhex("00112233445566778899")


def test_layout_matches_the_specification(world: World) -> None:
    text = world.signer.sign(SERIAL, 0x01020304, 0x1234567890, 300)
    assert len(text) == 147 == TEXT_LENGTH
    assert text.startswith("RP1")
    raw = base64.b32decode(text[3:])
    assert raw[0] == 1
    assert raw[1:5] == bytes.fromhex(world.card_key.kid)
    assert raw[5:15] == SERIAL
    assert raw[15:19] == bytes.fromhex("01020304")
    assert raw[19:24] == bytes.fromhex("1234567890")
    assert raw[24:26] == struct.pack(">H", 300)
    assert len(raw) == 90


def test_decode_returns_the_signed_fields(world: World) -> None:
    token = decode_token(world.signer.sign(SERIAL, 7, NOW, 120))
    assert (token.serial, token.status_index, token.issued_at, token.lifetime) == (
        SERIAL,
        7,
        NOW,
        120,
    )
    assert token.expires_at == NOW + 120
    assert token.kid == world.card_key.kid


def test_signatures_are_low_s(world: World) -> None:
    for issued_at in range(NOW, NOW + 64):  # P(all 64 low-S by chance) = 2**-64
        s = int.from_bytes(
            decode_token(world.signer.sign(SERIAL, 1, issued_at, 60)).signature[32:], "big"
        )
        assert 0 < s <= P256_HALF_ORDER


def test_high_s_twin_is_malformed(world: World) -> None:
    raw = bytearray(base64.b32decode(world.signer.sign(SERIAL, 1, NOW, 60)[3:]))
    s = int.from_bytes(raw[58:], "big")
    raw[58:] = (P256_ORDER - s).to_bytes(32, "big")
    with pytest.raises(MalformedToken, match="low-S"):
        decode_token("RP1" + base64.b32encode(bytes(raw)).decode())


def test_lower_case_is_accepted_for_caps_lock_scanners(world: World) -> None:
    text = world.signer.sign(SERIAL, 1, NOW, 60)
    assert decode_token(text.lower()) == decode_token(text)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t[:-1], "147 characters"),
        (lambda t: t + "A", "147 characters"),
        (lambda t: "RP2" + t[3:], "does not start"),
        (lambda t: t[:50] + "1" + t[51:], "outside base32"),
        (lambda t: t[:50] + "=" + t[51:], "outside base32"),
        (lambda t: t[:50] + " " + t[51:], "outside base32"),
        (lambda t: t[:50] + "É" + t[51:], "non-ASCII"),
        (lambda t: t[:-8] + "========", "outside base32"),
    ],
)
def test_malformed_texts_are_refused_with_a_reason(
    world: World, mutate: Callable[[str], str], message: str
) -> None:
    with pytest.raises(MalformedToken, match=message):
        decode_token(mutate(world.signer.sign(SERIAL, 1, NOW, 60)))


def test_position_of_the_bad_character_is_reported(world: World) -> None:
    text = world.signer.sign(SERIAL, 1, NOW, 60)
    with pytest.raises(MalformedToken) as caught:
        decode_token(text[:99] + "8" + text[100:])
    assert caught.value.position == 99


def test_wrong_version_byte_and_zero_lifetime_are_malformed(world: World) -> None:
    raw = bytearray(base64.b32decode(world.signer.sign(SERIAL, 1, NOW, 60)[3:]))
    wrong_version = bytearray(raw)
    wrong_version[0] = 2
    with pytest.raises(MalformedToken, match="version"):
        decode_token_bytes(bytes(wrong_version))
    zero_life = bytearray(raw)
    zero_life[24:26] = b"\0\0"
    with pytest.raises(MalformedToken, match="lifetime"):
        decode_token_bytes(bytes(zero_life))


def test_non_text_input_is_malformed() -> None:
    with pytest.raises(MalformedToken):
        decode_token(b"RP1" * 49)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("serial", {"serial": b"short"}),
        ("status_index", {"status_index": -1}),
        ("status_index", {"status_index": 2**32}),
        ("issued_at", {"issued_at": 2**40}),
        ("lifetime", {"lifetime": 0}),
        ("lifetime", {"lifetime": 65_536}),
        ("status_index", {"status_index": True}),
    ],
)
def test_signer_rejects_values_that_do_not_fit(
    world: World, field: str, kwargs: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {
        "serial": SERIAL,
        "status_index": 1,
        "issued_at": NOW,
        "lifetime": 60,
    }
    arguments.update(kwargs)
    with pytest.raises(TokenFieldError) as caught:
        world.signer.sign(**arguments)
    assert caught.value.field == field


def test_serials_are_random_and_have_a_text_form() -> None:
    first, second = new_serial(), new_serial()
    assert first != second and len(first) == 10
    assert serial_from_text(serial_to_text(first)) == first
    assert len(serial_to_text(first)) == 16
    with pytest.raises(MalformedToken):
        serial_from_text("not a serial!!!!")


@given(st.text(max_size=300))
def test_random_text_only_ever_raises_malformed(text: str) -> None:
    try:
        decode_token(text)
    except MalformedToken:
        pass
    else:  # a random text decoding would need a valid low-S scalar pair at least
        assert len(text) == TEXT_LENGTH


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=144, max_size=144))
def test_random_base32_bodies_decode_or_raise_malformed(body: str) -> None:
    try:
        token = decode_token("RP1" + body)
    except MalformedToken:
        return
    assert len(token.signed_bytes) == 26 and len(token.signature) == 64


@given(st.binary(min_size=90, max_size=90) | st.binary(min_size=10, max_size=10))
def test_fast_base32_agrees_with_the_standard_library(raw: bytes) -> None:
    text = base64.b32encode(raw).decode()
    assert base32_to_bytes(text, len(raw)) == base64.b32decode(text) == raw


def test_fast_base32_refuses_a_length_that_is_not_whole_bytes() -> None:
    with pytest.raises(ValueError, match="do not make"):
        base32_to_bytes("A" * 143, 90)



def test_serials_in_bulk_are_distinct_and_whole() -> None:
    serials = new_serials(2000)
    assert len(serials) == 2000 and len(set(serials)) == 2000
    assert all(len(serial) == 10 for serial in serials)
    assert new_serials(0) == []
