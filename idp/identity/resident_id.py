"""Resident identity numbers (居民身份证号码), GB 11643-1999.

An 18-character number is laid out as

    RRRRRR YYYYMMDD SSS C
    region  birth   seq check

* ``RRRRRR`` - the GB/T 2260 administrative division where the number was first issued.
  Only the province part (first two digits) is checked: county codes are renamed and
  merged over the years, and a number keeps the code it was issued with.
* ``YYYYMMDD`` - the date of birth.
* ``SSS`` - sequence code; its last digit (the 17th character) is odd for men, even for
  women.
* ``C`` - check character, ISO 7064 MOD 11-2 over the first 17 digits; the value 10 is
  written ``X``.

First-generation cards carry 15 digits: ``RRRRRR YYMMDD SSS``, a two-digit year meaning
19YY and no check character. They are converted to 18 by inserting ``19`` and appending
the check character (GB 11643-1999, appendix on conversion).

Residence permits for Hong Kong, Macao and Taiwan residents use the same format with the
region codes 81, 82 and 83. Error messages never contain the number itself.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from idp.errors import InvalidIdentityNumber

FIELD = "document_number"

# ISO 7064 MOD 11-2: the weight of position i (counted from the right, the check
# character being position 1) is 2**(i-1) mod 11. For the 17 data digits, left to right:
# 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))

# The check character is the value c that makes (weighted sum + c) == 1 (mod 11);
# indexed by (weighted sum mod 11).
_CHECK_CHARACTERS = "10X98765432"

# GB/T 2260 province-level codes. 71 (Taiwan) is reserved in GB/T 2260; 81/82/83 head
# the residence permits for Hong Kong, Macao and Taiwan residents.
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(c) for c in range(11, 16)]
    + [str(c) for c in range(21, 24)]
    + [str(c) for c in range(31, 38)]
    + [str(c) for c in range(41, 47)]
    + [str(c) for c in range(50, 55)]
    + [str(c) for c in range(61, 66)]
    + ["71", "81", "82", "83"]
)

EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)

# ASCII only: NFKC already folds full-width digits, and other scripts' digits
# (which str.isdigit accepts) are not part of the standard.
_RE_18 = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_RE_15 = re.compile(r"[0-9]{15}", re.ASCII)
_RE_17 = re.compile(r"[0-9]{17}", re.ASCII)

# Anything longer is not a typo of an identity number; refuse it before normalising.
_MAX_INPUT_LENGTH = 64


@dataclass(frozen=True)
class ResidentId:
    """A validated resident identity number and what it encodes."""

    number: str = field(repr=False)  # canonical 18 characters; kept out of repr (and logs)
    region_code: str
    birth_date: datetime.date
    sex: Literal["F", "M"]
    converted_from_15: bool


def _error(message: str) -> InvalidIdentityNumber:
    return InvalidIdentityNumber(message, field=FIELD)


def check_digit(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for 17 digits."""
    if not _RE_17.fullmatch(first17):
        raise _error("check digit needs exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def upgrade_15_to_18(number15: str) -> str:
    """Convert a first-generation 15-digit number to 18 characters.

    The two-digit year always means 19YY (first-generation cards were issued from 1984 to
    2004 and the conversion rule of GB 11643-1999 fixes the century). Only the format is
    checked here; :func:`parse_resident_id` checks the date and region.
    """
    if not _RE_15.fullmatch(number15):
        raise _error("a first-generation number has exactly 15 digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_digit(first17)


def _canonical_text(text: str) -> str:
    if len(text) > _MAX_INPUT_LENGTH:
        raise _error(f"is too long ({len(text)} characters)")
    # NFKC folds full-width digits and letters (common from Chinese input methods).
    return unicodedata.normalize("NFKC", text).strip().upper()


def _birth_date(digits: str, today: datetime.date) -> datetime.date:
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    if year < EARLIEST_BIRTH_DATE.year:
        raise _error("birth date before 1900")
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        raise _error("contains a birth date that does not exist") from None
    if born > today:
        raise _error("birth date is in the future")
    return born


def parse_resident_id(text: str, *, today: datetime.date | None = None) -> ResidentId:
    """Validate a resident identity number (GB 11643-1999) and decode it.

    Accepts surrounding white space, full-width characters and a lower-case ``x``, and
    15-digit first-generation numbers (converted to 18). ``today`` bounds the birth date;
    it defaults to the current local date.

    Raises :class:`~idp.errors.InvalidIdentityNumber` naming the rule that failed.
    """
    number = _canonical_text(text)
    if len(number) not in (15, 18):
        raise _error(f"must be 18 characters (or 15 for first-generation cards), got {len(number)}")
    converted = len(number) == 15
    if converted:
        if not _RE_15.fullmatch(number):
            raise _error("a 15-character number has only digits")
        number = upgrade_15_to_18(number)
    else:
        if not _RE_18.fullmatch(number):
            raise _error("only digits, with X allowed as the last character")
        if check_digit(number[:17]) != number[17]:
            raise _error("check digit is wrong")
    if number[:2] not in PROVINCE_CODES:
        raise _error("region code does not name a province of China")
    born = _birth_date(number[6:14], today if today is not None else datetime.date.today())
    return ResidentId(
        number=number,
        region_code=number[:6],
        birth_date=born,
        sex="M" if int(number[16]) % 2 else "F",
        converted_from_15=converted,
    )
