"""Blocking keys: two readers are compared only when they share one.

Every key is a keyed hash (DESIGN "Duplicates and merge"): a valid resident-ID
number; an E.164 mobile; the toneless pinyin of the name with the birth date; the
simplified family name with the birth date. Keys are kept in ``reader_match_keys``
and refreshed whenever a reader's name, birth date, mobile or documents change.
A tombstone (merged reader) has no keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..context import Context
from ..models import IdentityDocument, KeyKind, MatchKey, Reader, Status
from ..pii import KeyedHasher
from .features import MatchName, match_name, matching_birth_date

#: The hash purpose of each key kind; documents and mobiles reuse the purposes of
#: the identity database, so their keys equal the stored ``match_hash``/``mobile_hash``.
PURPOSE = {
    KeyKind.PINYIN_BIRTH: "duplicates-pinyin-birth",
    KeyKind.SURNAME_BIRTH: "duplicates-surname-birth",
}


def name_keys(ctx: Context, name: MatchName, birth_date: dt.date | None) -> Iterator[
    tuple[KeyKind, str]
]:
    return name_key_digests(ctx.hasher, name, birth_date)


def name_key_digests(hasher: KeyedHasher, name: MatchName, birth_date: dt.date | None
                     ) -> Iterator[tuple[KeyKind, str]]:
    """The name keys under a bare hasher (for tools that have no Context). A filler
    birth date makes no key: it would put every reader without one in one block."""
    birth_date = matching_birth_date(birth_date)
    if birth_date is None:
        return
    born = birth_date.isoformat()
    if name.pinyin:
        yield KeyKind.PINYIN_BIRTH, hasher.digest(
            PURPOSE[KeyKind.PINYIN_BIRTH], " ".join(name.pinyin) + "\x00" + born)
    if name.family:
        yield KeyKind.SURNAME_BIRTH, hasher.digest(
            PURPOSE[KeyKind.SURNAME_BIRTH], name.family + "\x00" + born)


def reader_keys(ctx: Context, reader: Reader, documents: Iterable[str]) -> set[tuple[str, str]]:
    """The computed keys of ``reader``; ``documents`` are the keyed hashes of the
    resident IDs it holds."""
    keys = {(KeyKind.DOCUMENT.value, digest) for digest in documents}
    if reader.mobile_hash:
        keys.add((KeyKind.MOBILE.value, reader.mobile_hash))
    name = match_name(reader.family_name, reader.given_name)
    keys.update((kind.value, digest) for kind, digest in name_keys(ctx, name, reader.birth_date))
    return keys


RESIDENT_ID_TYPES = ("resident_id", "social_security")  # one number space (CN-RID)
DOCUMENT_KINDS = (KeyKind.DOCUMENT.value, KeyKind.CLAIMED_DOCUMENT.value)


def resident_id_hashes(session: Session, reader_id: str) -> set[str]:
    """Hashes of the resident-ID documents the reader holds."""
    return set(session.scalars(select(IdentityDocument.match_hash).where(
        IdentityDocument.reader_id == reader_id,
        IdentityDocument.doc_type.in_(RESIDENT_ID_TYPES))))


def refresh_keys(session: Session, ctx: Context, reader: Reader,
                 claimed_documents: Iterable[str] = ()) -> None:
    """Bring the reader's stored keys in line with the reader as it is now.

    ``claimed_documents`` adds resident-ID hashes the reader claims but cannot hold
    (an imported patron whose number is registered to someone else): they are
    exactly what duplicate detection must see.
    """
    session.flush()
    if reader.status == Status.MERGED:
        drop_keys(session, reader.id)
        return
    stored = {(kind, digest) for kind, digest in session.execute(
        select(MatchKey.kind, MatchKey.digest).where(MatchKey.reader_id == reader.id))}
    held = resident_id_hashes(session, reader.id)
    wanted = reader_keys(ctx, reader, held)
    claimed = {digest for kind, digest in stored if kind == KeyKind.CLAIMED_DOCUMENT}
    claimed |= set(claimed_documents)
    wanted |= {(KeyKind.CLAIMED_DOCUMENT.value, digest) for digest in claimed - held}
    for kind, digest in stored - wanted:
        session.execute(delete(MatchKey).where(MatchKey.reader_id == reader.id,
                                               MatchKey.kind == kind, MatchKey.digest == digest))
    session.add_all(MatchKey(reader_id=reader.id, kind=kind, digest=digest)
                    for kind, digest in sorted(wanted - stored))
    session.flush()


def drop_keys(session: Session, reader_id: str) -> None:
    session.execute(delete(MatchKey).where(MatchKey.reader_id == reader_id))


def rebuild_keys(session: Session, ctx: Context, reader_ids: Iterable[str]) -> int:
    """Recompute the stored keys of ``reader_ids`` (claimed documents are kept)."""
    count = 0
    for reader_id in reader_ids:
        reader = session.get(Reader, reader_id)
        if reader is not None:
            refresh_keys(session, ctx, reader)
            count += 1
    return count
