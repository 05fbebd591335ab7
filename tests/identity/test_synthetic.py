"""Synthetic test identities: valid, consistent, unique and deterministic."""

from __future__ import annotations

import datetime
import itertools
import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from idp.identity.phone import normalise_mobile
from idp.identity.resident_id import PROVINCE_CODES, parse_resident_id, upgrade_15_to_18
from idp.synthetic import (
    GIVEN_NAME_CHARACTERS,
    MOBILE_PREFIXES,
    REGION_CODES,
    SURNAMES,
    IdentityGenerator,
    SyntheticReader,
)

TODAY = datetime.date(2026, 1, 15)


def age_on(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def population() -> list[SyntheticReader]:
    return list(IdentityGenerator(2024, today=TODAY).readers(3000))


def test_deterministic_for_a_seed() -> None:
    first = list(IdentityGenerator(7, today=TODAY).readers(50))
    again = list(IdentityGenerator(7, today=TODAY).readers(50))
    other = list(IdentityGenerator(8, today=TODAY).readers(50))
    assert first == again
    assert first != other


def test_readers_is_lazy_and_counted() -> None:
    generator = IdentityGenerator(1, today=TODAY)
    assert list(itertools.islice(generator.readers(10**9), 3)) != []
    assert list(generator.readers(0)) == []
    with pytest.raises(ValueError, match="negative"):
        list(generator.readers(-1))


def test_resident_ids_are_valid_and_consistent(population: list[SyntheticReader]) -> None:
    for reader in population:
        rid = parse_resident_id(reader.resident_id, today=TODAY)
        assert (rid.birth_date, rid.sex) == (reader.birth_date, reader.sex)
        assert rid.region_code in REGION_CODES
        assert not rid.converted_from_15


def test_ages_within_bounds(population: list[SyntheticReader]) -> None:
    ages = [age_on(r.birth_date, TODAY) for r in population]
    assert min(ages) == 0
    assert max(ages) == 90
    generator = IdentityGenerator(3, today=TODAY)
    for reader in generator.readers(500, min_age=18, max_age=18):
        assert age_on(reader.birth_date, TODAY) == 18
    for reader in generator.readers(500, min_age=60, max_age=70):
        assert 60 <= age_on(reader.birth_date, TODAY) <= 70


def test_both_ends_of_the_age_range_are_reached() -> None:
    generator = IdentityGenerator(5, today=TODAY)
    births = {generator.birth_date(min_age=0, max_age=0) for _ in range(5000)}
    assert min(births) == datetime.date(2025, 1, 16)  # one day short of turning 1
    assert max(births) == TODAY


def test_leap_day_today() -> None:
    leap = datetime.date(2024, 2, 29)
    generator = IdentityGenerator(9, today=leap)
    for reader in generator.readers(300, min_age=1, max_age=3):
        assert 1 <= age_on(reader.birth_date, leap) <= 3


def test_birth_dates_start_in_1900() -> None:
    generator = IdentityGenerator(11, today=datetime.date(1950, 6, 1))
    births = [r.birth_date for r in generator.readers(500, min_age=40, max_age=90)]
    assert min(births) >= datetime.date(1900, 1, 1)
    with pytest.raises(ValueError, match="1900"):
        generator.birth_date(min_age=60, max_age=90)


@pytest.mark.parametrize(("min_age", "max_age"), [(-1, 10), (10, 9)])
def test_age_range_validated(min_age: int, max_age: int) -> None:
    with pytest.raises(ValueError, match="min_age"):
        IdentityGenerator(1, today=TODAY).reader(min_age=min_age, max_age=max_age)


def test_no_repeated_resident_ids_even_for_one_birth_date() -> None:
    # 42 regions x 100 x 5 sequence codes = 21,000 numbers per birth date and sex: 5,000
    # random draws would repeat hundreds of times without the uniqueness rule.
    generator = IdentityGenerator(13, today=TODAY)
    born = datetime.date(1990, 3, 7)
    numbers = [generator.resident_id(born, "F") for _ in range(5000)]
    assert len(set(numbers)) == len(numbers)


def test_15_and_18_digit_numbers_share_the_uniqueness_rule() -> None:
    generator = IdentityGenerator(17, today=TODAY)
    born = datetime.date(1970, 5, 6)
    upgraded = []
    for _ in range(3000):
        upgraded.append(generator.resident_id(born, "M"))
        upgraded.append(upgrade_15_to_18(generator.resident_id_15(born, "M")))
    assert len(set(upgraded)) == len(upgraded)


def test_resident_id_15() -> None:
    generator = IdentityGenerator(19, today=TODAY)
    for sex in ("F", "M"):
        number = generator.resident_id_15(datetime.date(1965, 12, 31), sex)
        assert len(number) == 15 and number.isdigit()
        rid = parse_resident_id(number, today=TODAY)
        assert (rid.birth_date, rid.sex, rid.converted_from_15) == (
            datetime.date(1965, 12, 31),
            sex,
            True,
        )
    for year in (1899, 2000):
        with pytest.raises(ValueError, match="1900-1999"):
            generator.resident_id_15(datetime.date(year, 1, 1), "F")
    with pytest.raises(ValueError, match="1900"):
        generator.resident_id(datetime.date(1899, 12, 31), "F")


def test_sex_digit(population: list[SyntheticReader]) -> None:
    assert {r.sex for r in population} == {"F", "M"}
    for reader in population:
        assert int(reader.resident_id[16]) % 2 == (reader.sex == "M")


def test_mobiles_are_unique_valid_mainland_mobiles(population: list[SyntheticReader]) -> None:
    mobiles = [r.mobile for r in population]
    assert len(set(mobiles)) == len(mobiles)
    for mobile in mobiles:
        parsed = phonenumbers.parse(mobile)
        assert phonenumbers.region_code_for_number(parsed) == "CN"
        assert phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE
        assert normalise_mobile(mobile) == mobile


def test_no_repeated_mobiles_in_a_small_space(monkeypatch: pytest.MonkeyPatch) -> None:
    # Shrink the space of suffixes so that repeats would be certain without the rule.
    generator = IdentityGenerator(23, today=TODAY)
    small = random.Random(0)

    def few_values(n: int) -> int:
        return small.randrange(min(n, 40))

    monkeypatch.setattr(generator._random, "randrange", few_values)
    mobiles = [generator.mobile() for _ in range(1000)]
    assert len(set(mobiles)) == len(mobiles)


@pytest.mark.parametrize("prefix", MOBILE_PREFIXES)
def test_every_prefix_is_mobile(prefix: str) -> None:
    for suffix in ("00000000", "12345678", "55555555", "99999999"):
        parsed = phonenumbers.parse("+86" + prefix + suffix)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE


def test_prefix_and_region_lists() -> None:
    assert len(set(MOBILE_PREFIXES)) == len(MOBILE_PREFIXES)
    assert all(len(p) == 3 and p.startswith("1") for p in MOBILE_PREFIXES)
    assert len(set(REGION_CODES)) == len(REGION_CODES) >= 30
    assert all(len(c) == 6 and c.isdigit() and not c.endswith("00") for c in REGION_CODES)
    assert {c[:2] for c in REGION_CODES} <= PROVINCE_CODES
    # Every mainland province-level division is represented.
    assert len({c[:2] for c in REGION_CODES}) == 31


def test_passwords(population: list[SyntheticReader]) -> None:
    passwords = [r.password for r in population]
    assert len(set(passwords)) == len(passwords)
    for password in passwords:
        assert len(password) >= 12
        assert any(c.islower() for c in password) and any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password)
        assert any(not c.isalnum() for c in password)


