"""Comparison levels: what counts as the same name and the same birth date."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.duplicates.comparisons import (
    B_CLOSE,
    B_EXACT,
    B_MISSING,
    B_OTHER,
    N_CLOSE,
    N_EXACT,
    N_MISSING,
    N_OTHER,
    N_PINYIN,
    PATTERNS,
    birth_level,
    compare,
    decode,
    encode,
    name_level,
    names_agree,
)
from idp.duplicates.features import match_name

from .helpers import ID_A, ID_B, record


@pytest.mark.parametrize(("a", "b", "level"), [
    (("张", "伟"), ("张", "伟"), N_EXACT),
    (("張", "偉"), ("张", "伟"), N_EXACT),  # traditional and simplified
    (("欧阳", "明华"), ("歐陽", "明華"), N_EXACT),
    (("张", "伟"), ("张", "玮"), N_PINYIN),  # homophone
    (("张", "伟"), ("章", "伟"), N_PINYIN),  # homophone family name
    (("Zhang", "Wei"), ("张", "伟"), N_PINYIN),  # written in Latin letters
    (("张", "伟明"), ("张", "伟朋"), N_CLOSE),  # one character wrong
    (("张", "伟明"), ("张", "伟"), N_CLOSE),  # one character dropped
    (("伟", "张"), ("张", "伟"), N_CLOSE),  # family and given name swapped
    (("zhang", "wei"), ("zhang", "wie"), N_CLOSE),  # a Latin transposition
    (("张", "伟"), ("李", "强"), N_OTHER),
    (("张", "伟明"), ("李", "强"), N_OTHER),
    (("", ""), ("张", "伟"), N_MISSING),
])
def test_name_levels(a: tuple[str, str], b: tuple[str, str], level: int) -> None:
    first, second = match_name(*a), match_name(*b)
    assert name_level(first, second) == level
    assert name_level(second, first) == level


def test_two_different_single_characters_are_not_close() -> None:
    assert name_level(match_name("王", ""), match_name("李", "")) == N_OTHER


def test_names_agree_for_a_merge_only_exactly_or_as_homophones_of_one_family() -> None:
    zhang_wei, zhang_wei2 = match_name("张", "伟"), match_name("张", "玮")
    assert names_agree(zhang_wei, match_name("張", "偉"), N_EXACT)
    assert names_agree(zhang_wei, zhang_wei2, N_PINYIN)
    assert not names_agree(zhang_wei, match_name("章", "伟"), N_PINYIN)
    assert not names_agree(zhang_wei, match_name("张", "伟明"), N_CLOSE)


@pytest.mark.parametrize(("a", "b", "level"), [
    (dt.date(1980, 5, 17), dt.date(1980, 5, 17), B_EXACT),
    (dt.date(1980, 5, 17), dt.date(1981, 5, 17), B_CLOSE),
    (dt.date(1980, 5, 17), dt.date(1980, 6, 17), B_CLOSE),
    (dt.date(1980, 5, 17), dt.date(1980, 5, 18), B_CLOSE),
    (dt.date(1980, 5, 7), dt.date(1980, 7, 5), B_CLOSE),  # day and month transposed
    (dt.date(1980, 5, 17), dt.date(1981, 6, 17), B_OTHER),
    (dt.date(1980, 5, 7), dt.date(1981, 7, 5), B_OTHER),
    (None, dt.date(1980, 5, 17), B_MISSING),
])
def test_birth_levels(a: dt.date | None, b: dt.date | None, level: int) -> None:
    assert birth_level(a, b) == level == birth_level(b, a)


def test_documents_and_mobiles_compare_by_hash() -> None:
    one = record("张", "伟", documents=(ID_A,), mobile="+8613800138000")
    same = record("张", "伟", documents=(ID_A,), mobile="+8613800138000")
    other = record("张", "伟", documents=(ID_B,), mobile="+8613900139000")
    bare = record("张", "伟")
    assert compare(one, same)[3:] == (0, 0)
    assert compare(one, other)[3:] == (1, 1)
    assert compare(one, bare)[3:] == (2, 2)


def test_comparison_vectors_pack_into_one_int() -> None:
    codes = {encode(decode(code)) for code in range(PATTERNS)}
    assert codes == set(range(PATTERNS))
    assert decode(encode((1, 2, 0, 1, 2))) == (1, 2, 0, 1, 2)
