"""Identity documents: per-type rules, canonical numbers and match keys."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.errors import InvalidIdentityNumber, InvalidInput
from idp.identity.documents import (
    ALPHA3_COUNTRIES,
    DocumentType,
    NormalisedDocument,
    mask_document_number,
    normalise_document,
)

TODAY = datetime.date(2026, 1, 15)
RID = "11010519491231002X"  # GB 11643-1999's own example number


def norm(doc_type: str, number: str, country: str | None = None) -> NormalisedDocument:
    return normalise_document(doc_type, number, country=country, today=TODAY)


def bad_number(doc_type: str, number: str, country: str | None = None) -> str:
    with pytest.raises(InvalidIdentityNumber) as caught:
        norm(doc_type, number, country)
    assert caught.value.field == "document_number"
    compact = number.replace(" ", "").upper()
    if len(compact) >= 5:
        assert compact not in str(caught.value)
    return caught.value.message


def bad_input(doc_type: str, number: str, country: str | None, field: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        norm(doc_type, number, country)
    assert not isinstance(caught.value, InvalidIdentityNumber)
    assert caught.value.field == field
    return caught.value.message


# --- document type and country -------------------------------------------------------


def test_document_types() -> None:
    assert [t.value for t in DocumentType] == [
        "resident_id",
        "hk_macao_permit",
        "taiwan_permit",
        "passport",
        "social_security",
    ]


@pytest.mark.parametrize("doc_type", ["", "id_card", "RESIDENT", "passport2"])
def test_unknown_type_lists_the_accepted_ones(doc_type: str) -> None:
    message = bad_input(doc_type, RID, None, "document_type")
    for accepted in DocumentType:
        assert accepted.value in message


def test_type_accepts_enum_and_spelling_variants() -> None:
    assert norm(DocumentType.RESIDENT_ID, RID).doc_type is DocumentType.RESIDENT_ID
    assert norm(" Resident_ID ", RID).doc_type is DocumentType.RESIDENT_ID


@pytest.mark.parametrize("country", [None, "", " ", "CHN", "chn", "ＣＨＮ"])
def test_chinese_documents_are_issued_by_china(country: str | None) -> None:
    for doc_type, number in [
        ("resident_id", RID),
        ("social_security", RID),
        ("hk_macao_permit", "H12345678"),
        ("taiwan_permit", "12345678"),
    ]:
        assert norm(doc_type, number, country).country == "CHN"


@pytest.mark.parametrize("doc_type", ["resident_id", "social_security", "hk_macao_permit"])
def test_chinese_documents_refuse_another_country(doc_type: str) -> None:
    message = bad_input(doc_type, RID, "HKG", "document_country")
    assert "CHN" in message


@pytest.mark.parametrize("country", [None, "", "  "])
def test_passport_needs_a_country(country: str | None) -> None:
    message = bad_input("passport", "E12345678", country, "document_country")
    assert message == "a passport needs its issuing country"


@pytest.mark.parametrize("country", ["XYZ", "CN", "CHINA", "YUG", "ANT", "SCG", "C H N", "UK"])
def test_passport_country_must_be_a_current_alpha3_code(country: str) -> None:
    message = bad_input("passport", "E12345678", country, "document_country")
    assert message == "is not an ISO 3166-1 alpha-3 country code"


def test_alpha3_list() -> None:
    assert len(ALPHA3_COUNTRIES) == 249
    assert {"CHN", "HKG", "MAC", "TWN", "USA", "GBR", "DEU", "JPN", "KOR", "SSD", "BES"} <= (
        ALPHA3_COUNTRIES
    )
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in ALPHA3_COUNTRIES)


# --- resident ID and social-security card -------------------------------------------


def test_resident_id() -> None:
    doc = norm("resident_id", " 110105 1949-1231-002x ")
    assert doc == NormalisedDocument(
        doc_type=DocumentType.RESIDENT_ID,
        number=RID,
        country="CHN",
        match_key="CN-RID:" + RID,
        birth_date=datetime.date(1949, 12, 31),
        sex="F",
        converted_from_15=False,
    )
    assert RID not in repr(doc)


def test_resident_id_from_15_digits() -> None:
    doc = norm("resident_id", "110105491231002")
    assert doc.number == RID
    assert doc.match_key == "CN-RID:" + RID
    assert doc.converted_from_15 is True


def test_social_security_shares_the_resident_id_namespace() -> None:
    ssc = norm("social_security", RID)
    assert ssc.doc_type is DocumentType.SOCIAL_SECURITY
    assert ssc.match_key == norm("resident_id", RID).match_key
    assert ssc.match_key == norm("resident_id", "110105491231002").match_key
    assert (ssc.birth_date, ssc.sex) == (datetime.date(1949, 12, 31), "F")


@pytest.mark.parametrize("doc_type", ["resident_id", "social_security"])
def test_resident_id_rules_apply(doc_type: str) -> None:
    assert bad_number(doc_type, "110105194912310021") == "check digit is wrong"
    assert "18 characters" in bad_number(doc_type, "1101051949123100")


def test_today_is_passed_through() -> None:
    number = "110105202601160017"  # born 2026-01-16, the day after TODAY
    assert bad_number("resident_id", number) == "birth date is in the future"
    later = normalise_document("resident_id", number, today=datetime.date(2026, 1, 16))
    assert later.birth_date == datetime.date(2026, 1, 16)


# --- Hong Kong / Macao permit --------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("H12345678", "H12345678"),
        ("M87654321", "M87654321"),
        ("h 1234 5678", "H12345678"),
        ("Ｈ１２３４５６７８", "H12345678"),
        ("H1234567801", "H12345678"),  # older permit: two issue-count digits, dropped
        ("H12345678-03", "H12345678"),
    ],
)
def test_hk_macao_permit(written: str, canonical: str) -> None:
    doc = norm("hk_macao_permit", written)
    assert (doc.number, doc.match_key) == (canonical, "CN-HMP:" + canonical)
    assert (doc.birth_date, doc.sex, doc.converted_from_15) == (None, None, False)


@pytest.mark.parametrize(
    "number", ["12345678", "X12345678", "H1234567", "H123456789", "H123456780123", "HM1234567"]
)
def test_hk_macao_permit_refused(number: str) -> None:
    assert "H or M followed by 8 digits" in bad_number("hk_macao_permit", number)


# --- Taiwan permit -------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["12345678", "1234 5678", "1234567801", "1234567801(B)", "1234567801（b）", "1234567802(7)"],
)
def test_taiwan_permit(written: str) -> None:
    doc = norm("taiwan_permit", written)
    assert (doc.number, doc.match_key) == ("12345678", "CN-TWP:12345678")
    assert doc.birth_date is None


@pytest.mark.parametrize(
    "number", ["1234567", "123456789", "12345678(B)", "1234567801(BB)", "T12345678", "H12345678"]
)
def test_taiwan_permit_refused(number: str) -> None:
    assert "must be 8 digits" in bad_number("taiwan_permit", number)


# --- passport ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "country", "canonical"),
    [
        ("E12345678", "CHN", "E12345678"),
        ("ea 123-4567", "chn", "EA1234567"),
        ("123456789", "GBR", "123456789"),
        ("C01X00T47", "DEU", "C01X00T47"),
        ("12345", "USA", "12345"),
        ("A" * 20, "USA", "A" * 20),
    ],
)
def test_passport(written: str, country: str, canonical: str) -> None:
    doc = norm("passport", written, country)
    assert doc.number == canonical
    assert doc.country == country.upper()
    assert doc.match_key == f"PP:{country.upper()}:{canonical}"
    assert (doc.birth_date, doc.sex) == (None, None)


def test_passport_number_is_per_country() -> None:
    assert norm("passport", "123456789", "GBR").match_key != (
        norm("passport", "123456789", "IRL").match_key
    )


@pytest.mark.parametrize("number", ["1234", "A" * 21, "E1234/5678", "E12345678.", "Е12345678"])
def test_passport_number_refused(number: str) -> None:
    # The last case starts with a Cyrillic capital Ie, which looks like a Latin E.
    assert bad_number("passport", number, "CHN") == "must be 5 to 20 letters and digits"


# --- rules shared by all types -------------------------------------------------------


def test_namespaces_do_not_overlap() -> None:
    keys = {
        norm("resident_id", RID).match_key,
        norm("hk_macao_permit", "H12345678").match_key,
        norm("taiwan_permit", "12345678").match_key,
        norm("passport", "12345678", "CHN").match_key,
        norm("passport", RID, "CHN").match_key,
    }
    assert len(keys) == 5


@pytest.mark.parametrize("doc_type", [t.value for t in DocumentType])
def test_empty_number(doc_type: str) -> None:
    assert bad_number(doc_type, " - ", "CHN") == "is empty"


@pytest.mark.parametrize("doc_type", [t.value for t in DocumentType])
def test_overlong_number(doc_type: str) -> None:
    assert "too long" in bad_number(doc_type, "1" * 65, "CHN")


# --- masking -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110***********002X"),
        ("110105491231002", "110********1002"),
        ("12345678901234", "123*******1234"),
        ("H12345678", "H******78"),
        ("12345678", "1*****78"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_document_number(number: str, masked: str) -> None:
    assert mask_document_number(number) == masked


@given(st.text(alphabet="0123456789ABX", max_size=30))
def test_mask_never_shows_more_than_half(number: str) -> None:
    masked = mask_document_number(number)
    assert len(masked) == len(number)
    shown = sum(1 for c in masked if c != "*")
    assert shown <= len(number) / 2
    assert all(m in ("*", n) for m, n in zip(masked, number, strict=True))


# --- arbitrary input -----------------------------------------------------------------


@settings(max_examples=300)
@given(
    st.one_of(st.sampled_from([t.value for t in DocumentType]), st.text(max_size=20)),
    st.text(),
    st.one_of(st.none(), st.sampled_from(["CHN", "GBR"]), st.text(max_size=5)),
)
def test_arbitrary_input_raises_only_typed_errors(
    doc_type: str, number: str, country: str | None
) -> None:
    try:
        doc = norm(doc_type, number, country)
    except InvalidInput as error:
        assert error.field in ("document_type", "document_country", "document_number")
        return
    assert doc.match_key.endswith(doc.number)
