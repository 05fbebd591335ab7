"""In-memory reference backend, with an injectable :class:`FaultSwitch`.

Opened through the registry it warns, because patrons kept in a process's
memory vanish with it (fakes that warn, STYLE 7); tests construct
:class:`MemoryPatronStore` directly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from adapters.config import Table
from adapters.errors import ConfigError
from adapters.mapping import LibraryMapping
from adapters.memory.faults import NAME, FaultSwitch
from adapters.memory.store import MemoryPatronStore
from adapters.registry import Backend

__all__ = ["BACKEND", "FakeBackendWarning", "FaultSwitch", "MemoryConfig", "MemoryPatronStore"]


class FakeBackendWarning(UserWarning):
    """A configuration uses a backend that keeps nothing; fine for demos only."""


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    categories: tuple[str, ...]
    branches: tuple[str, ...]

    @classmethod
    def from_table(cls, table: Table) -> MemoryConfig:
        table.only(("categories", "branches"))
        lists: list[tuple[str, ...]] = []
        for name in ("categories", "branches"):
            value = table.raw(name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(table.key(name), "expected a list of local codes")
            lists.append(tuple(value))
        return cls(categories=lists[0], branches=lists[1])


def _open(config: MemoryConfig, mapping: LibraryMapping) -> MemoryPatronStore:
    warnings.warn(
        "the memory backend keeps patrons only while the process runs; use it for demos",
        FakeBackendWarning,
        stacklevel=3,
    )
    return MemoryPatronStore(config.categories, config.branches)


BACKEND = Backend(NAME, MemoryConfig, _open)
