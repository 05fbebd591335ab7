"""Province card numbers: 13 digits, no leading zero, a valid Luhn check digit."""

from __future__ import annotations

from idp.services.numbers import is_card_number, luhn_digit, new_card_number


def test_card_numbers_are_13_digits_with_a_luhn_digit_and_spread_first_digits() -> None:
    numbers = [new_card_number() for _ in range(2000)]
    assert all(len(n) == 13 and n.isdigit() and n[0] != "0" for n in numbers)
    assert all(is_card_number(n) for n in numbers)
    assert {n[0] for n in numbers} == set("123456789")
    assert len(set(numbers)) == len(numbers)


def test_luhn_digit_of_a_known_number() -> None:
    assert luhn_digit("7992739871") == "3"  # ISO/IEC 7812-1 Annex B example
