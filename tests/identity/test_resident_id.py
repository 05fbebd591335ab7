"""Resident identity numbers: GB 11643-1999 with the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import contextlib
import datetime
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.errors import InvalidIdentityNumber
from idp.identity.resident_id import (
    WEIGHTS,
    ResidentId,
    check_digit,
    parse_resident_id,
    upgrade_15_to_18,
)
from idp.synthetic import IdentityGenerator

TODAY = datetime.date(2026, 1, 15)

# GB 11643-1999, table 1: weights of the 17 data digits, left to right.
STANDARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# GB/T 2260 province codes accepted as the first two digits.
PROVINCES = {
    *map(str, [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37]),
    *map(str, [41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65]),
    *("71", "81", "82", "83"),
}


def reference_check(first17: str) -> str:
    """ISO 7064 MOD 11-2, written independently: the check value c makes
    sum(weight * digit) + c == 1 (mod 11), and 10 is written X."""
    total = sum(int(d) * w for d, w in zip(first17, STANDARD_WEIGHTS, strict=True))
    c = (1 - total) % 11
    return "X" if c == 10 else str(c)


def complete(first17: str) -> str:
    return first17 + reference_check(first17)


def parse(text: str) -> ResidentId:
    return parse_resident_id(text, today=TODAY)


def rejected(text: str) -> InvalidIdentityNumber:
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse(text)
    error = caught.value
    assert error.field == "document_number"
    assert error.code == "invalid_identity_number"
    digits = text.strip()
    if len(digits) >= 6:
        assert digits not in str(error), "the number must never appear in the message"
    return error


# --- check character -----------------------------------------------------------------


def test_weights_are_those_of_the_standard() -> None:
    assert STANDARD_WEIGHTS == WEIGHTS


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        # Weighted sums worked by hand from the standard's weights:
        # 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167 = 2 (mod 11) -> c = 10 -> X.
        # This is the standard's own example (Beijing Chaoyang, 1949-12-31, female).
        ("11010519491231002", "X"),
        # 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195 = 8 (mod 11) -> c = 4.
        # The standard's second example (Shantou, born 1880).
        ("44052418800101001", "4"),
        # 21+9+0+5+0+16+2+9+48+0+0+9+0+5+0+0+4 = 128 = 7 (mod 11) -> c = 5.
        ("31010419800101002", "5"),
        # 7+9+0+5+0+4+2+9+54+0+0+27+0+35+0+0+2 = 154 = 0 (mod 11) -> c = 1.
        ("11010119900307001", "1"),
        # 35+9+0+5+0+16+2+9+42+21+7+9+0+45+0+12+2 = 214 = 5 (mod 11) -> c = 7.
        ("51010419771109031", "7"),
    ],
)
def test_check_digit_known_answers(first17: str, expected: str) -> None:
    assert reference_check(first17) == expected
    assert check_digit(first17) == expected


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310021", "1101051949123100X"])
def test_check_digit_needs_17_digits(bad: str) -> None:
    with pytest.raises(InvalidIdentityNumber):
        check_digit(bad)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_matches_reference(first17: str) -> None:
    assert check_digit(first17) == reference_check(first17)


# --- parsing -------------------------------------------------------------------------


def test_parses_the_standards_example() -> None:
    rid = parse("11010519491231002X")
    assert rid == ResidentId(
        number="11010519491231002X",
        region_code="110105",
        birth_date=datetime.date(1949, 12, 31),
        sex="F",
        converted_from_15=False,
    )


def test_repr_hides_the_number() -> None:
    assert "11010519491231002X" not in repr(parse("11010519491231002X"))


@pytest.mark.parametrize(
    "written",
    [
        "11010519491231002x",  # lower-case x
        "  11010519491231002X\t",  # surrounding white space
        "\u300011010519491231002X\u3000",  # ideographic spaces
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        "１１０１０５１９４９１２３１００２ｘ",  # full-width lower-case x
    ],
)
def test_accepted_spellings(written: str) -> None:
    assert parse(written).number == "11010519491231002X"


@pytest.mark.parametrize(("seventeenth", "sex"), [("1", "M"), ("3", "M"), ("0", "F"), ("8", "F")])
def test_sex_from_seventeenth_digit(seventeenth: str, sex: str) -> None:
    assert parse(complete("1101051949123100" + seventeenth)).sex == sex


@pytest.mark.parametrize("length", [0, 1, 14, 16, 17, 19, 20, 64])
def test_length_must_be_15_or_18(length: int) -> None:
    error = rejected(("1101051949123100211" * 4)[:length])
    assert error.message == (
        f"must be 18 characters (or 15 for first-generation cards), got {length}"
    )


def test_overlong_input_refused_before_normalising() -> None:
    assert "too long" in rejected("1" * 65).message


@pytest.mark.parametrize(
    "text",
    [
        "1101051949X231002X",  # X not last
        "11010519491231002A",  # other letter
        "11010519491231002-",
        "1101051949123100.2",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits: str.isdigit, but not the standard's
    ],
)
def test_only_digits_and_final_x(text: str) -> None:
    assert rejected(text).message == "only digits, with X allowed as the last character"


def test_fifteen_digit_form_has_no_x() -> None:
    assert rejected("11010549123100X").message == "a 15-character number has only digits"


def test_wrong_check_digit() -> None:
    assert rejected("110105194912310021").message == "check digit is wrong"


@pytest.mark.parametrize("date", ["19900230", "19900431", "19901301", "19900001", "19900100"])
def test_birth_date_must_exist(date: str) -> None:
    message = rejected(complete("110105" + date + "001")).message
    assert message == "contains a birth date that does not exist"


def test_leap_day_exists_only_in_leap_years() -> None:
    assert parse(complete("11010520000229001")).birth_date == datetime.date(2000, 2, 29)
    assert "does not exist" in rejected(complete("11010519000229001")).message


def test_birth_date_not_in_future() -> None:
    assert parse(complete("11010520260115001")).birth_date == TODAY  # born today is fine
    assert rejected(complete("11010520260116001")).message == "birth date is in the future"
    later = parse_resident_id(complete("11010520260116001"), today=datetime.date(2026, 1, 16))
    assert later.birth_date == datetime.date(2026, 1, 16)


def test_birth_date_from_1900() -> None:
    assert parse(complete("11010519000101001")).birth_date == datetime.date(1900, 1, 1)
    assert rejected(complete("11010518991231001")).message == "birth date before 1900"
    # The standard's own example of someone born in 1880 has a correct check digit.
    assert rejected("440524188001010014").message == "birth date before 1900"


@pytest.mark.parametrize("province", [f"{n:02d}" for n in range(100)])
def test_region_code_must_name_a_province(province: str) -> None:
    number = complete(province + "010119800101001")
    if province in PROVINCES:
        assert parse(number).region_code == province + "0101"
    else:
        message = rejected(number).message
        assert message == "region code does not name a province of China"


def test_default_today_is_the_current_date() -> None:
    assert parse_resident_id("11010519491231002X").birth_date.year == 1949
    future = complete(f"110105{datetime.date.today().year + 1}0101001")
    with pytest.raises(InvalidIdentityNumber, match="future"):
        parse_resident_id(future)


# --- first-generation (15-digit) numbers --------------------------------------------


def test_upgrade_15_to_18_known_answer() -> None:
    # The standard's example, as its first-generation card carried it.
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"


@pytest.mark.parametrize("bad", ["", "11010549123100", "1101054912310021", "11010549123100X"])
def test_upgrade_needs_15_digits(bad: str) -> None:
    with pytest.raises(InvalidIdentityNumber):
        upgrade_15_to_18(bad)


def test_15_digit_number_parses_as_converted() -> None:
    rid = parse(" 110105491231002 ")
    assert rid.number == "11010519491231002X"
    assert rid.converted_from_15 is True
    assert rid.birth_date == datetime.date(1949, 12, 31)
    assert rid.sex == "F"


def test_15_digit_numbers_are_checked_too() -> None:
    assert "does not exist" in rejected("110105490230002").message
    assert "province" in rejected("990105491231002").message


# --- properties ----------------------------------------------------------------------

Sex = Literal["F", "M"]
sexes: st.SearchStrategy[Sex] = st.sampled_from(("F", "M"))
birth_dates = st.dates(datetime.date(1900, 1, 1), TODAY)


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, datetime.date, Sex]:
    generator = IdentityGenerator(draw(st.integers(0, 2**32)), today=TODAY)
    born, sex = draw(birth_dates), draw(sexes)
    return generator.resident_id(born, sex), born, sex


@given(valid_numbers())
def test_generated_numbers_round_trip(case: tuple[str, datetime.date, str]) -> None:
    number, born, sex = case
    rid = parse(number)
    assert (rid.number, rid.birth_date, rid.sex) == (number, born, sex)
    assert rid.region_code == number[:6]
    assert rid.converted_from_15 is False
    assert number[17] == reference_check(number[:17])


@given(valid_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_substitution_is_rejected(
    case: tuple[str, datetime.date, str], position: int, replacement: str
) -> None:
    # MOD 11-2 weights are all non-zero modulo the prime 11, so changing one digit always
    # changes the weighted sum.
    number = case[0]
    if number[position] == replacement:
        replacement = "0" if replacement != "0" else "1"
    changed = number[:position] + replacement + number[position + 1 :]
    rejected(changed)


@given(valid_numbers(), st.integers(0, 16))
def test_any_adjacent_transposition_is_rejected(
    case: tuple[str, datetime.date, str], position: int
) -> None:
    # Adjacent weights differ by a factor of 2 modulo 11, so swapping two different
    # adjacent digits always changes the weighted sum (ISO 7064 guarantees this).
    number = case[0]
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    rejected(swapped)


def test_mod_11_2_detects_every_single_error_and_adjacent_swap() -> None:
    """Exhaustive over the algebra: weights 1..17 and the check character's weight 1."""
    weights = (*STANDARD_WEIGHTS, 1)
    values = range(11)  # 0-9 and X (= 10)
    for i, w in enumerate(weights):
        for a in values:
            for b in values:
                if a == b:
                    continue
                assert (w * a - w * b) % 11 != 0  # single substitution
                if i < 17:
                    v = weights[i + 1]
                    assert (w * a + v * b - (w * b + v * a)) % 11 != 0  # adjacent swap


