"""Input shapes shared by the JSON API, the pages and the CLI.

Pydantic checks types and sizes; the service layer applies the domain rules.
The OpenAPI document is generated from these same classes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9-]{2,16}$")
]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Password = Annotated[str, StringConstraints(max_length=128)]

CATEGORIES = ("adult", "teen", "child", "family", "temporary", "e_resource_only")
DOCUMENT_TYPES = ("resident_id", "hk_macao_permit", "taiwan_permit", "passport", "social_security")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegistrationIn(_In):
    """A new reader. The birth date and sex come from a resident-ID number when
    it has them; if also given they must agree with it."""

    family_name: Name
    given_name: Name
    document_type: Literal[
        "resident_id", "hk_macao_permit", "taiwan_permit", "passport", "social_security"
    ]
    document_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    document_country: Annotated[str, StringConstraints(max_length=3)] | None = Field(
        default=None, description="ISO 3166-1 alpha-3; required for passports"
    )
    birth_date: dt.date | None = None
    sex: Literal["F", "M"] | None = None
    mobile: Annotated[str, StringConstraints(max_length=32)] | None = None
    home_library: Code
    category: Literal["adult", "teen", "child", "family", "temporary", "e_resource_only"] | None = (
        None
    )
    guardian: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = (
        Field(default=None, description="card number or reader id of the guardian (under 14)")
    )
    password: Password | None = None


class ReaderUpdateIn(_In):
    family_name: Name | None = None
    given_name: Name | None = None
    mobile: Annotated[str, StringConstraints(max_length=32)] | None = None
    home_library: Code | None = None
    category: Literal["adult", "teen", "child", "family", "temporary", "e_resource_only"] | None = (
        None
    )
    password: Password | None = None
    version: int | None = Field(default=None, description="reject if the reader changed since")


class StatusChangeIn(_In):
    status: Literal["active", "lost_reported", "suspended", "expired", "cancelled"]
    reason: Reason | None = None


class DocumentVerificationIn(_In):
    reason: Reason | None = Field(default=None, description="how the document was checked")


class MobileCodeIn(_In):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class LibraryIn(_In):
    code: Code
    name: Text200
    kind: Literal["public", "academic", "school", "special"] = "public"


ReaderRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class MergePlanIn(_In):
    survivor: ReaderRef = Field(description="reader id or card number of the reader that stays")
    other: ReaderRef = Field(description="reader id or card number of the reader merged away")


class MergeIn(MergePlanIn):
    reason: Reason | None = Field(default=None, description="why these two are one person")
    pair_id: int | None = Field(default=None, description="the duplicate pair this settles")


class UnmergeIn(_In):
    reason: Reason | None = None


class ProposalIn(_In):
    reader_a: ReaderRef
    reader_b: ReaderRef
    reason: Reason | None = Field(default=None, description="why staff think they are one")
