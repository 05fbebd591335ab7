"""FOLIO patron records over HTTP (mod-users, mod-feesfines manual blocks)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.config import Table
from adapters.errors import ConfigError
from adapters.folio_rest.client import NAME, FolioClient
from adapters.folio_rest.store import FolioPatronStore
from adapters.mapping import LibraryMapping
from adapters.registry import Backend

__all__ = ["BACKEND", "FolioConfig", "FolioPatronStore", "open_store"]


@dataclass(frozen=True)
class FolioConfig:
    """``url``: the Okapi gateway; ``tenant``: the library's tenant id; ``token``:
    an Okapi token with users and manual-block permissions; ``timeout`` in seconds."""

    url: str
    tenant: str
    token: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_table(cls, table: Table) -> FolioConfig:
        table.only(("url", "tenant", "token", "timeout"))
        url = table.text("url")
        if not url.startswith(("https://", "http://")):
            raise ConfigError(table.key("url"), "must be an http(s) URL")
        return cls(
            url=url,
            tenant=table.text("tenant"),
            token=table.text("token") if "token" in table else None,
            timeout=table.number("timeout", cls.timeout),
        )


def open_store(config: FolioConfig, mapping: LibraryMapping) -> FolioPatronStore:
    return FolioPatronStore(FolioClient(config.url, config.tenant, config.token, config.timeout))


#: mod-users' only unique, free-form identifier field suited to a back-link.
BACKEND = Backend(NAME, FolioConfig, open_store, backlink_fields=frozenset({"externalSystemId"}))