# --- names ---------------------------------------------------------------------------

DIFFERENT = {s: t for table in (SURNAMES, GIVEN_NAME_CHARACTERS) for s, t in table.items()}
SIMPLIFIED_ONLY = {c for s, t in DIFFERENT.items() for c, d in zip(s, t, strict=True) if c != d}
TRADITIONAL_ONLY = {d for s, t in DIFFERENT.items() for c, d in zip(s, t, strict=True) if c != d}


def test_name_tables() -> None:
    assert len(SURNAMES) >= 100
    assert len(GIVEN_NAME_CHARACTERS) >= 200
    assert {"欧阳": "歐陽", "司马": "司馬", "张": "張", "陈": "陳", "王": "王"}.items() <= (
        SURNAMES.items()
    )
    assert {"伟": "偉", "国": "國", "华": "華", "明": "明"}.items() <= (
        GIVEN_NAME_CHARACTERS.items()
    )
    for table in (SURNAMES, GIVEN_NAME_CHARACTERS):
        assert all(len(s) == len(t) for s, t in table.items())
        # One simplified form per traditional form, so the conversion can be reversed.
        assert len(set(table.values())) == len(table)
    assert all(len(c) == 1 for c in GIVEN_NAME_CHARACTERS)
    assert all(1 <= len(s) <= 2 for s in SURNAMES)
    assert not SIMPLIFIED_ONLY & TRADITIONAL_ONLY


def test_names_are_written_in_one_script(population: list[SyntheticReader]) -> None:
    surnames_t = set(SURNAMES.values())
    given_t = set(GIVEN_NAME_CHARACTERS.values())
    for reader in population:
        assert 1 <= len(reader.given_name) <= 2
        if reader.script == "traditional":
            assert reader.family_name in surnames_t
            assert all(c in given_t for c in reader.given_name)
            assert not SIMPLIFIED_ONLY & set(reader.family_name + reader.given_name)
        else:
            assert reader.family_name in SURNAMES
            assert all(c in GIVEN_NAME_CHARACTERS for c in reader.given_name)
            assert not TRADITIONAL_ONLY & set(reader.family_name + reader.given_name)


def test_name_method() -> None:
    generator = IdentityGenerator(29, today=TODAY)
    names = [generator.name(traditional=True) for _ in range(500)]
    compound = {t for s, t in SURNAMES.items() if len(s) == 2}
    assert {"歐陽", "司馬"} <= compound
    assert any(family in compound for family, _ in names)
    assert {len(given) for _, given in names} == {1, 2}
    assert not any(SIMPLIFIED_ONLY & set(f + g) for f, g in names)


def test_traditional_share(population: list[SyntheticReader]) -> None:
    traditional = sum(r.script == "traditional" for r in population)
    # 15% of 3,000 is 450, standard deviation about 20.
    assert 370 <= traditional <= 530
    none = IdentityGenerator(31, today=TODAY, traditional_share=0.0).readers(300)
    assert all(r.script == "simplified" for r in none)
    every = IdentityGenerator(31, today=TODAY, traditional_share=1.0).readers(300)
    assert all(r.script == "traditional" for r in every)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_traditional_share_validated(share: float) -> None:
    with pytest.raises(ValueError, match="traditional_share"):
        IdentityGenerator(1, traditional_share=share)
