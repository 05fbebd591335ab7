"""Reading and changing registered readers: list, update, status, document check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cardsvc.lifecycle import reader_status_changed as reader_card_status_changed
from ..context import Context
from ..duplicates import online as duplicates
from ..errors import Conflict, InvalidInput
from ..identity.documents import mask_document_number
from ..identity.phone import mask_mobile, normalise_mobile
from ..models import Assurance, Library, Reader, Status
from ..schemas import DocumentVerificationIn, ReaderUpdateIn, StatusChangeIn
from . import audit, outbox
from .actor import Actor
from .names import check_name, search_name
from .registration import (
    DOCUMENT_CONTEXT,
    MOBILE_CONTEXT,
    age_on,
    check_password,
    choose_category,
    resolve_library,
)

#: Allowed status changes by staff. ``merged`` is set only by a merge; a
#: cancelled or merged account never comes back (a new registration is needed).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.ACTIVE: frozenset({Status.LOST_REPORTED, Status.SUSPENDED, Status.EXPIRED,
                              Status.CANCELLED}),
    Status.LOST_REPORTED: frozenset({Status.ACTIVE, Status.SUSPENDED, Status.CANCELLED}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.CANCELLED}),
    Status.EXPIRED: frozenset({Status.ACTIVE, Status.CANCELLED}),
    Status.CANCELLED: frozenset(),
    Status.MERGED: frozenset(),
}
REASON_REQUIRED = frozenset({Status.SUSPENDED, Status.CANCELLED})
#: Changes member libraries hear about (through the outbox); mobile and password stay here.
PROPAGATED = frozenset({"family_name", "given_name", "home_library", "category"})


def list_readers(
    session: Session,
    *,
    library: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Sequence[Reader]:
    """Readers in id order, ``limit`` at a time after the id ``after`` (keyset paging)."""
    if not 1 <= limit <= 500:
        raise InvalidInput("must be between 1 and 500", field="limit")
    query = select(Reader).order_by(Reader.id).limit(limit)
    if library:
        query = query.join(Library, Reader.home_library_id == Library.id).where(
            Library.code == library.strip().upper()
        )
    if status:
        if status not in {s.value for s in Status}:
            raise InvalidInput(f"unknown status {status!r}", field="status")
        query = query.where(Reader.status == status)
    if after:
        query = query.where(Reader.id > after)
    return session.scalars(query).all()


def _check_version(reader: Reader, expected: int | None) -> None:
    if expected is not None and expected != reader.version:
        raise Conflict(
            f"the reader was changed since version {expected} (now {reader.version}); "
            "reload and try again",
            field="version",
            code="version_conflict",
        )


def update_reader(
    session: Session, ctx: Context, reader: Reader, data: ReaderUpdateIn, *, actor: Actor
) -> Reader:
    _check_version(reader, data.version)
    if reader.status in (Status.CANCELLED, Status.MERGED):
        raise Conflict(f"a {reader.status} reader cannot be changed", code="reader_closed")
    changed: list[str] = []
    if data.family_name is not None and data.family_name != reader.family_name:
        reader.family_name = check_name(data.family_name, "family_name")
        changed.append("family_name")
    if data.given_name is not None and data.given_name != reader.given_name:
        reader.given_name = check_name(data.given_name, "given_name")
        changed.append("given_name")
    if {"family_name", "given_name"} & set(changed):
        reader.search_name = search_name(reader.family_name, reader.given_name)
    if data.mobile is not None:
        mobile = normalise_mobile(data.mobile, default_region=ctx.settings.province.phone_region)
        digest = ctx.hasher.digest("mobile", mobile)
        if digest != reader.mobile_hash:
            reader.mobile_enc = ctx.cipher.encrypt(mobile, context=MOBILE_CONTEXT)
            reader.mobile_hash = digest
            reader.mobile_verified_at = None
            # A new, unverified number undoes phone verification (not document checks).
            if reader.assurance == Assurance.PHONE_VERIFIED:
                reader.assurance = Assurance.SELF_ASSERTED.value
            changed.append("mobile")
    if data.home_library is not None:
        library = resolve_library(session, data.home_library)
        if library.id != reader.home_library_id:
            reader.home_library = library
            changed.append("home_library")
    if data.category is not None and data.category != reader.category:
        age = age_on(reader.birth_date, ctx.today())
        reader.category = choose_category(data.category, age, ctx).value
        changed.append("category")
    if data.password is not None:
        check_password(data.password, ctx)
        reader.password_hash = ctx.passwords.hash(data.password)
        changed.append("password")
    if changed:
        reader.updated_at = ctx.now()
        session.flush()
        audit.record(session, actor, "reader.update", "reader", reader.id, now=ctx.now(),
                     details={"fields": changed})
        if PROPAGATED & set(changed):
            outbox.enqueue(session, reader, "reader.update", now=ctx.now())
        if {"family_name", "given_name", "mobile"} & set(changed):
            duplicates.check(session, ctx, reader, source="update")
    return reader


def change_status(
    session: Session, ctx: Context, reader: Reader, data: StatusChangeIn, *, actor: Actor
) -> Reader:
    current, target = Status(reader.status), Status(data.status)
    if target == current:
        raise Conflict(f"the reader is already {current}", field="status", code="no_change")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise Conflict(
            f"cannot change a {current} reader to {target} (allowed: {allowed})",
            field="status", code="invalid_transition",
        )
    if target in REASON_REQUIRED and not data.reason:
        raise InvalidInput(f"a reason is required to make a reader {target}", field="reason")
    reader.status = target.value
    reader.updated_at = ctx.now()
    session.flush()
    reader_card_status_changed(session, ctx, reader)
    audit.record(session, actor, "reader.status", "reader", reader.id, now=ctx.now(),
                 reason=data.reason, details={"from": current.value, "to": target.value})
    outbox.enqueue(session, reader, "reader.status", now=ctx.now())
    return reader


def verify_document(
    session: Session, ctx: Context, reader: Reader, data: DocumentVerificationIn, *, actor: Actor
) -> Reader:
    """Staff saw the physical document: the strongest assurance level."""
    if reader.status in (Status.CANCELLED, Status.MERGED):
        raise Conflict(f"a {reader.status} reader cannot be changed", code="reader_closed")
    now = ctx.now()
    for document in reader.documents:
        document.verified_at = now
    before = reader.assurance
    reader.assurance = Assurance.DOCUMENT_VERIFIED.value
    reader.updated_at = now
    session.flush()
    audit.record(session, actor, "reader.document_verified", "reader", reader.id, now=now,
                 reason=data.reason, details={"from": before})
    return reader


def reader_view(reader: Reader, ctx: Context) -> dict[str, Any]:
    """What staff see: ids and attributes, personal numbers masked."""
    mobile = ctx.cipher.decrypt(reader.mobile_enc, context=MOBILE_CONTEXT) if (
        reader.mobile_enc
    ) else None
    return {
        "id": reader.id,
        "card_number": reader.card_number,
        "family_name": reader.family_name,
        "given_name": reader.given_name,
        "sex": reader.sex,
        "birth_date": reader.birth_date.isoformat(),
        "category": reader.category,
        "status": reader.status,
        "assurance": reader.assurance,
        "home_library": reader.home_library.code,
        "guardian_id": reader.guardian_id,
        "merged_into": reader.merged_into,
        "mobile": mask_mobile(mobile) if mobile else None,
        "mobile_verified": reader.mobile_verified_at is not None,
        "documents": [
            {
                "type": doc.doc_type,
                "country": doc.country,
                "number": mask_document_number(
                    ctx.cipher.decrypt(doc.number_enc, context=DOCUMENT_CONTEXT)
                ),
                "verified": doc.verified_at is not None,
            }
            for doc in reader.documents
        ],
        "expires_on": reader.expires_on.isoformat(),
        "created_at": reader.created_at.isoformat(),
        "updated_at": reader.updated_at.isoformat(),
        "version": reader.version,
    }
