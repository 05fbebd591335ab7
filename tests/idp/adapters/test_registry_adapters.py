"""Adapter tables in the member-library registry: validated at load, secrets from
the environment only, a bad entry changes nothing and names the key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.errors import ConfigError
from idp.errors import InvalidInput
from idp.models import LibraryAdapterConfig
from idp.services import libraries
from idp.services.actor import Actor
from idp.services.library_adapters import parse_library_adapter, resolve_secrets

from .conftest import MEMORY_TABLE

KOHA = {**MEMORY_TABLE, "backend": "koha_sql", "url": "mysql+pymysql://rp@koha-db/koha"}
del KOHA["categories"], KOHA["branches"]


def registry(**adapter: object) -> dict[str, object]:
    return {"library": [
        {"code": "TOWN", "name": "Town", "adapter": {**KOHA, **adapter}},
        {"code": "PROV", "name": "Provincial Library", "adapter": MEMORY_TABLE},
    ]}


def test_load_stores_each_library_adapter_and_updates_changes(ctx):
    with ctx.transaction() as session:
        libraries.load_registry(session, registry(password_env="KOHA_TOWN_PASSWORD"),
                                actor=Actor.cli(), now=ctx.now())
    with ctx.transaction() as session:
        rows = {r.library_id: r for r in session.scalars(select(LibraryAdapterConfig))}
        town = libraries.get_library(session, "TOWN")
        assert rows[town.id].backend == "koha_sql" and not rows[town.id].offline
        assert rows[town.id].config["password_env"] == "KOHA_TOWN_PASSWORD"
        libraries.load_registry(session, registry(pool_size=2), actor=Actor.cli(),
                                now=ctx.now())
    with ctx.transaction() as session:
        row = session.get(LibraryAdapterConfig, town.id)
        assert row is not None and row.config["pool_size"] == 2


@pytest.mark.parametrize(("change", "key"), [
    ({"backend": "sybase"}, "library.TOWN.adapter.backend"),
    ({"url": "postgresql://x/y"}, "library.TOWN.adapter.url"),
    ({"url": "mysql+pymysql://rp:secret@koha-db/koha"}, "library.TOWN.adapter.url"),
    ({"password_env": "not a variable"}, "library.TOWN.adapter.password_env"),
    ({"mapping": {**KOHA["mapping"], "default_branch": ""}},
     "library.TOWN.adapter.mapping.default_branch"),
])
def test_bad_adapter_entry_changes_nothing_and_names_the_key(ctx, change, key):
    with ctx.transaction() as session, pytest.raises(InvalidInput) as caught:
        libraries.load_registry(session, registry(**change), actor=Actor.cli(), now=ctx.now())
    assert key in str(caught.value) and "entry 1" in str(caught.value)
    with ctx.transaction() as session:
        assert session.scalars(select(LibraryAdapterConfig)).all() == []
        assert "TOWN" not in [x.code for x in libraries.list_libraries(session)]


def test_secrets_come_from_the_environment_when_opened():
    table = {**KOHA, "password_env": "KOHA_PW"}
    parse_library_adapter(table, "lib")
    opened = resolve_secrets(table, "lib", {"KOHA_PW": "s3cret"})
    assert opened["url"] == "mysql+pymysql://rp:s3cret@koha-db/koha"
    assert "password_env" not in opened
    with pytest.raises(ConfigError) as caught:
        resolve_secrets(table, "lib", {})
    assert caught.value.key == "lib.password_env" and "KOHA_PW" in caught.value.problem


def test_folio_token_only_from_the_environment():
    folio = {"backend": "folio_rest", "url": "https://okapi.example", "tenant": "t",
             "mapping": {**KOHA["mapping"], "backlink_field": "externalSystemId"}}
    with pytest.raises(ConfigError) as caught:
        parse_library_adapter({**folio, "token": "abc"}, "lib")
    assert caught.value.key == "lib.token"
    parse_library_adapter({**folio, "token_env": "FOLIO_TOKEN"}, "lib")
    assert resolve_secrets({**folio, "token_env": "FOLIO_TOKEN"}, "lib",
                           {"FOLIO_TOKEN": "tok"})["token"] == "tok"
