"""Open adapters, one per member library, built from the stored configuration.

Opening validates the table again (it may have been stored by an older version)
and fills secrets from the environment. Tests and demos may ``install`` a ready
adapter for a library instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

from sqlalchemy.orm import Session

from adapters.errors import ConfigError
from adapters.registry import LibraryAdapter

from ..errors import NotFound, ReaderPassError
from ..models import Library, LibraryAdapterConfig
from ..services.library_adapters import parse_library_adapter, resolve_secrets


class AdapterConfigInvalid(ReaderPassError):
    """A stored adapter table no longer validates, or a secret is missing."""

    code = "adapter_config"


class AdapterPool:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, LibraryAdapter]] = {}
        self._installed: dict[str, LibraryAdapter] = {}

    def install(self, code: str, adapter: LibraryAdapter) -> None:
        """Use ``adapter`` for library ``code`` whatever its stored configuration says."""
        with self._lock:
            self._installed[code] = adapter

    def get(self, session: Session, library: Library) -> LibraryAdapter:
        with self._lock:
            installed = self._installed.get(library.code)
        if installed is not None:
            return installed
        row = session.get(LibraryAdapterConfig, library.id)
        if row is None:
            raise NotFound(f"library {library.code} has no adapter configured", field="library")
        fingerprint = json.dumps(row.config, sort_keys=True, default=str)
        with self._lock:
            cached = self._open.get(library.code)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            path = f"library.{library.code}.adapter"
            try:
                parse_library_adapter(row.config, path)
                adapter = _open(resolve_secrets(row.config, path, self._environ), path)
            except ConfigError as exc:
                raise AdapterConfigInvalid(str(exc), field="adapter") from None
            if cached is not None:
                cached[1].store.close()
            self._open[library.code] = (fingerprint, adapter)
            return adapter

    def close(self) -> None:
        with self._lock:
            for _fingerprint, adapter in self._open.values():
                adapter.store.close()
            self._open.clear()


def _open(table: dict[str, object], path: str) -> LibraryAdapter:
    from adapters.registry import open_adapter

    return open_adapter(table, path)
