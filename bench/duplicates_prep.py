"""What registration and import do before any scan: keyed hashes and blocking keys.

Each synthetic registration becomes the row the identity database would hold (the
resident-ID number normalised as at registration, 15 digits converted, then
hashed; the mobile hashed) and the blocking keys ``refresh_keys`` would store. A
number already held by an earlier reader is *claimed* (``doc_claim``), as an import
records it, since one document belongs to one reader.

The rows and keys go to a file that a fresh process reads back as a scan would
read the database: rows all at once, keys streamed in chunks.
"""

from __future__ import annotations

import datetime as dt
import pickle
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from bench.population import TODAY, Registration
from idp.duplicates.features import match_name
from idp.duplicates.keys import name_key_digests
from idp.identity.documents import normalise_document
from idp.models import KeyKind
from idp.pii import KeyedHasher

CHUNK = 50_000
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class Row(NamedTuple):
    """A reader as stored: no plain document number or mobile, only their hashes.
    A tuple, as a database driver returns rows (and cheap to unpickle)."""

    reader_id: str
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str | None
    #: (hash, True when the reader holds the document, False when it only claims it)
    document: tuple[str, bool] | None
    mobile_hash: str | None
    library: int


def reader_ids(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(_ALPHABET, k=26)) for _ in range(count)]


def prepare(registrations: Sequence[Registration], hasher: KeyedHasher, seed: int
            ) -> tuple[list[Row], list[tuple[str, str, int]]]:
    rows: list[Row] = []
    keys: list[tuple[str, str, int]] = []
    held: set[str] = set()
    ids = reader_ids(len(registrations), seed)
    for index, reg in enumerate(registrations):
        document = None
        if reg.resident_id is not None:
            normalised = normalise_document("resident_id", reg.resident_id, today=TODAY)
            digest = hasher.digest("identity-document", normalised.match_key)
            document = (digest, digest not in held)
            held.add(digest)
            kind = KeyKind.DOCUMENT if document[1] else KeyKind.CLAIMED_DOCUMENT
            keys.append((kind.value, digest, index))
        mobile = hasher.digest("mobile", reg.mobile) if reg.mobile else None
        if mobile:
            keys.append((KeyKind.MOBILE.value, mobile, index))
        name = match_name(reg.family_name, reg.given_name)
        keys.extend((kind.value, digest, index)
                    for kind, digest in name_key_digests(hasher, name, reg.birth_date))
        rows.append(Row(ids[index], reg.family_name, reg.given_name, reg.birth_date, reg.sex,
                        document, mobile, reg.library))
    return rows, keys


def write(path: Path, rows: Sequence[Row], keys: Sequence[tuple[str, str, int]]) -> None:
    with path.open("wb") as out:
        pickle.dump(len(rows), out, protocol=pickle.HIGHEST_PROTOCOL)
        for start in range(0, len(rows), CHUNK):
            pickle.dump(list(rows[start:start + CHUNK]), out, protocol=pickle.HIGHEST_PROTOCOL)
        for start in range(0, len(keys), CHUNK):
            pickle.dump(list(keys[start:start + CHUNK]), out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, out)


def read_rows(source: BinaryIO) -> list[Row]:
    count = pickle.load(source)
    rows: list[Row] = []
    while len(rows) < count:
        rows.extend(pickle.load(source))
    return rows


def stream_keys(source: BinaryIO) -> Iterator[tuple[str, str, int]]:
    while (chunk := pickle.load(source)) is not None:
        yield from chunk
