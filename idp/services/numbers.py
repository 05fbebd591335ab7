"""Identifiers ReaderPass mints: reader ids and province card numbers."""

from __future__ import annotations

import base64
import re
import secrets
import time

_READER_ID = re.compile(r"^[a-z2-7]{26}$")
_CARD = re.compile(r"^[0-9]{13}$")


def new_reader_id() -> str:
    """A new reader id: 26 characters of lower-case base32, never a personal number.

    The 128 bits are laid out as in RFC 9562's UUIDv7: the creation time in Unix
    milliseconds (48 bits), then 80 random bits. Readers created together get ids
    that sit together in every index keyed by reader (the readers' own, and those
    of their cards, links, match keys, audit events), so a bulk import fills a few
    index pages instead of dirtying a random page of each index per reader. The 80
    random bits keep ids unguessable; the id tells when the reader was created,
    which the reader record holds anyway.
    """
    return new_reader_ids(1)[0]


def new_reader_ids(count: int) -> list[str]:
    """``count`` new reader ids of this millisecond, from one draw of the OS CSPRNG:
    an import makes thousands, and each draw is a system call during which another
    thread may take the interpreter lock from the import's critical path."""
    millis = (time.time_ns() // 1_000_000 % (1 << 48)).to_bytes(6, "big")
    pool = secrets.token_bytes(10 * count)
    return [base64.b32encode(millis + pool[start:start + 10]).decode().rstrip("=").lower()
            for start in range(0, len(pool), 10)]


def is_reader_id(text: str) -> bool:
    return bool(_READER_ID.match(text))


def luhn_digit(digits: str) -> str:
    """Luhn (ISO/IEC 7812-1 Annex B) check digit for ``digits``."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_card_number() -> str:
    """13 digits, the last a Luhn check digit so mistyped numbers are caught at once."""
    return new_card_numbers(1)[0]


#: The 12-digit bodies (first digit not 0) a card number can have.
_BODIES = 9 * 10**11
_BODY_BYTES = 5  # 2**40 > _BODIES; draws at or above _BODIES are thrown away (18 %)


def new_card_numbers(count: int) -> list[str]:
    """``count`` card numbers (not necessarily distinct) from as few draws of the OS
    CSPRNG as rejection sampling allows: each body is uniform over the 12-digit
    numbers, as ``secrets.randbelow`` would draw it."""
    bodies: list[int] = []
    while len(bodies) < count:
        wanted = count - len(bodies)
        pool = secrets.token_bytes(_BODY_BYTES * (wanted + wanted // 4 + 1))
        for start in range(0, len(pool), _BODY_BYTES):
            value = int.from_bytes(pool[start:start + _BODY_BYTES], "big")
            if value < _BODIES:
                bodies.append(value)
        del bodies[count:]
    numbers = []
    for value in bodies:
        body = str(10**11 + value)
        numbers.append(body + luhn_digit(body))
    return numbers


def is_card_number(text: str) -> bool:
    return bool(_CARD.match(text)) and luhn_digit(text[:-1]) == text[-1]
