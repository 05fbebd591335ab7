"""Koha-shaped patron database on MariaDB/MySQL (SQLAlchemy Core + PyMySQL)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine

from adapters.config import Table
from adapters.errors import ConfigError
from adapters.koha_sql.errors import NAME
from adapters.koha_sql.store import KohaPatronStore
from adapters.mapping import LibraryMapping
from adapters.registry import Backend
from adapters.sqltools import ping_when_idle

__all__ = ["BACKEND", "KohaConfig", "KohaPatronStore", "open_store"]


@dataclass(frozen=True)
class KohaConfig:
    """``url``: SQLAlchemy URL (``mysql+pymysql://user:pw@host/koha``).
    ``create_key_attribute``: attribute type code holding create idempotency keys.
    Timeouts in seconds; the read timeout is what turns a hung server into
    Unavailable, and must exceed the lock timeout."""

    url: str
    create_key_attribute: str = "RPCREATE"
    connect_timeout: int = 5
    read_timeout: int = 30
    lock_timeout: int = 10
    pool_size: int = 5

    @classmethod
    def from_table(cls, table: Table) -> KohaConfig:
        table.only(("url", "create_key_attribute", "connect_timeout", "read_timeout",
                    "lock_timeout", "pool_size"))
        url = table.text("url")
        if not url.startswith("mysql+pymysql://"):
            raise ConfigError(table.key("url"), "must start with mysql+pymysql://")
        config = cls(
            url=url,
            create_key_attribute=table.text("create_key_attribute", cls.create_key_attribute),
            connect_timeout=table.integer("connect_timeout", cls.connect_timeout, minimum=1),
            read_timeout=table.integer("read_timeout", cls.read_timeout, minimum=1),
            lock_timeout=table.integer("lock_timeout", cls.lock_timeout, minimum=1),
            pool_size=table.integer("pool_size", cls.pool_size, minimum=1),
        )
        if config.lock_timeout >= config.read_timeout:
            raise ConfigError(table.key("lock_timeout"), "must be below read_timeout")
        return config


def open_store(config: KohaConfig, mapping: LibraryMapping) -> KohaPatronStore:
    engine = create_engine(
        config.url,
        pool_size=config.pool_size,
        # Each statement sees the latest commit: the lock-then-check steps rely on it.
        isolation_level="READ COMMITTED",
        connect_args={
            "connect_timeout": config.connect_timeout,
            "read_timeout": config.read_timeout,
            "write_timeout": config.read_timeout,
            "charset": "utf8mb4",
        },
    )
    ping_when_idle(engine)  # not before every checkout: a relay delivery makes two
    return KohaPatronStore(
        engine,
        backlink_code=mapping.backlink_field,
        create_key_code=config.create_key_attribute,
        lock_timeout=config.lock_timeout,
    )


BACKEND = Backend(NAME, KohaConfig, open_store)
