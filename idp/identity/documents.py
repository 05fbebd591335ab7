"""Identity documents a reader may register with, and their normalised forms.

Rules per document type (numbers are first NFKC-folded, stripped and upper-cased; spaces
and hyphens are removed, since none of these formats contains them):

* ``resident_id`` - 居民身份证, and the residence permits for Hong Kong, Macao and Taiwan
  residents (same format): GB 11643-1999, see :mod:`idp.identity.resident_id`. 15-digit
  first-generation numbers are converted to 18.
* ``social_security`` - 社会保障卡: the card number *is* the holder's resident-ID number
  (GB 11643-1999), validated the same way.
* ``hk_macao_permit`` - 港澳居民来往内地通行证: ``H`` (Hong Kong) or ``M`` (Macao) followed
  by the 8-digit lifetime number. Older permits print two more digits, the count of
  issues, e.g. ``H1234567801``; they are accepted and dropped, because they change at
  every renewal while the holder stays the same person.
* ``taiwan_permit`` - 台湾居民来往大陆通行证: the 8-digit lifetime number (台胞终身号,
  "one person, one number" since 2008-09-25). Older permits print two issue-count digits
  and, on those issued in Hong Kong or Macao, a bracketed issuing-office code, e.g.
  ``1234567801(B)``; both are accepted and dropped, for the same reason.
* ``passport`` - any state's passport, with its issuing state as an ISO 3166-1 alpha-3
  code (the code ICAO Doc 9303 prints in the machine-readable zone). The number is 5 to 20
  letters and digits: Doc 9303 gives the MRZ document number 9 characters and lets longer
  numbers overflow, so only a generous bound is checked.

``match_key`` is the exact text that is later keyed-hashed for equality and duplicate
search. Resident ID and social-security card share the ``CN-RID:`` namespace, so one
person's number is one identity whichever card it was typed from.
"""

from __future__ import annotations

import datetime
import enum
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from idp.errors import InvalidIdentityNumber, InvalidInput
from idp.identity.resident_id import FIELD, parse_resident_id


class DocumentType(enum.StrEnum):
    RESIDENT_ID = "resident_id"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    PASSPORT = "passport"
    SOCIAL_SECURITY = "social_security"


@dataclass(frozen=True)
class NormalisedDocument:
    """A validated identity document in canonical form."""

    doc_type: DocumentType
    number: str = field(repr=False)  # canonical form; personal data, so not in repr
    country: str
    match_key: str = field(repr=False)
    birth_date: datetime.date | None
    sex: Literal["F", "M"] | None
    converted_from_15: bool


# ISO 3166-1 alpha-3 codes of the 249 current entries (withdrawn codes such as ANT, SCG
# or YUG are not accepted). Shipped rather than imported so the list is reviewed with the
# code that relies on it.
_ALPHA3_TEXT = """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN
    BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN
    CCK CHE CHL CHN CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU
    DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR
    GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV
    HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM
    KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA
    MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM
    NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL
    PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE
    SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK
    TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB
    VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
ALPHA3_COUNTRIES: frozenset[str] = frozenset(_ALPHA3_TEXT.split())

CHINA = "CHN"
_MAX_INPUT_LENGTH = 64
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
_HK_MACAO = re.compile(r"([HM][0-9]{8})(?:[0-9]{2})?", re.ASCII)
_TAIWAN = re.compile(r"([0-9]{8})(?:[0-9]{2}(?:\([A-Z0-9]\))?)?", re.ASCII)
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}", re.ASCII)

_CHINESE_RESIDENT = frozenset({DocumentType.RESIDENT_ID, DocumentType.SOCIAL_SECURITY})


def _number_error(message: str) -> InvalidIdentityNumber:
    return InvalidIdentityNumber(message, field=FIELD)


def _document_type(doc_type: str) -> DocumentType:
    try:
        return DocumentType(doc_type.strip().lower())
    except ValueError:
        accepted = ", ".join(t.value for t in DocumentType)
        raise InvalidInput(
            f"unknown document type; accepted: {accepted}", field="document_type"
        ) from None


def _country(doc_type: DocumentType, country: str | None) -> str:
    text = unicodedata.normalize("NFKC", country).strip().upper() if country else ""
    if doc_type is DocumentType.PASSPORT:
        if not text:
            raise InvalidInput("a passport needs its issuing country", field="document_country")
        if text not in ALPHA3_COUNTRIES:
            raise InvalidInput(
                "is not an ISO 3166-1 alpha-3 country code", field="document_country"
            )
        return text
    # Every other type is issued by the People's Republic of China; a different country
    # means the form was filled in wrongly, so refuse rather than guess.
    if text and text != CHINA:
        raise InvalidInput(
            f"a {doc_type.value} document is issued by China ({CHINA})", field="document_country"
        )
    return CHINA


def _compact(number: str) -> str:
    if len(number) > _MAX_INPUT_LENGTH:
        raise _number_error(f"is too long ({len(number)} characters)")
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", number)).upper()


def normalise_document(
    doc_type: str,
    number: str,
    *,
    country: str | None = None,
    today: datetime.date | None = None,
) -> NormalisedDocument:
    """Validate a document number for its type and return its canonical form.

    Raises :class:`~idp.errors.InvalidInput` for the type (``document_type``) or country
    (``document_country``) and :class:`~idp.errors.InvalidIdentityNumber` for the number.
    """
    kind = _document_type(doc_type)
    issuer = _country(kind, country)
    text = _compact(number)
    if not text:
        raise _number_error("is empty")

    if kind in _CHINESE_RESIDENT:
        rid = parse_resident_id(text, today=today)
        return NormalisedDocument(
            doc_type=kind,
            number=rid.number,
            country=issuer,
            match_key="CN-RID:" + rid.number,
            birth_date=rid.birth_date,
            sex=rid.sex,
            converted_from_15=rid.converted_from_15,
        )
    if kind is DocumentType.HK_MACAO_PERMIT:
        match = _HK_MACAO.fullmatch(text)
        if match is None:
            raise _number_error(
                "must be H or M followed by 8 digits (older permits: 2 more issue digits)"
            )
        key = "CN-HMP:"
    elif kind is DocumentType.TAIWAN_PERMIT:
        match = _TAIWAN.fullmatch(text)
        if match is None:
            raise _number_error(
                "must be 8 digits (older permits: 2 more issue digits and a bracketed code)"
            )
        key = "CN-TWP:"
    else:
        match = _PASSPORT.fullmatch(text)
        if match is None:
            raise _number_error("must be 5 to 20 letters and digits")
        key = f"PP:{issuer}:"
    canonical = match.group(1) if match.groups() else match.group(0)
    return NormalisedDocument(kind, canonical, issuer, key + canonical, None, None, False)


def mask_document_number(number: str) -> str:
    """Star the middle of a document number for display, e.g. ``110***********123X``.

    Keeps the first 3 and last 4 characters of numbers of 14 characters or more. Shorter
    numbers (permits, passports) would show most of themselves that way, so they keep
    the first 1 and last 2 (8 to 13 characters) or nothing (fewer than 8): a mask never
    shows more than half the number.
    """
    n = len(number)
    if n >= 14:
        head, tail = 3, 4
    elif n >= 8:
        head, tail = 1, 2
    else:
        return "*" * n
    return number[:head] + "*" * (n - head - tail) + number[n - tail :]
