"""The FOLIO backend against the contract, over HTTP to the local mod-users fake."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.errors import ConfigError
from adapters.folio_rest import FolioConfig, FolioPatronStore, open_store
from adapters.folio_rest.store import derived_id
from adapters.mapping import LibraryMapping, mapping_from_dict
from adapters.port import PatronStore
from adapters.registry import parse_adapter
from tests.adapters.contract import BRANCHES, CATEGORIES, PatronStoreContract, new_request
from tests.adapters.folio_fake import FolioFake, running_fake
from tests.adapters.servers import closed_port

MAPPING = {
    "categories": {"adult": "ADULT", "child": "CHILD"},
    "default_branch": "MAIN",
    "expiry": {"policy": "same_as_province"},
    "backlink_field": "externalSystemId",
}


def mapping() -> LibraryMapping:
    return mapping_from_dict(MAPPING)


@pytest.fixture(scope="module")
def folio_server() -> Iterator[tuple[FolioFake, str]]:
    with running_fake() as served:
        yield served


@pytest.fixture
def folio(folio_server: tuple[FolioFake, str]) -> tuple[FolioFake, str]:
    fake, _ = folio_server
    fake.reset()
    for name in CATEGORIES:
        fake.seed("groups", {"group": name})
    for code in BRANCHES:
        fake.seed("service-points", {"code": code, "name": f"Branch {code}"})
    return folio_server


def folio_store(url: str) -> FolioPatronStore:
    return open_store(FolioConfig(url=url, tenant="diku", timeout=5.0), mapping())


class TestFolioStore(PatronStoreContract):
    absent_id = derived_id("test", "absent")

    @pytest.fixture
    def store(self, folio: tuple[FolioFake, str]) -> Iterator[PatronStore]:
        self.fake = folio[0]
        yield folio_store(folio[1])

    @pytest.fixture
    def unreachable_store(self) -> PatronStore:
        return folio_store(f"http://127.0.0.1:{closed_port()}")

    def block_locally(self, store: PatronStore, local_id: str) -> None:
        self.fake.post("manualblocks", {"userId": local_id, "type": "Manual",
                                        "desc": "Unpaid fines", "borrowing": True})


def raw(url: str, method: str, path: str, body: object = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Okapi-Tenant": "diku", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


def test_fake_enforces_schema_indexes_and_cql(folio: tuple[FolioFake, str]) -> None:
    fake, url = folio
    group = next(iter(fake.collections["groups"].records))
    user = {"id": derived_id("t", "1"), "barcode": "B1", "patronGroup": group,
            "personal": {"lastName": "Li"}}
    assert raw(url, "POST", "/users", user)[0] == 201
    status, body = raw(url, "POST", "/users", {**user, "id": derived_id("t", "2")})
    assert status == 422 and body["errors"][0]["parameters"][0]["key"] == "barcode"
    assert raw(url, "POST", "/users", {**user, "id": "nope", "barcode": "B2"})[0] == 422
    assert raw(url, "POST", "/users", {**user, "id": derived_id("t", "3"), "barcode": "B3",
                                       "nickname": "x"})[0] == 422
    assert raw(url, "POST", "/users", {**user, "id": derived_id("t", "4"), "barcode": "B4",
                                       "patronGroup": derived_id("t", "g")})[0] == 400
    assert raw(url, "GET", '/users?query=barcode%3D%22B1%22')[0] == 400  # `=` is not `==`
    status, body = raw(url, "GET", '/users?query=barcode%3D%3D%22B1%22%20and%20'
                                   'personal.lastName%3D%3D%22Li%22')
    assert status == 200 and [u["id"] for u in body["users"]] == [user["id"]]


def test_retried_create_finishes_the_home_service_point(folio: tuple[FolioFake, str]) -> None:
    fake, url = folio
    store = folio_store(url)
    patron = store.create(new_request(1, branch="EAST"), "k-1")
    fake.collections["service-points-users"].records.clear()  # as if the first try died there
    assert store.get(patron.local_id).branch is None  # type: ignore[union-attr]
    again = store.create(new_request(1, branch="EAST"), "k-1")
    assert again.local_id == patron.local_id and again.branch == "EAST"


def test_inactive_user_counts_as_local_block(folio: tuple[FolioFake, str]) -> None:
    fake, url = folio
    store = folio_store(url)
    patron = store.create(new_request(2), "k-2")
    user = fake.fetch("users", patron.local_id)
    fake.put("users", patron.local_id, {**user, "active": False})
    fetched = store.get(patron.local_id)
    assert fetched is not None and fetched.blocked_locally and not fetched.blocked_by_province


@pytest.mark.parametrize(("changes", "key"), [
    ({"url": "ftp://folio"}, "lib.url"),
    ({"timeout": 0}, "lib.timeout"),
    ({"mapping": {**MAPPING, "backlink_field": "username"}}, "lib.mapping.backlink_field"),
])
def test_bad_config_names_the_key(changes: dict[str, object], key: str) -> None:
    table = {"backend": "folio_rest", "url": "https://okapi.example", "tenant": "diku",
             "mapping": MAPPING}
    with pytest.raises(ConfigError) as caught:
        parse_adapter({**table, **changes}, "lib")
    assert caught.value.key == key
