"""Turning one source row into a reader draft, never rejecting the row.

Legacy data is imperfect. Each rule either repairs what it safely can (15-digit
resident IDs become 18 digits, formatted phones are normalised, traditional
characters stay as written) or drops the bad value and records why. Only a row
missing what the identity database cannot do without (a family name and a birth
date) is not imported, and it is kept, encrypted, in the review list.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from ..context import Context
from ..errors import InvalidInput
from ..identity.documents import NormalisedDocument, normalise_document
from ..identity.phone import normalise_mobile
from ..models import Category
from ..services.registration import age_on, allowed_categories
from .rows import SourceRow

_DATE = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?$")
NAME_MAX = 64
#: The local patron id and barcode a link keeps (``reader_links``' columns).
LOCAL_KEY_MAX = 64


@dataclass
class Draft:
    """What the writer needs for one row; ``problems`` are (field, why) pairs."""

    row: SourceRow
    family_name: str = ""
    given_name: str = ""
    birth_date: dt.date | None = None
    sex: str | None = None
    document: NormalisedDocument | None = None
    mobile: str | None = None
    category: str = Category.ADULT.value
    expiry: dt.date | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    fatal: bool = False  # cannot become a reader


def parse_date(text: str) -> dt.date:
    match = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        raise ValueError("is not a date (use YYYY-MM-DD)")
    return dt.date(*(int(part) for part in match.groups()))


def _visible(ch: str) -> bool:
    """Not a control, format (invisible), surrogate, private-use or unassigned
    character (Unicode category C)."""
    return not unicodedata.category(ch).startswith("C")


def _name(draft: Draft, name: str, *, required: bool) -> str:
    value = "".join(ch for ch in draft.row.get(name) if _visible(ch))
    if value != draft.row.get(name):
        draft.problems.append((name, "control or invisible characters removed"))
    if len(value) > NAME_MAX:
        draft.problems.append((name, f"longer than {NAME_MAX} characters; shortened"))
        value = value[:NAME_MAX]
    if required and not value:
        draft.problems.append((name, "is missing"))
        draft.fatal = True
    return value


def _local_key(draft: Draft, name: str) -> None:
    """A local id or barcode with control characters (a NUL, which PostgreSQL refuses
    in text, failed the whole batch) or too long for a link is left out: the reader
    is imported, unlinked or without the barcode."""
    value = draft.row.get(name)
    if not all(_visible(ch) for ch in value):
        draft.problems.append((name, "holds control or invisible characters; left out"))
    elif len(value) > LOCAL_KEY_MAX:
        draft.problems.append((name, f"longer than {LOCAL_KEY_MAX} characters; left out"))
    else:
        return
    draft.row.fields[name] = ""


def prepare(row: SourceRow, ctx: Context) -> Draft:
    today = ctx.today()
    draft = Draft(row=row, problems=list(row.problems))
    _local_key(draft, "local_id")
    _local_key(draft, "barcode")
    draft.family_name = _name(draft, "family_name", required=True)
    draft.given_name = _name(draft, "given_name", required=False)
    number = row.get("document_number")
    if number:
        try:
            draft.document = normalise_document(row.get("document_type") or "resident_id",
                                                number, country=row.get("document_country")
                                                or None, today=today)
        except InvalidInput as exc:
            draft.problems.append((exc.field or "document_number",
                                   f"{exc.message}; imported without the document"))
    if draft.document is not None and draft.document.converted_from_15:
        draft.problems.append(("document_number", "15-digit number converted to 18 digits"))
    _birth(draft, today)
    sex = row.get("sex").upper()
    if draft.document is not None and draft.document.sex:
        draft.sex = draft.document.sex
    elif sex in ("F", "M"):
        draft.sex = sex
    elif sex:
        draft.problems.append(("sex", "is not F or M; left empty"))
    if row.get("mobile"):
        try:
            draft.mobile = normalise_mobile(row.get("mobile"),
                                            default_region=ctx.settings.province.phone_region)
        except InvalidInput as exc:
            draft.problems.append(("mobile", f"{exc.message}; left empty"))
    if row.get("expiry"):
        try:
            draft.expiry = parse_date(row.get("expiry"))
        except ValueError as exc:
            draft.problems.append(("expiry", str(exc)))
    if draft.birth_date is not None:
        _category(draft, ctx, today)
    return draft


def _birth(draft: Draft, today: dt.date) -> None:
    given: dt.date | None = None
    if draft.row.get("birth_date"):
        try:
            given = parse_date(draft.row.get("birth_date"))
        except ValueError as exc:
            draft.problems.append(("birth_date", str(exc)))
    from_document = draft.document.birth_date if draft.document else None
    if from_document and given and from_document != given:
        draft.problems.append(("birth_date", "differs from the identity number; the number's "
                                             "date is used"))
    birth = from_document or given
    if birth is not None and not (today - dt.timedelta(days=131 * 366) < birth <= today):
        draft.problems.append(("birth_date", "is in the future or more than 130 years ago"))
        birth = None
    if birth is None:
        if not any(f == "birth_date" for f, _ in draft.problems):
            draft.problems.append(("birth_date", "is missing"))
        draft.fatal = True
    draft.birth_date = birth


def _category(draft: Draft, ctx: Context, today: dt.date) -> None:
    assert draft.birth_date is not None
    age = age_on(draft.birth_date, today)
    allowed = allowed_categories(age, ctx)
    wanted = draft.row.get("category").lower()
    if wanted in {c.value for c in allowed}:
        draft.category = wanted
    else:
        if wanted:
            draft.problems.append(("category", f"{wanted!r} does not fit age {age}; "
                                               f"{allowed[0].value} used"))
        draft.category = allowed[0].value
    if draft.category == Category.CHILD:
        draft.problems.append(("guardian", "a child imported without a guardian; add one"))
