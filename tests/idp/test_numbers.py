"""Province card numbers: 13 digits, no leading zero, a valid Luhn check digit.
Reader ids: 26 characters of base32, the creation time first, then random bits."""

from __future__ import annotations

import base64
import time

from idp.services import numbers
from idp.services.numbers import (
    is_card_number,
    is_reader_id,
    luhn_digit,
    new_card_number,
    new_card_numbers,
    new_reader_id,
    new_reader_ids,
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


def test_card_numbers_in_bulk_are_valid_and_spread() -> None:
    numbers = new_card_numbers(5000)
    assert len(numbers) == 5000 and len(set(numbers)) == 5000
    assert all(len(n) == 13 and is_card_number(n) for n in numbers)
    assert {n[0] for n in numbers} == set("123456789")
    assert new_card_numbers(0) == []


def test_card_numbers_in_bulk_throw_away_draws_beyond_the_bodies(monkeypatch) -> None:
    # Three 40-bit draws: beyond the 9 * 10**11 bodies (thrown away), the first
    # body and the last, then the rest of the pool (beyond again).
    draws = [2**40 - 1, 0, 9 * 10**11 - 1, 9 * 10**11]

    def token_bytes(size: int) -> bytes:
        pool = b"".join(d.to_bytes(5, "big") for d in draws)
        return pool + b"\xff" * (size - len(pool))

    monkeypatch.setattr(numbers.secrets, "token_bytes", token_bytes)
    first, last = new_card_numbers(2)
    assert first[:12] == "100000000000" and last[:12] == "999999999999"
    assert is_card_number(first) and is_card_number(last)


def test_reader_ids_in_bulk_share_their_millisecond_and_differ_in_their_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_reader_ids(3000)
    after = time.time_ns() // 1_000_000
    assert len(ids) == 3000 and len(set(ids)) == 3000 and all(is_reader_id(i) for i in ids)
    stamps = {_millis(i) for i in ids}
    assert len(stamps) == 1 and before <= stamps.pop() <= after
