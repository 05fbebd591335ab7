"""The runtime of one installation: settings plus everything built from them.

Built once by the app factory or the CLI and passed explicitly; there is no
module-level state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_session_factory
from .direct_read import ReadConnections
from .messaging import MessageSender, make_sender
from .pii import KeyedHasher, PiiCipher
from .relay.pool import AdapterPool
from .settings import Settings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    #: Connections threads keep for the hottest look-ups (idp.direct_read).
    reads: ReadConnections
    cipher: PiiCipher
    hasher: KeyedHasher
    passwords: PasswordHasher
    sender: MessageSender
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    #: Member libraries' adapters, opened on first use (idp.relay.pool).
    adapters: AdapterPool = field(default_factory=AdapterPool)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        sender: MessageSender | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> Context:
        engine = make_engine(
            settings.database_url,
            echo=settings.database.echo,
            pool_size=settings.database.pool_size,
        )
        security = settings.security
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            # Half the pool at most, so sessions always find connections.
            reads=ReadConnections(engine, limit=settings.database.pool_size // 2),
            cipher=PiiCipher(security.pii_keyring()),
            hasher=KeyedHasher(security.hash_key_bytes()),
            passwords=PasswordHasher(
                time_cost=security.argon2_time_cost, memory_cost=security.argon2_memory_kib
            ),
            sender=sender or make_sender(settings),
            clock=clock,
        )

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """Today's date where the province is (ages and expiry are local dates)."""
        return self.clock().astimezone(ZoneInfo(self.settings.province.timezone)).date()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error.

        Services may commit part of their work early (e.g. counting a failed
        attempt before raising); the session then simply begins anew.
        """
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.adapters.close()
        self.reads.close()
        self.engine.dispose()
