"""Fixtures for the identity service: every database test runs on SQLite and on
PostgreSQL. Each backend is migrated once into a template; each test gets a
fresh copy (a file copy, or CREATE DATABASE ... TEMPLATE)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from idp import migrate
from idp.app import create_app
from idp.config_file import new_key
from idp.context import Context
from idp.db import make_engine
from idp.schemas import LibraryIn
from idp.services import libraries, staff
from idp.services.actor import Actor
from idp.settings import Settings, parse_settings
from idp.synthetic import IdentityGenerator

START = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


class Clock:
    """A frozen clock tests move by hand (STYLE: pass time in, never sleep)."""

    def __init__(self, start: dt.datetime = START):
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> Iterator[str]:
    name = f"rp_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty identity database of each kind."""
    with fresh_database(request, request.param, tmp_path / "readerpass.db") as url:
        yield url


@contextmanager
def fresh_database(request: pytest.FixtureRequest, kind: str, path: Path) -> Iterator[str]:
    """Another migrated, empty database of ``kind`` (a copy of the template)."""
    if kind == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("postgres_template")
    name = f"rp_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def settings_data(database_url: str, instance: Path) -> dict[str, Any]:
    return {
        "instance_dir": str(instance),
        "province": {"code": "TEST", "name": "Test Province"},
        "database": {"url": database_url},
        "security": {
            "secret_key": "s" * 8 + new_key(),
            "pii_keys": [f"k1:{new_key()}"],
            "hash_key": new_key(),
            "session_cookie_secure": False,
            "argon2_memory_kib": 1024,
            "argon2_time_cost": 1,
        },
    }


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return parse_settings(settings_data(database_url, tmp_path), environ={})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = Context.build(settings, clock=clock)
    with context.transaction() as session:
        for code, name in (("PROV", "Provincial Library"), ("CITY", "City Library")):
            libraries.add_library(session, LibraryIn(code=code, name=name), actor=Actor.cli(),
                                  now=clock())
    yield context
    context.dispose()


@pytest.fixture
def app(ctx: Context) -> Any:
    application = create_app(context=ctx)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def admin_token(ctx: Context) -> str:
    with ctx.transaction() as session:
        return staff.create_token(session, ctx.hasher, "tester", actor=Actor.cli(), now=ctx.now())


@dataclass
class Api:
    """The staff API through Flask's test client, with a bearer token."""

    client: Any
    token: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self._headers(), **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=body, headers=self._headers(), **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Any:
        return self.client.patch(path, json=body, headers=self._headers(), **kw)


@pytest.fixture
def api(app: Any, admin_token: str) -> Api:
    return Api(app.test_client(), admin_token)


@pytest.fixture
def people() -> IdentityGenerator:
    return IdentityGenerator(7, today=START.date())


def registration(person: Any, **over: Any) -> dict[str, Any]:
    body = {
        "family_name": person.family_name,
        "given_name": person.given_name,
        "document_type": "resident_id",
        "document_number": person.resident_id,
        "mobile": person.mobile,
        "home_library": "PROV",
        "password": person.password,
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}
