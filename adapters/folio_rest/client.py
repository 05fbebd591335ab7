"""A small JSON-over-HTTP client for FOLIO's Okapi gateway (standard library only).

FOLIO answers validation failures with 422 and ``{"errors": [{"message",
"parameters": [{"key", "value"}]}]}`` (RAML Module Builder's error schema), bad
queries with 400; both come back to the caller as data. Network failures,
timeouts and 5xx become :class:`~adapters.errors.Unavailable`.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from adapters.errors import Unavailable

NAME = "folio_rest"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any

    def problem_key(self) -> str | None:
        """The ``parameters[0].key`` of the first error, naming the offending field."""
        try:
            return str(self.body["errors"][0]["parameters"][0]["key"])
        except (KeyError, IndexError, TypeError):
            return None

    def message(self) -> str:
        try:
            return str(self.body["errors"][0]["message"])
        except (KeyError, IndexError, TypeError):
            return f"HTTP {self.status}"


def cql_exact(field: str, value: str) -> str:
    """``field=="value"`` with CQL's masking characters escaped (CQL 1.2 section 4.2)."""
    return cql_compare(field, "==", value)


def cql_compare(field: str, operator: str, value: str) -> str:
    """``field<op>"value"``, the value escaped as in :func:`cql_exact`."""
    escaped = "".join("\\" + c if c in '\\"*?^' else c for c in value)
    return f'{field}{operator}"{escaped}"'


class FolioClient:
    def __init__(self, base_url: str, tenant: str, token: str | None, timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"X-Okapi-Tenant": tenant, "Accept": "application/json",
                         "Content-Type": "application/json"}
        if token:
            self._headers["X-Okapi-Token"] = token
        self._timeout = timeout

    def call(self, method: str, path: str, body: object = None,
             params: dict[str, str] | None = None) -> Answer:
        url = self._base + path + ("?" + urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = Answer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, _json(error.read()))
            error.close()
        except (OSError, http.client.HTTPException) as error:  # URLError and timeouts too
            raise Unavailable(f"FOLIO unreachable: {type(error).__name__}",
                              backend=NAME) from error
        if answer.status >= 500 or answer.status in (401, 403, 408, 429):
            raise Unavailable(f"FOLIO answered HTTP {answer.status}", backend=NAME)
        return answer

    def get(self, path: str) -> Any | None:
        answer = self.call("GET", path)
        if answer.status == 404:
            return None
        self._expect(answer, 200)
        return answer.body

    def search(self, path: str, key: str, query: str, limit: int) -> list[Any]:
        answer = self.call("GET", path, params={"query": query, "limit": str(limit)})
        self._expect(answer, 200)
        found = answer.body.get(key, []) if isinstance(answer.body, dict) else []
        return list(found)

    def total(self, path: str, query: str) -> int:
        """``totalRecords`` of a query, fetching no records (``limit=0``)."""
        answer = self.call("GET", path, params={"query": query, "limit": "0"})
        self._expect(answer, 200)
        total = answer.body.get("totalRecords") if isinstance(answer.body, dict) else None
        if not isinstance(total, int):
            raise Unavailable("FOLIO answered without totalRecords", backend=NAME)
        return total

    @staticmethod
    def _expect(answer: Answer, status: int) -> None:
        if answer.status != status:
            # A 400 here is a query this adapter built: a bug, not the library's fault.
            raise Unavailable(f"unexpected FOLIO answer {answer.status}: {answer.message()}",
                              backend=NAME)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None
