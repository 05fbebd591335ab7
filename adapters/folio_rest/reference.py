"""FOLIO reference data by local code: patron groups and service points.

Local categories are FOLIO patron group names (``/groups``, field ``group``);
local branches are service point codes (``/service-points``, field ``code``).
Records are addressed by UUID, so each is looked up once and remembered: these
lists change only when a librarian edits settings. Misses are not remembered, so
a group added later is found on the next call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from adapters.errors import Rejected
from adapters.folio_rest.client import FolioClient, cql_exact


@dataclass(frozen=True, slots=True)
class Kind:
    field: str  # the port field an unknown code is reported on
    path: str
    key: str  # the array's name in search results
    code_field: str


GROUP = Kind("category", "/groups", "usergroups", "group")
SERVICE_POINT = Kind("branch", "/service-points", "servicepoints", "code")


class ReferenceCodes:
    def __init__(self, client: FolioClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._ids: dict[tuple[str, str], str] = {}
        self._codes: dict[tuple[str, str], str] = {}

    def _remember(self, kind: Kind, code: str, record_id: str) -> None:
        with self._lock:
            self._ids[(kind.path, code)] = record_id
            self._codes[(kind.path, record_id)] = code

    def id_of(self, kind: Kind, code: str) -> str:
        """The UUID for a local code; Rejected when the library has no such code."""
        with self._lock:
            known = self._ids.get((kind.path, code))
        if known is not None:
            return known
        found = self._client.search(kind.path, kind.key, cql_exact(kind.code_field, code), 1)
        if not found:
            raise Rejected(f"no {kind.field} {code!r} in this library", field=kind.field)
        self._remember(kind, code, str(found[0]["id"]))
        return str(found[0]["id"])

    def code_of(self, kind: Kind, record_id: str) -> str | None:
        with self._lock:
            known = self._codes.get((kind.path, record_id))
        if known is not None:
            return known
        record = self._client.get(f"{kind.path}/{record_id}")
        code = record.get(kind.code_field) if isinstance(record, dict) else None
        if isinstance(code, str):
            self._remember(kind, code, record_id)
            return code
        return None
