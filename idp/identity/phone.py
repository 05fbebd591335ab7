"""Mobile numbers, normalised to E.164 (ITU-T E.164) with the ``phonenumbers`` library.

A reader's mobile is used to reach the reader, so only numbers that the numbering plan
(as ``phonenumbers`` knows it) classifies as mobile are accepted. Where a plan does not
distinguish mobile from fixed lines (e.g. the North American plan) the number is
accepted. Error messages never contain the number.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from idp.errors import InvalidMobileNumber

FIELD = "mobile"

# E.164 numbers have at most 15 digits; 32 characters leaves room for a prefix and
# separators while refusing pasted paragraphs before any parsing work is done.
MAX_INPUT_LENGTH = 32

# Digits with the separators people write, and one leading "+" (possibly inside "(+86)").
# Letters are refused rather than handed to phonenumbers, which would read them as vanity
# numbers ("1-800-FLOWERS") or extensions ("ext. 12").
_ALLOWED = re.compile(r"\(?\+?[0-9 ().\-]+", re.ASCII)

_ACCEPTED_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed-line",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.VOIP: "VoIP",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "universal access",
    PhoneNumberType.VOICEMAIL: "voicemail",
}

_PARSE_MESSAGES = {
    NumberParseException.INVALID_COUNTRY_CODE: (
        "has no valid country code; numbers outside mainland China start with + or 00"
    ),
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


def _error(message: str) -> InvalidMobileNumber:
    return InvalidMobileNumber(message, field=FIELD)


def _clean(text: str) -> str:
    if len(text) > MAX_INPUT_LENGTH:
        raise _error(f"too long (more than {MAX_INPUT_LENGTH} characters)")
    # NFKC folds full-width digits, "＋" and "（）", which Chinese input methods produce.
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned:
        raise _error("is empty")
    if not _ALLOWED.fullmatch(cleaned):
        raise _error("may contain only digits, spaces, hyphens, dots, parentheses and a leading +")
    # "00" is the international prefix in mainland China (and most of the world); make it
    # explicit so the number reads the same whatever the default region.
    body = cleaned.lstrip("( ")
    if body.startswith("00"):
        cleaned = "+" + body[2:]
    return cleaned


def normalise_mobile(text: str, *, default_region: str = "CN") -> str:
    """Return the E.164 form (e.g. ``+8613812345678``) of a mobile number.

    Numbers without ``+`` or ``00`` are read as numbers of ``default_region`` (an
    ISO 3166-1 alpha-2 code known to phonenumbers; an unknown one is a programming error
    and raises :class:`ValueError`). Raises :class:`~idp.errors.InvalidMobileNumber`.
    """
    if default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unsupported default region {default_region!r}")
    cleaned = _clean(text)
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except NumberParseException as exc:
        raise _error(_PARSE_MESSAGES.get(exc.error_type, "is not a phone number")) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in (ValidationResult.TOO_LONG, ValidationResult.INVALID_LENGTH):
        raise _error("too long" if possible == ValidationResult.TOO_LONG else "wrong length")
    if possible == ValidationResult.TOO_SHORT:
        raise _error("too short")
    if not phonenumbers.is_valid_number(number):
        hint = "" if cleaned.startswith("+") else "; numbers of other regions start with + or 00"
        raise _error("is not a valid phone number" + hint)
    kind = phonenumbers.number_type(number)
    if kind not in _ACCEPTED_TYPES:
        raise _error(f"is a {_TYPE_NAMES.get(kind, 'special')} number, not a mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_mobile(e164: str) -> str:
    """Star the middle of an E.164 mobile for display, e.g. ``+86 138****5678``.

    Numbers of 11 national digits or more keep the first 3 and last 4; shorter ones keep
    fewer, so that at least 4 digits are always hidden.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        raise _error("is not in E.164 form") from None
    national = phonenumbers.national_significant_number(number)
    if not e164.startswith("+") or not national:
        raise _error("is not in E.164 form")
    n = len(national)
    hidden = min(n, max(4, n - 7))
    visible = n - hidden
    head = 3 if n >= 11 else visible // 2
    tail = visible - head
    return f"+{number.country_code} {national[:head]}{'*' * hidden}{national[n - tail :]}"
