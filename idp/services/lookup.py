"""Finding readers by what people type: card number, reader id, document or mobile."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..errors import InvalidInput, NotFound
from ..identity.documents import DocumentType, normalise_document
from ..identity.phone import normalise_mobile
from ..models import IdentityDocument, Reader
from .names import search_name
from .numbers import is_card_number, is_reader_id

#: Longer chains of merged readers mean a cycle: merges refuse tombstones, so none forms.
_MAX_CHAIN = 32


def find_reader(session: Session, ref: str, *, follow: bool = True) -> Reader:
    """A reader by reader id or province card number, else :class:`NotFound`.

    The id and card number of a reader merged into another keep resolving: to the
    surviving reader, unless ``follow`` is false (then the tombstone itself).
    """
    ref = ref.strip()
    reader: Reader | None = None
    if is_reader_id(ref):
        reader = session.get(Reader, ref)
    elif is_card_number(ref):
        reader = session.scalar(select(Reader).where(Reader.card_number == ref))
    if reader is None:
        raise NotFound("no reader with this id or card number", field="reader")
    return surviving(session, reader) if follow else reader


def surviving(session: Session, reader: Reader) -> Reader:
    """The reader a tombstone was merged into, following later merges; ``reader``
    itself when it is not a tombstone."""
    for _ in range(_MAX_CHAIN):
        if reader.merged_into is None:
            return reader
        target = session.get(Reader, reader.merged_into)
        if target is None:
            break
        reader = target
    raise RuntimeError(f"the merge chain of reader {reader.id} does not end")


def resolves_to(session: Session, ref_id: str | None, reader_id: str) -> bool:
    """Whether reader id ``ref_id`` is ``reader_id`` or a tombstone merged into it
    (e.g. a library's back-link written before the merge)."""
    if ref_id is None:
        return False
    if ref_id == reader_id:
        return True
    found = session.get(Reader, ref_id)
    return found is not None and found.merged_into is not None and (
        surviving(session, found).id == reader_id)


def search_readers(session: Session, ctx: Context, query: str, *, limit: int = 50) -> (
    Sequence[Reader]
):
    """One search box: exact id, card number, resident-ID number or mobile
    (through their keyed hashes), otherwise a prefix of the full name."""
    text = query.strip()
    if not text:
        raise InvalidInput("the search text is empty", field="q")
    if len(text) > 64:
        raise InvalidInput("the search text is longer than 64 characters", field="q")
    if is_reader_id(text) or is_card_number(text):
        try:
            return [find_reader(session, text)]
        except NotFound:
            return []
    compact = text.replace(" ", "")
    if len(compact) in (15, 18) and compact[:-1].isdigit():
        try:
            doc = normalise_document(DocumentType.RESIDENT_ID, compact, today=ctx.today())
        except InvalidInput:
            pass
        else:
            digest = ctx.hasher.digest("identity-document", doc.match_key)
            query_doc = select(Reader).join(IdentityDocument).where(
                IdentityDocument.match_hash == digest
            )
            return session.scalars(query_doc).all()
    if any(char.isdigit() for char in text):
        try:
            mobile = normalise_mobile(text, default_region=ctx.settings.province.phone_region)
        except InvalidInput:
            pass
        else:
            digest = ctx.hasher.digest("mobile", mobile)
            return session.scalars(
                select(Reader).where(Reader.mobile_hash == digest).order_by(Reader.created_at)
                .limit(limit)
            ).all()
    prefix = search_name(text, "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return session.scalars(
        select(Reader)
        .where(Reader.search_name.like(prefix + "%", escape="\\"))
        .order_by(Reader.search_name, Reader.id)
        .limit(limit)
    ).all()
