"""One patron from an import source, as text fields plus what the source said
about it (problems found while reading, before any validation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters import LocalPatron, ProvinceCategory

#: The columns of an import file; every one is optional except as noted in README.
COLUMNS = ("local_id", "barcode", "family_name", "given_name", "birth_date", "sex",
           "document_type", "document_number", "document_country", "mobile", "category",
           "expiry")


@dataclass
class SourceRow:
    ref: str  # where it came from: the local patron id, or "record N" of a file
    cursor: str  # what to resume after
    fields: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, problem)
    backlink: str | None = None  # the province reader id the library already holds
    local_version: str | None = None

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()


def from_patron(patron: LocalPatron, categories: Mapping[str, ProvinceCategory]) -> SourceRow:
    """A row from a patron read through the library's adapter.

    ``categories`` maps the library's local category codes back to province ones;
    an unmapped code leaves the province category to be chosen by age.
    """
    province = categories.get(patron.category)
    return SourceRow(
        ref=patron.local_id,
        cursor=patron.local_id,
        fields={
            "local_id": patron.local_id,
            "barcode": patron.barcode,
            "family_name": patron.surname,
            "given_name": patron.first_name,
            "birth_date": patron.birth_date.isoformat() if patron.birth_date else "",
            "category": province.value if province else "",
            "expiry": patron.expiry.isoformat() if patron.expiry else "",
        },
        backlink=patron.reader_id,
        local_version=patron.version,
    )
