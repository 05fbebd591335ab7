"""The adapters benchmark's scratch installation: a Koha-shaped database on MariaDB
filled with synthetic patrons by one INSERT ... SELECT over MariaDB's sequence
engine, and a migrated identity database on PostgreSQL with CITY wired to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, create_engine, insert, make_url, text

from adapters.koha_sql import schema as koha
from idp import migrate
from idp.config_file import render_config, write_config
from idp.context import Context
from idp.schemas import LibraryIn
from idp.services import libraries
from idp.services.actor import Actor
from idp.services.library_adapters import set_adapter
from idp.settings import load_settings
from idp.synthetic import GIVEN_NAME_CHARACTERS, SURNAMES

CHUNK = 200_000  # rows per INSERT ... SELECT


@contextmanager
def scratch(server_url: str, prefix: str) -> Iterator[URL]:
    server = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    mysql = server.get_backend_name() == "mysql"
    quote = "`" if mysql else '"'
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {quote}{name}{quote}"))
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as conn:
            force = "" if mysql else " WITH (FORCE)"
            conn.execute(text(f"DROP DATABASE {quote}{name}{quote}{force}"))
        admin.dispose()


def _pick(values: list[str], expression: str) -> str:
    quoted = ", ".join("'" + v + "'" for v in values)
    return f"ELT(1 + ({expression}) % {len(values)}, {quoted})"


def fill_koha(url: URL, patrons: int) -> None:
    """``patrons`` adult borrowers, names and birth dates spread so that few share
    both (as in a real library), no back-links yet."""
    engine = create_engine(url)
    koha.metadata.create_all(engine)
    surnames = list(SURNAMES)
    given = list(GIVEN_NAME_CHARACTERS)
    with engine.begin() as conn:
        conn.execute(insert(koha.branches), [{"branchcode": "MAIN", "branchname": "Main"}])
        conn.execute(insert(koha.categories), [{"categorycode": "ADULT"}])
        conn.execute(insert(koha.borrower_attribute_types), [
            {"code": "READERPASS", "description": "Province reader id", "unique_id": 1},
            {"code": "RPCREATE", "description": "Province create key", "unique_id": 1}])
    for start in range(1, patrons + 1, CHUNK):
        end = min(patrons, start + CHUNK - 1)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO borrowers (borrowernumber, cardnumber, surname, firstname, "
                "dateofbirth, branchcode, categorycode, dateexpiry, gonenoaddress, lost) "
                f"SELECT seq, CONCAT('K', seq), {_pick(surnames, 'seq')}, "
                f"CONCAT({_pick(given, 'seq DIV 7')}, {_pick(given, 'seq DIV 1409')}), "
                "DATE_ADD('1945-01-01', INTERVAL (seq * 7919) % 21000 DAY), 'MAIN', 'ADULT', "
                f"'2031-12-31', 0, 0 FROM seq_{start}_to_{end}"))
    engine.dispose()


def koha_table(url: URL) -> dict[str, Any]:
    return {
        "backend": "koha_sql", "url": url.render_as_string(hide_password=False),
        "mapping": {"categories": {"adult": "ADULT"}, "default_branch": "MAIN",
                    "expiry": {"policy": "months_from_today", "months": 36},
                    "backlink_field": "READERPASS"},
    }


def identity(workdir: Path, database_url: str, koha_url: URL) -> Context:
    config = workdir / "readerpass.toml"
    write_config(config, render_config(province_code="BENCH", province_name="Bench",
                                       instance_dir=str(workdir), database_url=database_url,
                                       public_url="http://127.0.0.1", secure_cookies=False))
    ctx = Context.build(load_settings(config))
    migrate.upgrade(ctx.engine)
    actor = Actor.cli()
    with ctx.transaction() as session:
        for code, name in (("PROV", "Provincial Library"), ("CITY", "City Library")):
            libraries.add_library(session, LibraryIn(code=code, name=name), actor=actor,
                                  now=ctx.now())
        set_adapter(session, libraries.get_library(session, "CITY"), koha_table(koha_url),
                    actor=actor, now=ctx.now())
    return ctx
