"""Who is acting: recorded on every audit event and checked by role rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    ADMIN = "admin"  # province administrator
    STAFF = "staff"  # member-library staff
    READER = "reader"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    role: Role
    name: str
    #: Code of the member library library staff work for; None for everyone else.
    library: str | None = None

    def __str__(self) -> str:
        return f"{self.role.value}:{self.name}"

    @classmethod
    def cli(cls, name: str = "cli") -> Actor:
        return cls(Role.ADMIN, name)

    @classmethod
    def reader(cls, reader_id: str) -> Actor:
        return cls(Role.READER, reader_id)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(Role.SYSTEM, name)
