"""Backend registry: a name in a library's configuration -> typed config + factory.

Register, don't branch (Authlib's ``register_grant``): adding a backend is one new
module exposing ``BACKEND = Backend(...)`` and one line in ``_BACKENDS``. Entries
are import paths so that loading the registry does not import every driver (a
library on FOLIO never needs pymysql).

A library's adapter table looks like::

    [libraries.city.adapter]
    backend = "koha_sql"
    url = "mysql+pymysql://readerpass@koha-db/koha"
    [libraries.city.adapter.mapping]
    ...  # see adapters.mapping.mapping_from_dict
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

from adapters.config import Table
from adapters.errors import ConfigError
from adapters.mapping import LibraryMapping, mapping_from_dict
from adapters.port import PatronStore

_BACKENDS: dict[str, str] = {
    "memory": "adapters.memory:BACKEND",
    "koha_sql": "adapters.koha_sql:BACKEND",
    "evergreen_sql": "adapters.evergreen_sql:BACKEND",
    "folio_rest": "adapters.folio_rest:BACKEND",
}


class BackendConfig(Protocol):
    @classmethod
    def from_table(cls, table: Table) -> Self:
        """Validate the backend's own keys, raising ConfigError naming the key."""
        ...


C = TypeVar("C", bound=BackendConfig)


@dataclass(frozen=True, slots=True)
class Backend(Generic[C]):
    name: str
    config_type: type[C]
    factory: Callable[[C, LibraryMapping], PatronStore]
    #: Where this ILS can hold the back-link; None means any name (e.g. Koha
    #: attribute type codes, which each library defines).
    backlink_fields: frozenset[str] | None = None

    def parse(self, table: Table) -> C:
        return self.config_type.from_table(table)


@dataclass(frozen=True, slots=True)
class LibraryAdapter:
    """A library's store together with the mapping its callers apply before calling it."""

    store: PatronStore
    mapping: LibraryMapping


def backend_names() -> tuple[str, ...]:
    return tuple(sorted(_BACKENDS))


def get_backend(name: str, *, key: str = "backend") -> Backend[Any]:
    try:
        target = _BACKENDS[name]
    except KeyError:
        raise ConfigError(
            key, f"unknown backend {name!r}; known: {', '.join(backend_names())}"
        ) from None
    module_name, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(found, Backend):
        raise TypeError(f"{target} is not a Backend")
    return found


@dataclass(frozen=True, slots=True)
class ParsedAdapter:
    """A validated adapter table, not yet connected: what startup checks produce."""

    backend: Backend[Any]
    config: BackendConfig
    mapping: LibraryMapping

    def open(self) -> LibraryAdapter:
        return LibraryAdapter(self.backend.factory(self.config, self.mapping), self.mapping)


def parse_adapter(data: object, path: str = "adapter") -> ParsedAdapter:
    """Validate an adapter table without connecting (config is checked at startup)."""
    table = Table(data, path)
    found = get_backend(table.text("backend"), key=table.key("backend"))
    mapping = mapping_from_dict(table.raw("mapping"), table.key("mapping"))
    allowed = found.backlink_fields
    if allowed is not None and mapping.backlink_field not in allowed:
        raise ConfigError(table.key("mapping.backlink_field"),
                          f"for {found.name} use one of {', '.join(sorted(allowed))}")
    own = {k: table.raw(k) for k in table.raw_keys() if k not in ("backend", "mapping")}
    return ParsedAdapter(found, found.parse(Table(own, path)), mapping)


def open_adapter(data: object, path: str = "adapter") -> LibraryAdapter:
    """Validate an adapter table and build its store."""
    return parse_adapter(data, path).open()
