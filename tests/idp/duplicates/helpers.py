"""Records for the match model's tests, hashed as the service hashes them."""

from __future__ import annotations

import datetime as dt

from idp.duplicates.features import Record, match_name
from idp.identity.documents import normalise_document
from idp.identity.resident_id import check_digit
from idp.pii import KeyedHasher

TODAY = dt.date(2026, 1, 15)
HASHER = KeyedHasher(b"k" * 32)


def _number(first17: str) -> str:
    return first17 + check_digit(first17)


#: Synthetic resident-ID numbers (GB 11643-1999 form, valid check characters).
ID_A = _number("11010519800517001")  # a man born 1980-05-17
ID_A_15 = "110105800517001"  # the same number on a first-generation card
ID_B = _number("44030419800517003")  # another man born that day
ID_C = _number("31010419800517004")  # a woman born that day


def document_hash(number: str) -> str:
    """The keyed hash registration stores for a resident-ID number (15 or 18 digits)."""
    normalised = normalise_document("resident_id", number, today=TODAY)
    return HASHER.digest("identity-document", normalised.match_key)


def mobile_hash(e164: str) -> str:
    return HASHER.digest("mobile", e164)


def record(family: str, given: str, born: dt.date | None = dt.date(1980, 5, 17), *,
           sex: str | None = "M", documents: tuple[str, ...] = (), mobile: str | None = None,
           reader_id: str = "r") -> Record:
    return Record(reader_id, match_name(family, given), born, sex,
                  frozenset(document_hash(d) for d in documents),
                  mobile_hash(mobile) if mobile else None)
