"""Reading typed values out of configuration tables (parsed TOML, plain dicts).

Every problem raises :class:`~adapters.errors.ConfigError` naming the full dotted
key, and unknown keys are errors too: a misspelt key silently falling back to a
default is how a library ends up with the wrong expiry policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from adapters.errors import ConfigError

T = TypeVar("T")


class Table:
    """A view on one configuration table that remembers where it sits."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"expected a table, got {type(data).__name__}")
        for key in data:
            if not isinstance(key, str):
                raise ConfigError(path, f"keys must be strings, got {key!r}")
        self._data: Mapping[str, object] = data
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def _get(self, name: str, kind: type[T], default: T | None) -> T:
        if name not in self._data:
            if default is None:
                raise ConfigError(self.key(name), "is required")
            return default
        value = self._data[name]
        # bool is an int in Python; a TOML `true` must not pass as a number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(
                self.key(name), f"expected {kind.__name__}, got {type(value).__name__}"
            )
        return value

    def text(self, name: str, default: str | None = None) -> str:
        value = self._get(name, str, default)
        if not value.strip():
            raise ConfigError(self.key(name), "must not be empty")
        return value

    def integer(self, name: str, default: int | None = None, *, minimum: int = 0) -> int:
        value = self._get(name, int, default)
        if value < minimum:
            raise ConfigError(self.key(name), f"must be at least {minimum}")
        return value

    def number(self, name: str, default: float | None = None) -> float:
        if name not in self._data:
            if default is None:
                raise ConfigError(self.key(name), "is required")
            return default
        value = self._data[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(self.key(name), f"expected a number, got {type(value).__name__}")
        if value <= 0:
            raise ConfigError(self.key(name), "must be positive")
        return float(value)

    def table(self, name: str) -> Table:
        if name not in self._data:
            raise ConfigError(self.key(name), "is required")
        return Table(self._data[name], self.key(name))

    def raw(self, name: str) -> object:
        if name not in self._data:
            raise ConfigError(self.key(name), "is required")
        return self._data[name]

    def only(self, allowed: Iterable[str]) -> None:
        """Fail on any key outside ``allowed``."""
        extra = sorted(set(self._data) - set(allowed))
        if extra:
            raise ConfigError(self.key(extra[0]), "unknown key")

    def raw_keys(self) -> list[str]:
        return list(self._data)
