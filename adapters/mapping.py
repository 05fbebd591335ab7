"""Per-library mapping of province reader fields onto a library's local terms.

The province owns identity fields (names, birth date) and the reader's province
category; each library owns its local category codes, branches and loan rules
(DESIGN "Ownership"). A library's mapping says which local category each
province category becomes, which branch new patrons get, how their local expiry
is set, and which local field holds the back-link to the province reader.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from adapters.config import Table
from adapters.errors import ConfigError, Rejected
from adapters.values import CreateRequest, PatronMatch, PatronPatch


class ProvinceCategory(enum.StrEnum):
    ADULT = "adult"
    TEEN = "teen"
    CHILD = "child"
    FAMILY = "family"
    TEMPORARY = "temporary"
    E_RESOURCE_ONLY = "e_resource_only"


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class MonthsFromToday:
    """Local expiry is a fixed enrolment period from the day the patron is created,
    as Koha's ``categories.enrolmentperiod`` does; updates leave it to the library."""

    months: int

    def at_create(self, province_expiry: date | None, today: date) -> date:
        return add_months(today, self.months)

    def on_update(self, province_expiry: date | None) -> date | None:
        return None


@dataclass(frozen=True, slots=True)
class SameAsProvince:
    """Local expiry follows the province card's expiry, at creation and on every update."""

    def at_create(self, province_expiry: date | None, today: date) -> date:
        if province_expiry is None:
            raise Rejected("the library copies the province expiry, but it has none",
                           field="expiry")
        return province_expiry

    def on_update(self, province_expiry: date | None) -> date | None:
        return province_expiry


ExpiryPolicy = MonthsFromToday | SameAsProvince


@dataclass(frozen=True, slots=True)
class ProvinceReader:
    """The province fields a library receives (never identity document numbers)."""

    reader_id: str
    surname: str
    first_name: str
    birth_date: date | None
    category: ProvinceCategory
    expiry: date | None


@dataclass(frozen=True, slots=True)
class LibraryMapping:
    categories: Mapping[ProvinceCategory, str]
    default_branch: str
    expiry: ExpiryPolicy
    backlink_field: str

    def local_category(self, category: ProvinceCategory) -> str:
        try:
            return self.categories[category]
        except KeyError:
            # A library may simply not offer e.g. e-resource-only membership.
            raise Rejected(
                f"this library has no local category for province category {category.value!r}",
                field="category",
            ) from None

    def create_request(
        self, reader: ProvinceReader, *, barcode: str, today: date, branch: str | None = None
    ) -> CreateRequest:
        return CreateRequest(
            barcode=barcode,
            surname=reader.surname,
            first_name=reader.first_name,
            birth_date=reader.birth_date,
            category=self.local_category(reader.category),
            branch=branch or self.default_branch,
            expiry=self.expiry.at_create(reader.expiry, today),
        )

    def patch(self, reader: ProvinceReader) -> PatronPatch:
        """Province-owned fields only; category and branch stay the library's."""
        return PatronPatch(
            surname=reader.surname,
            first_name=reader.first_name,
            birth_date=reader.birth_date,
            expiry=self.expiry.on_update(reader.expiry),
        )

    @staticmethod
    def match_linked(reader: ProvinceReader) -> PatronMatch:
        return PatronMatch(reader_id=reader.reader_id)


def _expiry_from(table: Table) -> ExpiryPolicy:
    table.only(("policy", "months"))
    policy = table.text("policy")
    if policy == "same_as_province":
        if "months" in table:
            raise ConfigError(table.key("months"), "only for policy 'months_from_today'")
        return SameAsProvince()
    if policy == "months_from_today":
        return MonthsFromToday(table.integer("months", minimum=1))
    raise ConfigError(
        table.key("policy"), f"unknown {policy!r}; use 'months_from_today' or 'same_as_province'"
    )


def mapping_from_dict(data: object, path: str = "mapping") -> LibraryMapping:
    """Validate a mapping table, e.g.::

        [mapping]
        default_branch = "MAIN"
        backlink_field = "READERPASS"
        expiry = { policy = "months_from_today", months = 36 }
        categories = { adult = "PT", child = "J", teen = "YA" }
    """
    table = Table(data, path)
    table.only(("categories", "default_branch", "expiry", "backlink_field"))
    cats = table.table("categories")
    categories: dict[ProvinceCategory, str] = {}
    for name in sorted(cats.raw_keys()):
        try:
            category = ProvinceCategory(name)
        except ValueError:
            known = ", ".join(c.value for c in ProvinceCategory)
            raise ConfigError(cats.key(name), f"unknown province category; use {known}") from None
        categories[category] = cats.text(name)
    if not categories:
        raise ConfigError(cats.path, "map at least one province category")
    return LibraryMapping(
        categories=MappingProxyType(categories),
        default_branch=table.text("default_branch"),
        expiry=_expiry_from(table.table("expiry")),
        backlink_field=table.text("backlink_field"),
    )
