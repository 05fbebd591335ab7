"""What a merge records so that unmerge can put the other reader back.

The snapshot is JSON in ``reader_merges.snapshot``: the other reader's columns
as they were, the survivor's columns for every attribute it took from the other,
the ids of the documents, wards and links that moved, and both readers' blocking
keys (claimed-document keys cannot be recomputed). Personal numbers appear only
as the ciphertexts the reader rows held (``mobile_enc``), which ``pii rotate``
re-encrypts like the rows themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import MatchKey, Reader
from ..pii import PiiCipher

FORMAT = 1

#: The reader columns behind each attribute of ``merge_rules.RULES`` (and assurance).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("family_name", "given_name", "search_name"),
    "sex": ("sex",),
    "birth_date": ("birth_date",),
    "mobile": ("mobile_enc", "mobile_hash", "mobile_verified_at"),
    "home_library": ("home_library_id",),
    "category": ("category",),
    "expires_on": ("expires_on",),
    "password": ("password_hash",),
    "guardian": ("guardian_id",),
    "assurance": ("assurance",),
}
#: The columns that tell whether an attribute changed since the merge. A ciphertext
#: changes when the PII key rotates; the keyed hash of the number does not.
COMPARED: dict[str, tuple[str, ...]] = {
    **COLUMNS,
    "name": ("family_name", "given_name"),
    "mobile": ("mobile_hash", "mobile_verified_at"),
}
#: Everything of the other reader a merge changes.
OTHER_COLUMNS: tuple[str, ...] = (
    *(column for columns in COLUMNS.values() for column in columns), "status", "updated_at")
#: Columns holding ciphertexts, with their encryption context.
CIPHERTEXTS = {"mobile_enc": "mobile"}
#: The parts of a snapshot that hold reader columns.
SECTIONS = ("other", "survivor", "survivor_after")

_DATES = frozenset({"birth_date", "expires_on"})
_MOMENTS = frozenset({"mobile_verified_at", "updated_at"})


def _out(column: str, value: Any) -> Any:
    if value is not None and (column in _DATES or column in _MOMENTS):
        return value.isoformat()
    return value


def _in(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _DATES:
        return dt.date.fromisoformat(value)
    if column in _MOMENTS:
        return dt.datetime.fromisoformat(value)
    return value


def dump(reader: Reader, columns: tuple[str, ...]) -> dict[str, Any]:
    return {column: _out(column, getattr(reader, column)) for column in columns}


def load(reader: Reader, values: dict[str, Any]) -> None:
    for column, value in values.items():
        setattr(reader, column, _in(column, value))


def same(reader: Reader, values: dict[str, Any], attribute: str) -> bool:
    """Whether ``reader`` still holds ``values`` for ``attribute``."""
    return all(getattr(reader, column) == _in(column, values.get(column))
               for column in COMPARED[attribute])


def keys_of(session: Session, reader_id: str) -> list[list[str]]:
    return [[kind, digest] for kind, digest in session.execute(
        select(MatchKey.kind, MatchKey.digest).where(MatchKey.reader_id == reader_id)
        .order_by(MatchKey.kind, MatchKey.digest))]


def taken_columns(attributes: list[str]) -> tuple[str, ...]:
    return tuple(column for attribute in attributes for column in COLUMNS[attribute])


def reencrypted(snapshot: dict[str, Any], cipher: PiiCipher) -> dict[str, Any] | None:
    """The snapshot with every ciphertext under the cipher's current key, or None
    when all of them already are."""
    changed = False
    copy = dict(snapshot)
    for section in SECTIONS:
        values = copy.get(section)
        if not isinstance(values, dict):
            continue
        for column, context in CIPHERTEXTS.items():
            stored = values.get(column)
            if isinstance(stored, str) and cipher.needs_rotation(stored):
                values = {**values, column: cipher.encrypt(
                    cipher.decrypt(stored, context=context), context=context)}
                changed = True
        copy[section] = values
    return copy if changed else None
