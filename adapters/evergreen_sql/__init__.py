"""Evergreen-shaped patron database on PostgreSQL (SQLAlchemy Core + psycopg 3)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine

from adapters.config import Table
from adapters.errors import ConfigError
from adapters.evergreen_sql.errors import NAME
from adapters.evergreen_sql.store import IDENT_PAIRS, EvergreenPatronStore, EvergreenSettings
from adapters.mapping import LibraryMapping
from adapters.registry import Backend
from adapters.sqltools import ping_when_idle

__all__ = ["BACKEND", "EvergreenConfig", "EvergreenPatronStore", "open_store"]


@dataclass(frozen=True)
class EvergreenConfig:
    """``url``: SQLAlchemy URL (``postgresql+psycopg://user@host/evergreen``).
    ``backlink_ident_type``: ``config.identification_type`` id marking the back-link;
    ``default_ident_type``: id new patrons get (Evergreen requires one);
    ``province_penalty``: ``config.standing_penalty`` id the province blocks with;
    ``create_key_setting``: ``actor.usr_setting`` name holding create keys.
    Timeouts are in seconds."""

    url: str
    backlink_ident_type: int
    default_ident_type: int
    province_penalty: int
    create_key_setting: str = "readerpass.create_key"
    connect_timeout: int = 5
    statement_timeout: int = 30
    lock_timeout: int = 10
    pool_size: int = 5

    @classmethod
    def from_table(cls, table: Table) -> EvergreenConfig:
        table.only(("url", "backlink_ident_type", "default_ident_type", "province_penalty",
                    "create_key_setting", "connect_timeout", "statement_timeout",
                    "lock_timeout", "pool_size"))
        url = table.text("url")
        if not url.startswith("postgresql+psycopg://"):
            raise ConfigError(table.key("url"), "must start with postgresql+psycopg://")
        config = cls(
            url=url,
            backlink_ident_type=table.integer("backlink_ident_type", minimum=1),
            default_ident_type=table.integer("default_ident_type", minimum=1),
            province_penalty=table.integer("province_penalty", minimum=1),
            create_key_setting=table.text("create_key_setting", cls.create_key_setting),
            connect_timeout=table.integer("connect_timeout", cls.connect_timeout, minimum=1),
            statement_timeout=table.integer("statement_timeout", cls.statement_timeout,
                                            minimum=1),
            lock_timeout=table.integer("lock_timeout", cls.lock_timeout, minimum=1),
            pool_size=table.integer("pool_size", cls.pool_size, minimum=1),
        )
        if config.lock_timeout >= config.statement_timeout:
            raise ConfigError(table.key("lock_timeout"), "must be below statement_timeout")
        return config


def open_store(config: EvergreenConfig, mapping: LibraryMapping) -> EvergreenPatronStore:
    if mapping.backlink_field not in IDENT_PAIRS:  # parse_adapter checked it for configs
        raise ConfigError("mapping.backlink_field", "not an identification column")
    engine = create_engine(
        config.url,
        pool_size=config.pool_size,
        connect_args={
            "connect_timeout": config.connect_timeout,
            # A server that stops answering must not hang the relay forever.
            "options": f"-c statement_timeout={config.statement_timeout * 1000}",
            "tcp_user_timeout": config.statement_timeout * 1000,
        },
    )
    ping_when_idle(engine)  # not before every checkout: a relay delivery makes two
    return EvergreenPatronStore(engine, EvergreenSettings(
        backlink_column=mapping.backlink_field,
        backlink_ident_type=config.backlink_ident_type,
        default_ident_type=config.default_ident_type,
        province_penalty=config.province_penalty,
        create_key_setting=config.create_key_setting,
        lock_timeout_ms=config.lock_timeout * 1000,
    ))


BACKEND = Backend(NAME, EvergreenConfig, open_store, backlink_fields=frozenset(IDENT_PAIRS))
