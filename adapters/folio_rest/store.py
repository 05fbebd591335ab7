"""FOLIO patrons over mod-users' REST API.

* Create is idempotent through the record id: the user's UUID is derived from the
  idempotency key (UUIDv5), so a retried or racing POST collides on FOLIO's
  unique ``id`` (or, where mod-users checks it first, ``barcode`` held by that
  same id) and the existing user is returned instead.
* The back-link is ``externalSystemId``, which mod-users indexes uniquely, so
  FOLIO itself refuses a second patron for a reader: no lock needed.
* Home branch: mod-users has none; the user's default service point
  (``/service-points-users``) plays that part.
* Province blocks are mod-feesfines manual blocks with an id derived from the
  user's id; other manual blocks and ``active: false`` are the library's.
* Listing (onboarding imports) pages by id, keyset-wise: ``id>"<last id>" sortBy
  id`` rather than ``offset``, so users added or deleted meanwhile never shift a
  page (no patron is read twice or skipped). mod-users' ``id`` is a UUID column,
  whose order is that of the lower-case text the adapter compares.
* Versions: FOLIO users carry no optimistic-locking field, so ``update`` re-reads
  the user and compares the token (a hash of the record, ``metadata.updatedDate``
  included) just before its PUT. A write landing between that read and the PUT
  is not detected; this is the narrowest check mod-users allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from adapters.capabilities import CORE, Capability
from adapters.errors import (
    AmbiguousMatch,
    CapabilityMissing,
    Conflict,
    PatronNotFound,
    Rejected,
    Unavailable,
    VersionConflict,
)
from adapters.folio_rest.client import NAME, FolioClient, cql_compare, cql_exact
from adapters.folio_rest.reference import GROUP, SERVICE_POINT, ReferenceCodes
from adapters.sqltools import version_token
from adapters.values import CreateRequest, HealthReport, LocalPatron, PatronMatch, PatronPatch

NAMESPACE = uuid.UUID("6f1c7d1e-2b0a-5c55-9a51-0d5e1a9e7c3b")
_MATCH_LIMIT = 10
ALL_USERS = "cql.allRecords=1"


def derived_id(purpose: str, value: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{purpose}:{value}"))


def _folio_date(value: date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00.000+00:00"


def _date(value: object) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else None


class FolioPatronStore:
    def __init__(self, client: FolioClient, today: Callable[[], date] = date.today) -> None:
        self._client = client
        self._refs = ReferenceCodes(client)
        self._today = today

    @property
    def backend(self) -> str:
        return NAME

    @property
    def capabilities(self) -> Capability:
        return CORE | Capability.ITERATE  # mod-users has no patron merge.

    def health(self) -> HealthReport:
        try:
            self._client.search("/users", "users", cql_exact("id", str(uuid.UUID(int=0))), 1)
        except Unavailable as exc:
            return HealthReport(ok=False, detail=exc.message)
        return HealthReport(ok=True, detail="FOLIO reachable")

    def get(self, local_id: str) -> LocalPatron | None:
        user = self._user(local_id)
        return None if user is None else self._patron(user)

    def find(self, match: PatronMatch) -> LocalPatron | None:
        clauses = [cql_exact(k, v) for k, v in (
            ("externalSystemId", match.reader_id), ("barcode", match.barcode),
            ("personal.lastName", match.surname), ("personal.firstName", match.first_name),
            ("personal.dateOfBirth", _folio_date(match.birth_date)),
        ) if v is not None]
        users = self._client.search("/users", "users", " and ".join(clauses), _MATCH_LIMIT)
        if len(users) > 1:
            raise AmbiguousMatch("several patrons match", local_ids=[u["id"] for u in users])
        return self._patron(users[0]) if users else None

    def create(self, request: CreateRequest, idempotency_key: str) -> LocalPatron:
        user_id = derived_id("create", idempotency_key)
        point = self._refs.id_of(SERVICE_POINT, request.branch)
        if self._user(user_id) is None:
            self._post_user(user_id, request)
        # Written after the user and idempotently (derived id), so a retry after a
        # failure between the two requests finishes the job.
        self._client.call("POST", "/service-points-users", {
            "id": derived_id("home", user_id), "userId": user_id,
            "servicePointsIds": [point], "defaultServicePointId": point,
        })
        patron = self.get(user_id)
        if patron is None:
            raise Rejected("the patron made for this key was deleted in FOLIO",
                           field="idempotency_key")
        return patron

    def _post_user(self, user_id: str, request: CreateRequest) -> None:
        answer = self._client.call("POST", "/users", {
            "id": user_id, "barcode": request.barcode, "active": True, "type": "patron",
            "patronGroup": self._refs.id_of(GROUP, request.category),
            "expirationDate": _folio_date(request.expiry),
            "personal": {"lastName": request.surname, "firstName": request.first_name,
                         **({"dateOfBirth": _folio_date(request.birth_date)}
                            if request.birth_date else {})},
        })
        status, key = answer.status, answer.problem_key()
        if status == 422 and key == "barcode":
            holder = self._holder("barcode", request.barcode)
            if holder != user_id:  # else a racing twin of this very call won
                raise Conflict("barcode already in use", field="barcode", local_id=holder)
        elif status == 400 and key == "patronGroup":
            raise Rejected(answer.message(), field="category")
        elif not (status == 201 or (status == 422 and key == "id")):
            raise Rejected(answer.message(), field=key)

    def update(self, local_id: str, patch: PatronPatch, expected_version: str) -> LocalPatron:
        user = self._existing(local_id)
        actual = self._patron(user).version
        if actual != expected_version:
            raise VersionConflict("patron changed since it was read", local_id=local_id,
                                  expected=expected_version, actual=actual)
        personal = dict(user.get("personal", {}))
        for key, value in (("lastName", patch.surname), ("firstName", patch.first_name),
                           ("dateOfBirth", _folio_date(patch.birth_date))):
            if value is not None:
                personal[key] = value
        changed = {**user, "personal": personal}
        if patch.expiry is not None:
            changed["expirationDate"] = _folio_date(patch.expiry)
        return self._put(changed)

    def suspend(self, local_id: str, reason: str) -> LocalPatron:
        user = self._existing(local_id)
        answer = self._client.call("POST", "/manualblocks", {
            "id": derived_id("province-block", local_id), "userId": local_id, "type": "Manual",
            "desc": reason, "borrowing": True, "renewals": True, "requests": True,
        })
        # 422 on the derived id means the province's block is already there.
        if not (answer.status == 201 or (answer.status == 422 and answer.problem_key() == "id")):
            raise Rejected(answer.message(), field=answer.problem_key())
        return self._patron(user)

    def reinstate(self, local_id: str) -> LocalPatron:
        user = self._existing(local_id)
        self._client.call("DELETE", f"/manualblocks/{derived_id('province-block', local_id)}")
        return self._patron(user)

    def write_backlink(self, local_id: str, reader_id: str) -> LocalPatron:
        user = self._existing(local_id)
        if user.get("externalSystemId") == reader_id:
            return self._patron(user)
        if user.get("externalSystemId"):
            raise Conflict("patron is linked to another reader", field="reader_id",
                           local_id=local_id)
        return self._put({**user, "externalSystemId": reader_id})

    def merge(self, local_ids: Sequence[str]) -> LocalPatron:
        raise CapabilityMissing(Capability.MERGE, backend=NAME)

    def iter_patrons(self, after: str | None, limit: int) -> list[LocalPatron]:
        query = ALL_USERS if after is None else cql_compare("id", ">", after.lower())
        users = self._client.search("/users", "users", f"{query} sortBy id", limit)
        return [self._patron(user) for user in users]

    def count_patrons(self) -> int:
        return self._client.total("/users", ALL_USERS)

    def close(self) -> None:
        pass

    # -- helpers -------------------------------------------------------------

    def _user(self, local_id: str) -> dict[str, Any] | None:
        # FOLIO ids are UUIDs as FOLIO writes them; uuid.UUID alone would also read
        # one spelled with other scripts' digits (int() does), or with braces.
        try:
            if not local_id.isascii() or str(uuid.UUID(local_id)) != local_id.lower():
                return None
        except ValueError:
            return None
        user = self._client.get(f"/users/{local_id}")
        return user if isinstance(user, dict) else None

    def _existing(self, local_id: str) -> dict[str, Any]:
        user = self._user(local_id)
        if user is None:
            raise PatronNotFound(local_id)
        return user

    def _holder(self, field: str, value: str) -> str | None:
        found = self._client.search("/users", "users", cql_exact(field, value), 1)
        return str(found[0]["id"]) if found else None

    def _put(self, user: dict[str, Any]) -> LocalPatron:
        body = {k: v for k, v in user.items() if k != "metadata"}  # server-maintained
        answer = self._client.call("PUT", f"/users/{user['id']}", body)
        if answer.status == 422 and answer.problem_key() == "externalSystemId":
            raise Conflict("reader is linked to another patron", field="reader_id",
                           local_id=self._holder("externalSystemId", body["externalSystemId"]))
        if answer.status == 404:
            raise PatronNotFound(user["id"])
        if answer.status != 204:
            raise Rejected(answer.message(), field=answer.problem_key())
        return self._patron(self._existing(user["id"]))

    def _patron(self, user: dict[str, Any]) -> LocalPatron:
        user_id = str(user["id"])
        homes = self._client.search("/service-points-users", "servicePointsUsers",
                                    cql_exact("userId", user_id), 1)
        home = homes[0].get("defaultServicePointId") if homes else None
        blocks = self._client.search("/manualblocks", "manualblocks",
                                     cql_exact("userId", user_id), 100)
        province_id = derived_id("province-block", user_id)
        today = self._today().isoformat()
        # A manual block without expirationDate holds until staff remove it.
        local = not user.get("active", True) or any(
            b["id"] != province_id and (b.get("expirationDate") or "9999")[:10] >= today
            for b in blocks
        )
        personal = user.get("personal", {})
        group = user.get("patronGroup")
        return LocalPatron(
            local_id=user_id, barcode=user.get("barcode", ""),
            surname=personal.get("lastName", ""), first_name=personal.get("firstName", ""),
            birth_date=_date(personal.get("dateOfBirth")),
            category=(self._refs.code_of(GROUP, group) or "") if group else "",
            branch=self._refs.code_of(SERVICE_POINT, home) if home else None,
            expiry=_date(user.get("expirationDate")), blocked_locally=local,
            blocked_by_province=any(b["id"] == province_id for b in blocks),
            reader_id=user.get("externalSystemId"),
            version=version_token((sorted(user.items(), key=lambda kv: kv[0]), home,
                                   sorted(b["id"] for b in blocks))),
        )
