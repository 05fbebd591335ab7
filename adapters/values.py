"""Frozen values exchanged through the port, all in the library's local terms.

Province values (categories, expiry policy) are turned into these by
:mod:`adapters.mapping`; a backend never sees province categories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapters.errors import Rejected


def _require_text(value: str, field: str) -> None:
    if not value.strip():
        raise Rejected("must not be empty", field=field)


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A new local patron. ``category`` and ``branch`` are local codes."""

    barcode: str
    surname: str
    first_name: str
    birth_date: date | None
    category: str
    branch: str
    expiry: date

    def __post_init__(self) -> None:
        _require_text(self.barcode, "barcode")
        if self.barcode != self.barcode.strip():
            raise Rejected("must not start or end with spaces", field="barcode")
        _require_text(self.surname, "surname")
        _require_text(self.category, "category")
        _require_text(self.branch, "branch")


@dataclass(frozen=True, slots=True)
class PatronPatch:
    """Province-owned fields to change; ``None`` leaves a field as it is.

    Category, branch and blocks are absent on purpose: the library owns them
    (DESIGN "Ownership"), so the province cannot overwrite them by update.
    """

    surname: str | None = None
    first_name: str | None = None
    birth_date: date | None = None
    expiry: date | None = None

    def __post_init__(self) -> None:
        if self.surname is not None:
            _require_text(self.surname, "surname")

    def is_empty(self) -> bool:
        return all(
            v is None for v in (self.surname, self.first_name, self.birth_date, self.expiry)
        )


@dataclass(frozen=True, slots=True)
class PatronMatch:
    """Criteria that must all hold. Names compare exactly as stored.

    At least one identifying criterion is required: the back-link ``reader_id``,
    the ``barcode``, or ``surname`` together with ``birth_date`` (a surname alone
    matches whole families).
    """

    reader_id: str | None = None
    barcode: str | None = None
    surname: str | None = None
    first_name: str | None = None
    birth_date: date | None = None

    def __post_init__(self) -> None:
        if self.reader_id is None and self.barcode is None and (
            self.surname is None or self.birth_date is None
        ):
            raise Rejected(
                "give reader_id, barcode, or surname with birth_date", field="match"
            )


@dataclass(frozen=True, slots=True)
class LocalPatron:
    """A patron as the library system holds it.

    ``version`` is an opaque token that changes whenever the stored patron
    changes; pass it back to ``update`` as ``expected_version``.
    ``blocked_locally`` covers every block the library set (debarments, lost card,
    barred flags); ``blocked_by_province`` only the block the province set.
    """

    local_id: str
    barcode: str
    surname: str
    first_name: str
    birth_date: date | None
    category: str
    branch: str | None
    expiry: date | None
    blocked_locally: bool
    blocked_by_province: bool
    reader_id: str | None
    version: str

    @property
    def blocked(self) -> bool:
        return self.blocked_locally or self.blocked_by_province


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Result of a health probe; ``detail`` never contains personal data."""

    ok: bool
    detail: str
