"""The port to member libraries' patron databases (DESIGN "Adapters").

``PatronStore`` is the protocol every backend implements; ``open_adapter`` builds
a library's store and mapping from its configuration table. Backends live in
their own modules (``memory``, ``koha_sql``, ``evergreen_sql``, ``folio_rest``)
and are imported only when a configuration names them.
"""

from __future__ import annotations

from adapters.capabilities import CORE, Capability
from adapters.errors import (
    AdapterError,
    AmbiguousMatch,
    CapabilityMissing,
    ConfigError,
    Conflict,
    PatronNotFound,
    Rejected,
    Unavailable,
    VersionConflict,
)
from adapters.mapping import LibraryMapping, ProvinceCategory, ProvinceReader, mapping_from_dict
from adapters.port import PatronStore
from adapters.registry import LibraryAdapter, backend_names, open_adapter, parse_adapter
from adapters.values import CreateRequest, HealthReport, LocalPatron, PatronMatch, PatronPatch

__all__ = [
    "CORE",
    "AdapterError",
    "AmbiguousMatch",
    "Capability",
    "CapabilityMissing",
    "ConfigError",
    "Conflict",
    "CreateRequest",
    "HealthReport",
    "LibraryAdapter",
    "LibraryMapping",
    "LocalPatron",
    "PatronMatch",
    "PatronNotFound",
    "PatronPatch",
    "PatronStore",
    "ProvinceCategory",
    "ProvinceReader",
    "Rejected",
    "Unavailable",
    "VersionConflict",
    "backend_names",
    "mapping_from_dict",
    "open_adapter",
    "parse_adapter",
]
