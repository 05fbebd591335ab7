"""The match model's weights and its decision rule."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter

import pytest

from idp.duplicates.comparisons import (
    B_CLOSE,
    B_EXACT,
    B_MISSING,
    B_OTHER,
    D_DIFFERENT,
    D_EQUAL,
    D_MISSING,
    M_EQUAL,
    N_CLOSE,
    N_EXACT,
    N_MISSING,
    N_OTHER,
    N_PINYIN,
    S_AGREE,
    S_DISAGREE,
    S_MISSING,
)
from idp.duplicates.features import Record
from idp.duplicates.model import MatchModel, NameFrequencies, score
from idp.duplicates.parameters import DEFAULT_PARAMETERS, Parameters

from .helpers import ID_A, ID_A_15, ID_B, ID_C, document_hash, record

#: The review threshold the benchmark and the scan use (log2 odds).
THRESHOLD = 4.0
BORN = dt.date(1980, 5, 17)


def test_a_fifteen_digit_card_and_its_eighteen_digit_number_hash_alike() -> None:
    assert document_hash(ID_A_15) == document_hash(ID_A)


def test_same_document_and_same_name_merge_automatically() -> None:
    first = record("张", "伟", documents=(ID_A,))
    second = record("張", "偉", documents=(ID_A_15,), mobile="+8613800138000")
    match = score(first, second)
    assert match.auto_merge
    assert match.explanation["document"]["level"] == "equal"
    assert match.explanation["name"]["level"] == "exact"


def test_a_homophone_given_name_merges_but_a_homophone_family_name_does_not() -> None:
    zhang_wei = record("张", "伟", documents=(ID_A,))
    assert score(zhang_wei, record("张", "玮", documents=(ID_A,))).auto_merge
    assert not score(zhang_wei, record("章", "伟", documents=(ID_A,))).auto_merge


@pytest.mark.parametrize("other", [
    record("张", "伟明", documents=(ID_A,)),  # one character apart: review
    record("李", "强", documents=(ID_A,)),  # another name on the same number
    record("张", "伟", dt.date(2008, 3, 1), documents=(ID_A,)),  # a child on a parent's card
])
def test_same_document_without_agreeing_name_and_birth_date_is_reviewed(other: Record) -> None:
    match = score(record("张", "伟", documents=(ID_A,)), other)
    assert not match.auto_merge
    assert match.weight >= THRESHOLD  # but it is in the queue


def test_high_weight_without_a_document_is_never_automatic() -> None:
    first = record("欧阳", "明华", mobile="+8613800138000")
    second = record("欧阳", "明华", mobile="+8613800138000")
    match = score(first, second)
    assert match.weight > 20 and not match.auto_merge


def test_twins_sharing_phone_surname_and_birthday_are_not_merged() -> None:
    brother = record("王", "伟明", BORN, sex="M", documents=(ID_A,), mobile="+8613800138000")
    sister = record("王", "伟华", BORN, sex="F", documents=(ID_C,), mobile="+8613800138000")
    twin = record("王", "伟强", BORN, sex="M", documents=(ID_B,), mobile="+8613800138000")
    for a, b in ((brother, sister), (brother, twin), (sister, twin)):
        assert not score(a, b).auto_merge


def test_different_documents_weigh_against_a_match() -> None:
    same_name = record("王", "伟", documents=(ID_A,))
    assert score(same_name, record("王", "伟", documents=(ID_B,))).weight < THRESHOLD


UNCORROBORATED = [
    (name, birth, sex, document)
    for name in (N_CLOSE, N_OTHER, N_MISSING)
    for birth in (B_OTHER, B_MISSING)
    for sex in (S_AGREE, S_DISAGREE, S_MISSING)
    for document in (D_DIFFERENT, D_MISSING)
]


@pytest.mark.parametrize("levels", UNCORROBORATED)
def test_a_phone_alone_never_reaches_the_review_threshold(
        levels: tuple[int, int, int, int]) -> None:
    model = MatchModel()
    name, birth, sex, document = levels
    a = record("王", "伟", BORN, mobile="+8613800138000")
    match = model.match(a, a, (name, birth, sex, document, M_EQUAL))
    assert match.mobile_capped and match.contributions[4] == 0.0
    assert match.weight < THRESHOLD and not match.auto_merge
    assert match.explanation["mobile"]["capped"]


def test_a_family_phone_does_not_count_even_when_parameters_make_phones_decisive() -> None:
    m = {**DEFAULT_PARAMETERS.m, "mobile": {"equal": 0.999999, "different": 1e-6}}
    u = {**DEFAULT_PARAMETERS.u, "mobile": {"equal": 1e-12, "different": 1 - 1e-12}}
    model = MatchModel(Parameters(m=m, u=u))
    # A father, his wife and his son: one phone, one family name for two of them.
    family = [record(family, given, dt.date(1950 + n * 20, 1 + n, 1), sex=None,
                     mobile="+8613800138000")
              for n, (family, given) in enumerate((("王", "强"), ("李", "丽"), ("王", "军")))]
    for a, b in itertools.combinations(family, 2):
        match = model.match(a, b)
        assert match.mobile_capped and match.weight < THRESHOLD


@pytest.mark.parametrize(("name", "birth"), [(N_PINYIN, B_OTHER), (N_OTHER, B_EXACT),
                                             (N_OTHER, B_CLOSE), (N_EXACT, B_MISSING)])
def test_a_phone_counts_once_something_else_agrees(name: int, birth: int) -> None:
    a = record("王", "伟", BORN, mobile="+8613800138000")
    match = MatchModel().match(a, a, (name, birth, S_AGREE, D_MISSING, M_EQUAL))
    assert not match.mobile_capped and match.contributions[4] > 10


def test_agreeing_on_a_rare_name_counts_more_than_on_a_common_one() -> None:
    common = [record("王", "伟", reader_id=f"w{n}") for n in range(50)]
    rare = [record("欧阳", "明华", reader_id=f"o{n}") for n in range(2)]
    others = [record("李", f"{chr(0x4E00 + n)}", reader_id=f"x{n}") for n in range(948)]
    model = MatchModel(DEFAULT_PARAMETERS, NameFrequencies.of(common + rare + others))
    wang, ouyang = model.match(common[0], common[1]), model.match(rare[0], rare[1])
    assert wang.frequency_adjusted and ouyang.frequency_adjusted
    assert ouyang.contributions[0] - wang.contributions[0] == pytest.approx(
        __import__("math").log2(50 / 2))
    assert ouyang.weight > wang.weight


def test_score_is_the_sum_of_the_explained_weights() -> None:
    a = record("张", "伟明", BORN, documents=(ID_A,), mobile="+8613800138000")
    b = record("张", "伟朋", dt.date(1980, 5, 18), sex=None, mobile="+8613800138000")
    match = score(a, b)
    explained = match.explanation
    parts = [explained[c]["weight"] for c in ("name", "birth_date", "sex", "document",
                                             "mobile")]
    assert explained["total"] == pytest.approx(explained["prior"] + sum(parts), abs=0.01)
    assert [explained[c]["level"] for c in ("name", "birth_date", "sex", "document")] == [
        "close", "close", "missing", "missing"]
    assert match.levels[:2] == (N_CLOSE, B_CLOSE)
    assert 0.0 < match.probability < 1.0


def test_explanations_are_json_and_carry_no_personal_data() -> None:
    a = record("欧阳", "明华", BORN, documents=(ID_A,), mobile="+8613800138000")
    match = score(a, a)
    text = json.dumps(match.explanation, ensure_ascii=False)
    for secret in ("欧阳", "明华", "ouyang", "1980", document_hash(ID_A), ID_A):
        assert secret not in text
    assert set(match.explanation) == {"prior", "name", "birth_date", "sex", "document",
                                      "mobile", "total"}


def test_parameters_round_trip_through_json() -> None:
    data = json.loads(json.dumps(DEFAULT_PARAMETERS.to_json()))
    assert Parameters.from_json(data) == DEFAULT_PARAMETERS


@pytest.mark.parametrize("change", [
    {"prior": 0.0},
    {"m": {**DEFAULT_PARAMETERS.m, "sex": {"agree": 0.9, "disagree": 0.2}}},
    {"u": {**DEFAULT_PARAMETERS.u, "name": {"exact": 1.0}}},
    {"m": {**DEFAULT_PARAMETERS.m, "mobile": {"equal": 0.0, "different": 1.0}}},
])
def test_invalid_parameters_are_refused_when_built(change: dict[str, object]) -> None:
    data = {**DEFAULT_PARAMETERS.to_json(), **change}
    with pytest.raises(ValueError):
        Parameters.from_json(data)


def test_default_weights_order_the_levels() -> None:
    weights = DEFAULT_PARAMETERS.weights()
    for table in weights:
        agreeing = [w for w in table[:-1]]
        assert agreeing == sorted(agreeing, reverse=True)
        assert table[-1] == 0.0
    assert Counter(len(t) for t in weights) == Counter({3: 3, 4: 1, 5: 1})
    assert (N_EXACT, N_PINYIN, B_EXACT, B_CLOSE, D_EQUAL) == (0, 1, 0, 1, 0)
