"""Province card numbers: 13 digits, no leading zero, a valid Luhn check digit.
Reader ids: 26 characters of base32, the creation time first, then random bits."""

from __future__ import annotations

import base64
import time

from idp.services.numbers import (
    is_card_number,
    is_reader_id,
    luhn_digit,
    new_card_number,
    new_reader_id,
)


def test_card_numbers_are_13_digits_with_a_luhn_digit_and_spread_first_digits() -> None:
    numbers = [new_card_number() for _ in range(2000)]
    assert all(len(n) == 13 and n.isdigit() and n[0] != "0" for n in numbers)
    assert all(is_card_number(n) for n in numbers)
    assert {n[0] for n in numbers} == set("123456789")
    assert len(set(numbers)) == len(numbers)


def test_luhn_digit_of_a_known_number() -> None:
    assert luhn_digit("7992739871") == "3"  # ISO/IEC 7812-1 Annex B example


def _millis(reader_id: str) -> int:
    return int.from_bytes(base64.b32decode(reader_id.upper() + "======")[:6], "big")


def test_reader_ids_carry_their_creation_millisecond_then_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_reader_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    assert all(is_reader_id(i) for i in ids)
    assert len(set(ids)) == len(ids)
    stamps = [_millis(i) for i in ids]
    assert all(before <= s <= after for s in stamps)
    assert stamps == sorted(stamps)
    # The 80 bits after the time vary even among ids of the same millisecond.
    tails = {base64.b32decode(i.upper() + "======")[6:] for i in ids}
    assert len(tails) == len(ids)
