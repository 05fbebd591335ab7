"""The member-library registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.errors import ConfigError

from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import Library
from ..schemas import LibraryIn
from . import audit
from .actor import Actor, Role
from .library_adapters import parse_library_adapter, set_adapter


def get_library(session: Session, code: str) -> Library:
    library = session.scalar(select(Library).where(Library.code == code.strip().upper()))
    if library is None:
        raise NotFound(f"no member library with code {code.strip().upper()!r}", field="code")
    return library


def list_libraries(session: Session) -> Sequence[Library]:
    return session.scalars(select(Library).order_by(Library.code)).all()


def add_library(session: Session, data: LibraryIn, *, actor: Actor, now: dt.datetime) -> Library:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise Forbidden("only province administrators add member libraries")
    if session.scalar(select(Library.id).where(Library.code == data.code)) is not None:
        raise Conflict(f"a member library with code {data.code!r} already exists", field="code")
    library = Library(code=data.code, name=data.name, kind=data.kind, created_at=now)
    session.add(library)
    session.flush()
    audit.record(
        session, actor, "library.add", "library", library.code, now=now,
        details={"name": library.name, "kind": library.kind},
    )
    return library


def load_registry(
    session: Session, registry: Mapping[str, Any], *, actor: Actor, now: dt.datetime
) -> tuple[list[Library], list[Library]]:
    """Add the ``[[library]]`` entries of a registry file; return (added, unchanged).

    Every entry is validated before anything is written, so a bad file changes nothing.
    """
    entries = registry.get("library")
    if not isinstance(entries, list) or not entries:
        raise InvalidInput("the registry has no [[library]] entries", field="library")
    parsed: list[LibraryIn] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise InvalidInput(f"entry {index} is not a table", field="library")
        fields = {key: entry[key] for key in ("code", "name", "kind") if key in entry}
        try:
            parsed.append(LibraryIn.model_validate(fields))
        except ValidationError as exc:
            error = exc.errors()[0]
            name = ".".join(str(p) for p in error["loc"])
            raise InvalidInput(f"entry {index}: {name}: {error['msg']}", field="library") from None
    codes = [item.code for item in parsed]
    if len(set(codes)) != len(codes):
        raise InvalidInput("the registry lists a library code twice", field="library")
    adapter_tables = _adapter_tables(entries, parsed)
    added: list[Library] = []
    unchanged: list[Library] = []
    for item in parsed:
        existing = session.scalar(select(Library).where(Library.code == item.code))
        if existing is not None:
            unchanged.append(existing)
        else:
            added.append(add_library(session, item, actor=actor, now=now))
    for library in (*added, *unchanged):
        if library.code in adapter_tables:
            set_adapter(session, library, adapter_tables[library.code], actor=actor, now=now)
    return added, unchanged


def _adapter_tables(entries: list[Any], parsed: list[LibraryIn]) -> dict[str, dict[str, Any]]:
    """Each entry's ``[library.adapter]`` table, validated before anything is written."""
    tables: dict[str, dict[str, Any]] = {}
    for index, (entry, item) in enumerate(zip(entries, parsed, strict=True), start=1):
        if "adapter" not in entry:
            continue
        try:
            parse_library_adapter(entry["adapter"], f"library.{item.code}.adapter")
        except ConfigError as exc:
            raise InvalidInput(f"entry {index}: {exc}", field="library") from None
        tables[item.code] = dict(entry["adapter"])
    return tables


def library_view(library: Library) -> dict[str, Any]:
    return {
        "code": library.code,
        "name": library.name,
        "kind": library.kind,
        "created_at": library.created_at.isoformat(),
    }
