"""Registering a reader: the rules of DESIGN "Reader identity".

One identity per identity document (keyed hash, unique in the database), a
resident-ID number fixes birth date and sex, the category follows from age, a
child needs a registered adult guardian, and personal numbers are stored only
encrypted. The reader's card (random serial, status-list index) is issued in the
same transaction, so it exists from the first moment.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..cardsvc import lifecycle
from ..context import Context
from ..duplicates import online as duplicates
from ..errors import Conflict, InvalidInput, NotFound
from ..identity.documents import NormalisedDocument, normalise_document
from ..identity.phone import normalise_mobile
from ..models import Assurance, Category, IdentityDocument, Library, Reader, Status
from ..schemas import RegistrationIn
from . import audit, outbox
from .actor import Actor
from .lookup import find_reader
from .names import check_name, search_name
from .numbers import new_card_number, new_reader_id

DOCUMENT_CONTEXT = "identity_document"
MOBILE_CONTEXT = "mobile"
DUPLICATE_DOCUMENT = (
    "this identity document is already registered; a reader who has lost their card "
    "or password can recover it at any member library"
)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def allowed_categories(age: int, ctx: Context) -> tuple[Category, ...]:
    rules = ctx.settings.registration
    if age < rules.guardian_required_under:
        return (Category.CHILD,)
    if age < rules.adult_age:
        return (Category.TEEN, Category.E_RESOURCE_ONLY)
    return (Category.ADULT, Category.FAMILY, Category.TEMPORARY, Category.E_RESOURCE_ONLY)


def choose_category(requested: str | None, age: int, ctx: Context) -> Category:
    allowed = allowed_categories(age, ctx)
    if requested is None:
        return allowed[0]
    if requested not in allowed:
        names = ", ".join(c.value for c in allowed)
        raise InvalidInput(f"a reader aged {age} may be {names}, not {requested}", field="category")
    return Category(requested)


def check_password(password: str, ctx: Context) -> None:
    minimum = ctx.settings.registration.password_min_length
    if len(password) < minimum:
        raise InvalidInput(f"must be at least {minimum} characters", field="password")
    if len(set(password)) < 4:
        raise InvalidInput("is too simple: use at least 4 different characters", field="password")


def resolve_library(session: Session, code: str, field: str = "home_library") -> Library:
    library = session.scalar(select(Library).where(Library.code == code))
    if library is None:
        raise InvalidInput(f"no member library has the code {code!r}", field=field)
    return library


def _birth_and_sex(data: RegistrationIn, doc: NormalisedDocument, today: dt.date) -> tuple[
    dt.date, str | None
]:
    birth = doc.birth_date or data.birth_date
    if birth is None:
        raise InvalidInput("is required for this kind of identity document", field="birth_date")
    if doc.birth_date and data.birth_date and data.birth_date != doc.birth_date:
        raise InvalidInput("does not match the birth date in the identity number",
                           field="birth_date")
    if doc.sex and data.sex and data.sex != doc.sex:
        raise InvalidInput("does not match the sex encoded in the identity number", field="sex")
    if birth > today:
        raise InvalidInput("is in the future", field="birth_date")
    if age_on(birth, today) > 130:
        raise InvalidInput("is more than 130 years ago", field="birth_date")
    return birth, doc.sex or data.sex


def _guardian(session: Session, ref: str | None, age: int, ctx: Context) -> Reader | None:
    rules = ctx.settings.registration
    if age >= rules.guardian_required_under:
        return None
    if not ref:
        raise InvalidInput(
            f"a reader under {rules.guardian_required_under} needs a guardian: "
            "give the guardian's card number or reader id",
            field="guardian",
        )
    try:
        guardian = find_reader(session, ref)
    except NotFound:
        raise InvalidInput("no registered reader has this card number or id",
                           field="guardian") from None
    if age_on(guardian.birth_date, ctx.today()) < rules.adult_age:
        raise InvalidInput("the guardian must be an adult reader", field="guardian")
    if guardian.status != Status.ACTIVE:
        raise InvalidInput(f"the guardian's account is {guardian.status}", field="guardian")
    return guardian


def register_reader(session: Session, ctx: Context, data: RegistrationIn, *, actor: Actor) -> (
    Reader
):
    now, today = ctx.now(), ctx.today()
    check_name(data.family_name, "family_name")
    check_name(data.given_name, "given_name")
    library = resolve_library(session, data.home_library)
    doc = normalise_document(
        data.document_type, data.document_number, country=data.document_country, today=today
    )
    birth, sex = _birth_and_sex(data, doc, today)
    age = age_on(birth, today)
    category = choose_category(data.category, age, ctx)
    guardian = _guardian(session, data.guardian, age, ctx)
    mobile = normalise_mobile(data.mobile, default_region=ctx.settings.province.phone_region) if (
        data.mobile
    ) else None
    if mobile is None and category is not Category.CHILD:
        raise InvalidInput("is required (children may use their guardian's)", field="mobile")
    if data.password is not None:
        check_password(data.password, ctx)

    match_hash = ctx.hasher.digest("identity-document", doc.match_key)
    if session.scalar(
        select(IdentityDocument.id).where(IdentityDocument.match_hash == match_hash)
    ) is not None:
        raise Conflict(DUPLICATE_DOCUMENT, field="document_number", code="duplicate_document")

    reader = Reader(
        id=new_reader_id(),
        card_number=new_card_number(),
        family_name=data.family_name,
        given_name=data.given_name,
        search_name=search_name(data.family_name, data.given_name),
        sex=sex,
        birth_date=birth,
        mobile_enc=ctx.cipher.encrypt(mobile, context=MOBILE_CONTEXT) if mobile else None,
        mobile_hash=ctx.hasher.digest("mobile", mobile) if mobile else None,
        category=category.value,
        status=Status.ACTIVE.value,
        assurance=Assurance.SELF_ASSERTED.value,
        guardian_id=guardian.id if guardian else None,
        home_library_id=library.id,
        password_hash=ctx.passwords.hash(data.password) if data.password else None,
        expires_on=_years_later(today, ctx.settings.registration.card_validity_years),
        created_at=now,
        updated_at=now,
    )
    document = IdentityDocument(
        doc_type=doc.doc_type.value,
        country=doc.country,
        number_enc=ctx.cipher.encrypt(doc.number, context=DOCUMENT_CONTEXT),
        match_hash=match_hash,
        converted_from_15=doc.converted_from_15,
        created_at=now,
    )
    reader.documents.append(document)
    try:
        with session.begin_nested():
            session.add(reader)
            session.flush()
    except IntegrityError as exc:
        # A concurrent registration of the same document won the race.
        if "match_hash" in str(exc.orig):
            raise Conflict(DUPLICATE_DOCUMENT, field="document_number",
                           code="duplicate_document") from None
        raise
    audit.record(
        session, actor, "reader.register", "reader", reader.id, now=now,
        details={
            "home_library": library.code,
            "category": category.value,
            "document_type": doc.doc_type.value,
            "document_hash": match_hash,
            "guardian": reader.guardian_id,
        },
    )
    outbox.enqueue(session, reader, "reader.register", now=now)
    duplicates.check(session, ctx, reader, source="registration")
    # The card last: its status-list index locks the list's head row until commit.
    lifecycle.issue(session, ctx, reader, actor=actor)
    return reader


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
