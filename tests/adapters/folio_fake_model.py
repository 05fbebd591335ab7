"""The state and rules behind the FOLIO fake (HTTP lives in ``folio_fake``).

It keeps what matters to the adapter's correctness, as FOLIO does it:
mod-users' user schema subset (unknown properties and bad types are 422), its
unique indexes on ``id``, ``username``, ``barcode`` and ``externalSystemId``
(422 naming the field), ``patronGroup`` must name a group (400), server-set
``metadata.updatedDate``; patron groups, service points, service-points-users
(unique per user) and mod-feesfines manual blocks as plain collections; and CQL
for ``GET /<collection>?query=`` limited to ``field=="value"`` and string
comparisons ``field>"value"`` (also ``<``, ``>=``, ``<=``) joined by ``and``, or
``cql.allRecords=1``, optionally followed by ``sortBy field[/sort.descending]``
(anything else is 400, so an adapter relying on more fails here first). Listing
pages with ``offset`` and ``limit`` (RAML Module Builder's ``pageable`` trait:
integers from 0, limit 10 by default) and answers ``totalRecords``.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}"
                     r"-[0-9a-fA-F]{12}$")
CLAUSE = re.compile(r'^([A-Za-z][\w.]*)\s*(==|>=|<=|>|<)\s*\"((?:[^"\\]|\\.)*)\"$')
SORT_BY = re.compile(r"^(.*?)\s*\bsortBy\s+([A-Za-z][\w.]*)(/sort\.(?:ascending|descending))?$")
ALL_RECORDS = "cql.allRecords=1"
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


class Problem(Exception):
    def __init__(self, status: int, message: str, key: str | None = None, value: object = None):
        super().__init__(message)
        self.status, self.message, self.key, self.value = status, message, key, value

    def body(self) -> Record:
        error: Record = {"message": self.message, "type": "1", "code": "-1"}
        if self.key:
            error["parameters"] = [{"key": self.key, "value": str(self.value)}]
        return {"errors": [error]}


def check_user(user: Record, fake: FolioFake) -> None:
    """mod-users ``userdata.json``, for the properties the adapter uses."""
    allowed = {"id", "username", "externalSystemId", "barcode", "active", "type",
               "patronGroup", "personal", "expirationDate", "metadata"}
    for key in user:
        if key not in allowed:
            raise Problem(422, f"Unrecognized field \"{key}\"", key, user[key])
    for key in ("username", "externalSystemId", "barcode", "type", "patronGroup"):
        if key in user and not isinstance(user[key], str):
            raise Problem(422, "must be a string", key, user[key])
    if "active" in user and not isinstance(user["active"], bool):
        raise Problem(422, "must be a boolean", "active", user["active"])
    personal = user.get("personal", {})
    if not isinstance(personal, dict) or set(personal) - {"lastName", "firstName", "dateOfBirth"}:
        raise Problem(422, "personal: unrecognized field", "personal", personal)
    if personal and not isinstance(personal.get("lastName"), str):
        raise Problem(422, "must not be null", "personal.lastName", None)
    for key, value in (("expirationDate", user.get("expirationDate")),
                       ("personal.dateOfBirth", personal.get("dateOfBirth"))):
        if value is not None and not (isinstance(value, str) and DATE_TIME.match(value)):
            raise Problem(422, "must be a date-time", key, value)
    group = user.get("patronGroup")
    if group is not None and group not in fake.collections["groups"].records:
        raise Problem(400, f"Cannot add {group}. Patron group not found", "patronGroup", group)


@dataclass
class Collection:
    key: str  # the array's name in search results, as each FOLIO module spells it
    unique: tuple[str, ...]
    check: Callable[[Record, FolioFake], None] | None = None
    records: dict[str, Record] = field(default_factory=dict)


def lookup(record: Record, path: str) -> object:
    value: object = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


Compare = Callable[[str, str], bool]
OPERATORS: dict[str, Compare] = {
    "==": lambda a, b: a == b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
}


def cql_filter(query: str) -> Callable[[Record], bool]:
    """``a=="x" and b.c>"y"``; ``\\`` escapes the next character (CQL masking)."""
    if query.strip() == ALL_RECORDS:
        return lambda _record: True
    clauses: list[tuple[str, Compare, str]] = []
    for part in re.split(r"\s+and\s+(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", query.strip()):
        found = CLAUSE.match(part.strip())
        if not found:
            raise Problem(400, f"unsupported CQL: {part!r}")
        clauses.append((found.group(1), OPERATORS[found.group(2)],
                        re.sub(r"\\(.)", r"\1", found.group(3))))

    def keep(record: Record) -> bool:
        for key, compare, value in clauses:
            actual = lookup(record, key)
            if actual is None or not compare(str(actual), value):
                return False
        return True

    return keep


def cql_query(query: str) -> tuple[Callable[[Record], bool], tuple[str, bool] | None]:
    """The filter and the (field, descending) sort of a CQL query."""
    sort = SORT_BY.match(query.strip())
    if sort is None:
        return cql_filter(query), None
    return cql_filter(sort.group(1)), (sort.group(2), sort.group(3) == "/sort.descending")


class FolioFake:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every record (between tests sharing one server)."""
        self.collections = {
            "users": Collection("users", ("id", "username", "barcode", "externalSystemId"),
                                check_user),
            "groups": Collection("usergroups", ("id", "group")),
            "service-points": Collection("servicepoints", ("id", "code", "name")),
            "service-points-users": Collection("servicePointsUsers", ("id", "userId")),
            "manualblocks": Collection("manualblocks", ("id",)),
        }

    def seed(self, name: str, record: Record) -> Record:
        return self.post(name, {"id": str(uuid.uuid4()), **record})

    def _collection(self, name: str) -> Collection:
        if name not in self.collections:
            raise Problem(404, f"no such resource /{name}")
        return self.collections[name]

    def search(self, name: str, query: str | None, limit: int, offset: int = 0) -> Record:
        if limit < 0 or offset < 0:
            raise Problem(400, "limit and offset must not be negative")
        keep, sort = cql_query(query) if query else ((lambda _r: True), None)
        with self.lock:
            target = self._collection(name)
            found = [r for r in target.records.values() if keep(r)]
        if sort is not None:
            field_name, descending = sort
            found.sort(key=lambda r: str(lookup(r, field_name) or ""), reverse=descending)
        return {target.key: found[offset:offset + limit], "totalRecords": len(found)}

    def fetch(self, name: str, record_id: str) -> Record:
        with self.lock:
            record = self._collection(name).records.get(record_id)
        if record is None:
            raise Problem(404, "Not found")
        return record

    def post(self, name: str, record: Record) -> Record:
        record = {**record}
        record.setdefault("id", str(uuid.uuid4()))
        return self._store(name, record, replacing=None)

    def put(self, name: str, record_id: str, record: Record) -> None:
        if record.get("id", record_id) != record_id:
            raise Problem(422, "id in body differs from path", "id", record.get("id"))
        self._store(name, {**record, "id": record_id}, replacing=record_id)

    def delete(self, name: str, record_id: str) -> None:
        with self.lock:
            if self._collection(name).records.pop(record_id, None) is None:
                raise Problem(404, "Not found")

    def _store(self, name: str, record: Record, replacing: str | None) -> Record:
        if not (isinstance(record["id"], str) and UUID_RE.match(record["id"])):
            raise Problem(422, "must match UUID pattern", "id", record["id"])
        with self.lock:
            target = self._collection(name)
            if target.check:
                target.check(record, self)
            if replacing is not None and replacing not in target.records:
                raise Problem(404, "Not found")
            for key in target.unique:
                value = record.get(key)
                clash = [r for r in target.records.values()
                         if value is not None and r.get(key) == value and r["id"] != replacing]
                if clash or (key == "id" and replacing is None and value in target.records):
                    raise Problem(422, f"{key} value already exists in table {name}: {value}",
                                  key, value)
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            created = target.records.get(record["id"], {}).get("metadata", {}).get("createdDate")
            record["metadata"] = {"createdDate": created or now, "updatedDate": now}
            target.records[record["id"]] = record
            return record