def test_every_substitution_of_one_number_is_rejected() -> None:
    number = "11010519491231002X"
    for position in range(18):
        for replacement in "0123456789X":
            if replacement != number[position]:
                rejected(number[:position] + replacement + number[position + 1 :])


@given(
    st.integers(0, 2**32), st.dates(datetime.date(1900, 1, 1), datetime.date(1999, 12, 31)), sexes
)
def test_15_to_18_round_trip(seed: int, born: datetime.date, sex: Sex) -> None:
    generator = IdentityGenerator(seed, today=TODAY)
    number15 = generator.resident_id_15(born, sex)
    upgraded = upgrade_15_to_18(number15)
    # Dropping the century and the check character gives the old number back.
    assert upgraded[:6] + upgraded[8:17] == number15
    assert upgraded[6:8] == "19"
    rid = parse(number15)
    assert rid.converted_from_15 is True
    assert (rid.number, rid.birth_date, rid.sex) == (upgraded, born, sex)
    assert parse(upgraded).converted_from_15 is False


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_raises_only_the_typed_error(text: str) -> None:
    with contextlib.suppress(InvalidIdentityNumber):
        parse(text)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789Xx ０１９Ｘ\u3000-", min_size=13, max_size=21))
def test_near_miss_text_raises_only_the_typed_error(text: str) -> None:
    try:
        rid = parse(text)
    except InvalidIdentityNumber:
        return
    assert len(rid.number) == 18
    assert rid.number[17] == reference_check(rid.number[:17])
